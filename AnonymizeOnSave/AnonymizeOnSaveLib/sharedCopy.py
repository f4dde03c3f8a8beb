"""saveSharedCopy: an anonymized .mrb for sharing, written without touching the working scene's files or state.

A scene save moves the scene to what it wrote: it sets the scene's URL and root folder, adds storage nodes, and
stamps every node as saved. A copy for sharing must do none of that: afterwards the scene still points at the
user's working files, and what was unsaved is still unsaved (Slicer still asks to save it at exit).
"""

import vtk

from .policy import defaultPolicy
from .sceneWriter import saveScene
from .session import eventsHeld


class _WorkingState:
    """What a bundle save changes in the live scene, recorded so it can be put back."""

    def __init__(self, scene):
        self.scene = scene
        self.url, self.root = scene.GetURL(), scene.GetRootDirectory()
        self.nodes = [scene.GetNthNode(index) for index in range(scene.GetNumberOfNodes())]
        self.nodeIds = {node.GetID() for node in self.nodes}
        self.fileNames = {node.GetID(): _fileNames(node) for node in self.nodes if node.IsA("vtkMRMLStorageNode")}
        modified = vtk.vtkCollection()
        scene.GetModifiedSinceRead(modified)
        self.modified = [modified.GetItemAsObject(i) for i in range(modified.GetNumberOfItems())]
        self.storableModified = [
            node for node in self.nodes if node.IsA("vtkMRMLStorableNode") and node.GetModifiedSinceRead()
        ]

    def restore(self):
        scene = self.scene
        scene.SetURL(self.url)
        scene.SetRootDirectory(self.root)
        for node in [scene.GetNthNode(i) for i in range(scene.GetNumberOfNodes())]:
            if node.GetID() not in self.nodeIds:
                scene.RemoveNode(node)  # default storage nodes the bundle writer added
        # The writer stamped the scene as saved: stamp it again now (a Commit to a string writes nothing), put the
        # file names back without moving any modification time, then mark what was unsaved as unsaved again.
        scene.SetSaveToXMLString(1)
        try:
            scene.Commit()
        finally:
            scene.SetSaveToXMLString(0)
        storageNodes = [scene.GetNodeByID(nodeId) for nodeId in self.fileNames]
        with eventsHeld(storageNodes):
            for node in storageNodes:
                _setFileNames(node, self.fileNames[node.GetID()])
        for node in self.modified:
            node.Modified()
        for node in self.storableModified:  # writing the bundle stamped their storage nodes as saved
            node.StorableModified()


def _fileNames(node):
    return [node.GetNthFileName(i) for i in range(node.GetNumberOfFileNames())] + [node.GetFileName()]


def _setFileNames(node, names):
    if _fileNames(node) != names:
        *listed, fileName = names
        node.ResetFileNameList()
        node.SetFileName(fileName or "")  # unset and "" are the same (the bundle writer restores "")
        for name in listed:
            node.AddFileName(name)


def saveSharedCopy(scene, fileName, policy=None):
    """Write an anonymized, verified .mrb copy of scene to fileName; the scene keeps its URL, files and unsaved state.

    Returns True on success (the Report is lastReport(scene)); False with the cause logged, nothing written. The
    recognisers are on unless the policy turns them off: a copy leaves the user's hands.
    """
    if not str(fileName).lower().endswith(".mrb"):
        raise ValueError("a shared copy is a .mrb file")
    policy = (policy or defaultPolicy()).withRecognisers(True)
    state = _WorkingState(scene)
    try:
        return saveScene(scene, fileName, anonymize=True, policy=policy, markSaved=False)
    finally:
        state.restore()
