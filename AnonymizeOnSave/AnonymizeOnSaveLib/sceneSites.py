"""The PHI surfaces of a live MRML scene: every place Slicer keeps a value that a save writes to disk.

Each surface lists its values as planner Sites whose handle can read and write the value back, so a session can
snapshot, strip and restore them. Surfaces: subject hierarchy item attributes, item UIDs and item names; node
names, descriptions and attributes; storage node file names; scripted module parameters and the text of a text
node kept in the scene file; and all of these for the nodes inside sequences (written into .seq.nrrd headers and
.seq.mrb bundles).

What a storage node writes to its own file (markups points, segments, table cells, colour names, long text,
sequence index values) is not changed here: a storable node changed and put back stays "modified since read". A
save cleans those values in the bytes written, with the file tool's surfaces (dataFiles.py, nrrdHeader.py).
"""

import vtk

from . import profile
from .planner import ATTRIBUTE, DATA, TEXT, Site, isDicomPatient, itemSites, outsideContext, patientContext
from .policy import NO_PATIENT

# --- handles: how one value is read and written; None means absent. node: the MRML node the write changes ----


class _ItemAttribute:
    """readBack: whether a restore reads the value back to check it (a plain setter on a live object: no).
    get and put read and write a value of an item without a handle (kept item plans, sceneItemPlans.py)."""

    __slots__ = ("item", "name", "node")  # node: the subject hierarchy node
    readBack = False

    def __init__(self, sh, item, name):
        self.node, self.item, self.name = sh, item, name

    @staticmethod
    def get(sh, item, name):
        return sh.GetItemAttribute(item, name) if sh.HasItemAttribute(item, name) else None

    @staticmethod
    def put(sh, item, name, value):
        if value is None:
            sh.RemoveItemAttribute(item, name)
        else:
            sh.SetItemAttribute(item, name, value)

    def read(self):
        return self.get(self.node, self.item, self.name)

    def write(self, value):
        self.put(self.node, self.item, self.name, value)


class _ItemUid(_ItemAttribute):
    __slots__ = ()
    readBack = True  # removed, then set: checked

    @staticmethod
    def get(sh, item, name):
        return sh.GetItemUID(item, name) if sh.HasItemUID(item, name) else None

    @staticmethod
    def put(sh, item, name, value):
        # Remove first: replacing a UID makes VTK log a warning that quotes the old value.
        sh.RemoveItemUID(item, name)
        if value is not None:
            sh.SetItemUID(item, name, value)


class _ItemName(_ItemAttribute):
    __slots__ = ()

    def __init__(self, sh, item, name=None):
        super().__init__(sh, item, None)

    @staticmethod
    def get(sh, item, name=None):
        return sh.GetItemName(item)

    @staticmethod
    def put(sh, item, name, value):
        sh.SetItemName(item, value or "")


class _NodeAttribute:
    __slots__ = ("name", "node")
    readBack = False

    def __init__(self, node, name):
        self.node, self.name = node, name

    def read(self):
        return self.node.GetAttribute(self.name)

    def write(self, value):
        if value is None:
            self.node.RemoveAttribute(self.name)
        else:
            self.node.SetAttribute(self.name, value)


class _NodeProperty:
    """A string property with Get<name>/Set<name> (Name, Description, FileName)."""

    __slots__ = ("getter", "node", "readBack", "setter")

    def __init__(self, node, propertyName):
        self.readBack = propertyName == "FileName"  # Slicer's writers change file names: checked
        self.node = node
        self.getter = getattr(node, "Get" + propertyName)
        self.setter = getattr(node, "Set" + propertyName)

    def read(self):
        return self.getter()

    def write(self, value):
        self.setter(value)


class _ModuleParameter:
    __slots__ = ("name", "node")
    readBack = False

    def __init__(self, node, name):
        self.node, self.name = node, name

    def read(self):
        return self.node.GetParameter(self.name)

    def write(self, value):
        self.node.SetParameter(self.name, value or "")


class _StorageNthFileName:
    __slots__ = ("index", "node")

    def __init__(self, node, index):
        self.node, self.index = node, index

    def read(self):
        return self.node.GetNthFileName(self.index)

    def write(self, value):
        names = [self.node.GetNthFileName(i) for i in range(self.node.GetNumberOfFileNames())]
        names[self.index] = value or ""
        self.node.ResetFileNameList()
        for name in names:
            self.node.AddFileName(name)


# --- surfaces ------------------------------------------------------------------------------------------------


def subjectHierarchyNode(scene):
    """The scene's subject hierarchy node, or None; never creates one (that would change the scene)."""
    return scene.GetFirstNodeByClass("vtkMRMLSubjectHierarchyNode")


def _proxySequences(scene):
    """proxy node ID -> the sequence node a sequence browser shows in it."""
    found = {}
    browsers = scene.GetNodesByClass("vtkMRMLSequenceBrowserNode")
    for index in range(browsers.GetNumberOfItems()):
        browser = browsers.GetItemAsObject(index)
        sequences = vtk.vtkCollection()
        browser.GetSynchronizedSequenceNodes(sequences, True)
        for position in range(sequences.GetNumberOfItems()):
            sequence = sequences.GetItemAsObject(position)
            proxy = browser.GetProxyNode(sequence)
            if proxy is not None:
                found[proxy.GetID()] = sequence
    return found


class _ShItem:
    """The planner's view of a live subject hierarchy item; its values are read once."""

    def __init__(self, sh, item):
        self.sh, self.item = sh, item
        self.level = sh.GetItemLevel(item)
        self._values = None

    def values(self):
        """((name, value) of each attribute, (name, value) of each UID)."""
        if self._values is None:
            sh, item = self.sh, self.item  # the names come from the item: each value is read once, without Has...()
            attribute, uid = sh.GetItemAttribute, sh.GetItemUID
            self._values = (
                tuple([(name, attribute(item, name)) for name in sh.GetItemAttributeNames(item)]),
                tuple([(name, uid(item, name)) for name in sh.GetItemUIDNames(item)]),
            )
        return self._values

    def name(self):
        """The item's name, None for an item named after its data node."""
        return self.sh.GetItemName(self.item) if self.sh.GetItemDataNode(self.item) is None else None

    def attribute(self, name):
        return next((value for each, value in self.values()[0] if each == name), None)

    def uid(self, name):
        return next((value for each, value in self.values()[1] if each == name), None)

    def attributes(self):
        return [(name, value, _ItemAttribute(self.sh, self.item, name)) for name, value in self.values()[0]]

    def uids(self):
        return [(name, value, _ItemUid(self.sh, self.item, name)) for name, value in self.values()[1]]

    def attributeHandle(self, name):
        return _ItemAttribute(self.sh, self.item, name)

    def nameHandle(self):
        return _ItemName(self.sh, self.item) if self.sh.GetItemDataNode(self.item) is None else None


class _Hierarchy:
    """Reads the subject hierarchy once: items and each item's patient context."""

    def __init__(self, scene, sh):
        self.sh = sh
        self.proxySequences = _proxySequences(scene)
        self.items = []
        self._contexts = {}
        self.outsideContext = NO_PATIENT
        if sh is None:
            return
        children = vtk.vtkIdList()
        sh.GetItemChildren(sh.GetSceneItemID(), children, True)
        sceneItem = _ShItem(sh, sh.GetSceneItemID())
        self.items = [sceneItem] + [_ShItem(sh, children.GetId(i)) for i in range(children.GetNumberOfIds())]
        patients = [item.item for item in self.items if isDicomPatient(item)]
        self.outsideContext = outsideContext(sceneItem, [self.contextOf(patient) for patient in patients])

    def contextOf(self, item, level=None):
        """The patient context of an item ID (the item itself, or its ancestor at patient level); level: the item's,
        when known."""
        patient = None
        if item and item != self.sh.GetSceneItemID():  # the scene item has no ancestor (asking logs an error)
            isPatient = (level or self.sh.GetItemLevel(item)) == profile.PATIENT_LEVEL
            patient = item if isPatient else self.sh.GetItemAncestorAtLevel(item, profile.PATIENT_LEVEL)
        if not patient:
            return self.outsideContext
        if patient not in self._contexts:
            self._contexts[patient] = patientContext(_ShItem(self.sh, patient))
        return self._contexts[patient]

    def contextOfNode(self, node):
        if self.sh is None:
            return self.outsideContext
        item = self.sh.GetItemByDataNode(node)
        if not item and node.GetID() in self.proxySequences:
            # A browser's proxy node shows (and is refreshed from) its sequence's items: it is their patient's.
            item = self.sh.GetItemByDataNode(self.proxySequences[node.GetID()])
        return self.contextOf(item)


def _itemSites(hierarchy):
    for item in hierarchy.items:
        yield from itemSites(item, f"subject hierarchy item {item.item}", hierarchy.contextOf(item.item))


def _nodeSites(node, context):
    place = f"node {node.GetID()}"
    for propertyName in ("Name", "Description"):
        handle = _NodeProperty(node, propertyName)
        yield Site(TEXT, profile.FREE_TEXT, handle.read(), f"{place} {propertyName.lower()}", context, handle)
    for name in node.GetAttributeNames() or ():
        handle = _NodeAttribute(node, name)
        yield Site(ATTRIBUTE, name, handle.read(), f"{place} attribute {name}", context, handle)
    if node.IsA("vtkMRMLScriptedModuleNode"):
        for name in node.GetParameterNames():
            handle = _ModuleParameter(node, name)
            yield Site(DATA, profile.DATA_TEXT, handle.read(), f"{place} parameter {name}", context, handle)
    if node.IsA("vtkMRMLTextNode") and node.GetStorageNode() is None and not node.GetDefaultStorageNodeClassName():
        handle = _NodeProperty(node, "Text")  # short text, written into the scene file
        yield Site(DATA, profile.DATA_TEXT, handle.read(), f"{place} text", context, handle)
    if node.IsA("vtkMRMLStorageNode"):
        handle = _NodeProperty(node, "FileName")
        yield Site(TEXT, profile.FILE_NAMES, handle.read(), f"{place} file name", context, handle)
        for index in range(node.GetNumberOfFileNames()):
            handle = _StorageNthFileName(node, index)
            yield Site(TEXT, profile.FILE_NAMES, handle.read(), f"{place} file name {index + 1}", context, handle)


def _sceneNodeSites(scene, hierarchy, context=None):
    for index in range(scene.GetNumberOfNodes()):
        node = scene.GetNthNode(index)
        nodeContext = context if context is not None else hierarchy.contextOfNode(node)
        yield from _nodeSites(node, nodeContext)
        # A sequence's own scene holds one data node per item: their names and attributes reach .seq.nrrd
        # headers and .seq.mrb bundles. GetSequenceScene(False): reading must not create one.
        sequenceScene = node.GetSequenceScene(False) if node.IsA("vtkMRMLSequenceNode") else None
        if sequenceScene is not None:
            yield from _sceneNodeSites(sequenceScene, hierarchy, nodeContext)


def collectSites(scene):
    """Every value of the scene that a save can write, as Sites with read/write handles."""
    hierarchy = _Hierarchy(scene, subjectHierarchyNode(scene))
    return list(_itemSites(hierarchy)) + list(_sceneNodeSites(scene, hierarchy))


def sitesTheSceneFileLacks(scene):
    """Sites of what Commit does not write into a .mrml but a save may still write elsewhere or a user may have
    typed from: nodes not saved with the scene, and the data nodes of each sequence's own scene."""
    lacking = []  # (node, the scene of its sequence's data nodes or None)
    for index in range(scene.GetNumberOfNodes()):
        node = scene.GetNthNode(index)
        sequenceScene = node.GetSequenceScene(False) if node.IsA("vtkMRMLSequenceNode") else None
        if not node.GetSaveWithScene() or sequenceScene is not None:
            lacking.append((node, sequenceScene))
    if not lacking:
        return []
    hierarchy = _Hierarchy(scene, subjectHierarchyNode(scene))  # (read only when there is a context to give)
    sites = []
    for node, sequenceScene in lacking:
        context = hierarchy.contextOfNode(node)
        if not node.GetSaveWithScene():
            sites.extend(_nodeSites(node, context))
        if sequenceScene is not None:
            sites.extend(_sceneNodeSites(sequenceScene, hierarchy, context))
    return sites


def entryCounts(scene):
    """(attributes and UIDs of the subject hierarchy items, the scene item's included, and the characters of their
    names; the same of the attributes of the nodes saved with the scene), the copies scene views keep included
    (Commit writes them too). A name or value holding a separator Slicer writes unescaped reads back otherwise."""
    itemNames, nodeNames = [], []
    for each in [scene, *storedScenes(scene)]:
        sh = subjectHierarchyNode(each)
        if sh is not None:
            children = vtk.vtkIdList()
            sh.GetItemChildren(sh.GetSceneItemID(), children, True)
            ids = [sh.GetSceneItemID()] + [children.GetId(index) for index in range(children.GetNumberOfIds())]
            for item in ids:
                itemNames += sh.GetItemAttributeNames(item)
                itemNames += sh.GetItemUIDNames(item)
        for index in range(each.GetNumberOfNodes()):
            node = each.GetNthNode(index)
            if node.GetSaveWithScene():
                nodeNames += node.GetAttributeNames() or ()
    return len(itemNames), sum(map(len, itemNames)), len(nodeNames), sum(map(len, nodeNames))


def storedScenes(scene):
    """The scenes the scene's scene views keep (vtkMRMLSceneViewNode.GetStoredScene)."""
    views = scene.GetNodesByClass("vtkMRMLSceneViewNode")
    stored = [views.GetItemAsObject(index).GetStoredScene() for index in range(views.GetNumberOfItems())]
    return [view for view in stored if view is not None]
