"""Scenes built from real DICOM files the way Slicer's DICOM plugin builds them, and checks on what a save wrote.

Used by the tests, the demo and the benchmark. The DICOM files are the samples pydicom ships (CT_small.dcm and
MR_small.dcm, two synthetic patients); where they lack a value the anonymizer must handle (birth date, comments),
a synthetic value is set on the dataset in memory, never on disk.
"""

import atexit
import gzip
import io
import os
import re
import shutil
import tempfile
import xml.sax.saxutils
import zipfile
import zlib

import numpy as np
import pydicom
import slicer
import vtk
from pydicom.data import get_testdata_file
from vtk.util.numpy_support import numpy_to_vtk

SAMPLE_FILES = ("CT_small.dcm", "MR_small.dcm")
SYNTHETIC_VALUES = {
    "CT_small.dcm": {"PatientBirthDate": "19450302", "PatientComments": "Synthetic comment for CT1"},
    "MR_small.dcm": {"PatientBirthDate": "19600714", "SeriesDate": "20040827", "ContentDate": "20040828"},
}
SEQUENCE_FRAMES = 3

# slicer's module logics hold no reference from the scene: keep them alive as long as their scene.
_logics = {}
# The remote-data cache folders of the scenes made here: one folder for the process, removed when it ends (a test
# run makes hundreds of scenes).
_CACHE_ROOT = tempfile.mkdtemp(prefix="anonymizeonsave-cache-")
atexit.register(shutil.rmtree, _CACHE_ROOT, ignore_errors=True)


def newScene():
    """A scene set up for I/O as the Slicer application sets it up: MRB reading, segmentations, sequences, markups."""
    scene = slicer.vtkMRMLScene()
    cache = slicer.vtkCacheManager()
    cache.SetRemoteCacheDirectory(tempfile.mkdtemp(dir=_CACHE_ROOT))
    dataIO = slicer.vtkDataIOManager()
    dataIO.SetCacheManager(cache)
    scene.SetCacheManager(cache)
    scene.SetDataIOManager(dataIO)
    segmentations = slicer.vtkSlicerSegmentationsModuleLogic()
    segmentations.SetMRMLScene(scene)
    sequences = slicer.vtkSlicerSequencesLogic()
    sequences.SetMRMLScene(scene)
    selection = slicer.vtkMRMLSelectionNode()
    selection.SetSingletonTag("Singleton")  # what vtkMRMLApplicationLogic adds; the markups logic needs it
    scene.AddNode(selection)
    markups = slicer.vtkSlicerMarkupsLogic()  # registers the markups storage nodes (.mrk.json)
    markups.SetMRMLScene(scene)
    _logics[scene.__this__] = (segmentations, sequences, markups, dataIO, cache)
    return scene


def sequencesLogic(scene):
    return _logics[scene.__this__][1]


def fileValue(dataset, keyword):
    """The value as ctkDICOMDatabase::fileValue returns it: a string, empty when missing."""
    value = dataset.get(keyword)
    return "" if value is None else str(value)


def readDatasets(fileNames):
    datasets = []
    for fileName in fileNames:
        dataset = pydicom.dcmread(get_testdata_file(fileName))
        for keyword, value in SYNTHETIC_VALUES.get(fileName, {}).items():
            setattr(dataset, keyword, value)
        datasets.append(dataset)
    return datasets


def _imageFromDatasets(datasets):
    slices = sorted(datasets, key=lambda d: float(d.ImagePositionPatient[2]) if "ImagePositionPatient" in d else 0)
    voxels = np.stack([d.pixel_array for d in slices]).astype(np.int16)
    image = vtk.vtkImageData()
    image.SetDimensions(voxels.shape[2], voxels.shape[1], voxels.shape[0])
    image.GetPointData().SetScalars(numpy_to_vtk(voxels.ravel(), deep=True, array_type=vtk.VTK_SHORT))
    return image, slices[0]


def loadDicomSeries(
    scene, datasets, displayPatientID=True, displayPatientBirthDate=False, displayStudyID=False, displayStudyDate=True
):
    """A scalar volume from the datasets, with the subject hierarchy DICOMPlugin.addSeriesInSubjectHierarchy makes.

    The display* flags stand in for the subject hierarchy plugin handler's settings.
    """
    image, first = _imageFromDatasets(datasets)
    number, description = fileValue(first, "SeriesNumber"), fileValue(first, "SeriesDescription")
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", f"{number}: {description or 'Unnamed Series'}")
    volume.SetAndObserveImageData(image)
    spacing = [float(v) for v in first.get("PixelSpacing", [1, 1])]
    volume.SetSpacing(spacing[1], spacing[0], float(first.get("SliceThickness", 1) or 1))
    position = [float(v) for v in first.get("ImagePositionPatient", [0, 0, 0])]
    volume.SetOrigin(-position[0], -position[1], position[2])  # LPS to RAS
    volume.SetAttribute("DICOM.instanceUIDs", " ".join(fileValue(d, "SOPInstanceUID") for d in datasets))
    addSeriesInSubjectHierarchy(
        scene, datasets, volume, displayPatientID, displayPatientBirthDate, displayStudyID, displayStudyDate
    )
    return volume


def addSeriesInSubjectHierarchy(
    scene, datasets, dataNode, displayPatientID, displayPatientBirthDate, displayStudyID, displayStudyDate
):
    """What Slicer's DICOMPlugin.addSeriesInSubjectHierarchy does, with pydicom in place of the DICOM database."""
    first = datasets[0]
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    constants = slicer.vtkMRMLSubjectHierarchyConstants
    prefix = constants.GetDICOMAttributePrefix()
    seriesItem = sh.CreateItem(sh.GetSceneItemID(), dataNode)
    seriesUid = fileValue(first, "SeriesInstanceUID")
    sh.SetItemUID(seriesItem, constants.GetDICOMUIDName(), seriesUid)
    for attributeName, keyword in [
        (constants.GetDICOMSeriesModalityAttributeName(), "Modality"),
        (constants.GetDICOMSeriesNumberAttributeName(), "SeriesNumber"),
        (constants.GetDICOMFrameOfReferenceUIDAttributeName(), "FrameOfReferenceUID"),
        (prefix + "SeriesDescription", "SeriesDescription"),
        (prefix + "SeriesDate", "SeriesDate"),
        (prefix + "SeriesTime", "SeriesTime"),
        (prefix + "ContentDate", "ContentDate"),
        (prefix + "ContentTime", "ContentTime"),
        (prefix + "Manufacturer", "Manufacturer"),
        (prefix + "Model", "ManufacturerModelName"),
    ]:
        sh.SetItemAttribute(seriesItem, attributeName, fileValue(first, keyword))
    instanceUids = " ".join(fileValue(d, "SOPInstanceUID") or "Unknown" for d in datasets)
    sh.SetItemUID(seriesItem, constants.GetDICOMInstanceUIDName(), instanceUids)
    sh.SetItemAttribute(seriesItem, constants.GetDICOMReferencedInstanceUIDsAttributeName(), "")

    studyUid = fileValue(first, "StudyInstanceUID")
    patientId = fileValue(first, "PatientID") or "Patient-" + studyUid
    patientItem = sh.GetItemByUID(constants.GetDICOMUIDName(), patientId)
    studyItem = sh.GetItemByUID(constants.GetDICOMUIDName(), studyUid)
    slicer.vtkSlicerSubjectHierarchyModuleLogic.InsertDicomSeriesInHierarchy(sh, patientId, studyUid, seriesUid)
    if not patientItem:
        patientItem = sh.GetItemByUID(constants.GetDICOMUIDName(), patientId)
        patientName = fileValue(first, "PatientName") or "No name"
        birthDate = fileValue(first, "PatientBirthDate")
        sh.SetItemAttribute(patientItem, constants.GetDICOMPatientNameAttributeName(), patientName)
        sh.SetItemAttribute(patientItem, constants.GetDICOMPatientIDAttributeName(), patientId)
        sh.SetItemAttribute(patientItem, constants.GetDICOMPatientSexAttributeName(), fileValue(first, "PatientSex"))
        sh.SetItemAttribute(patientItem, constants.GetDICOMPatientBirthDateAttributeName(), birthDate)
        sh.SetItemAttribute(
            patientItem, constants.GetDICOMPatientCommentsAttributeName(), fileValue(first, "PatientComments")
        )
        name = patientName
        if displayPatientID:
            name += f" ({patientId})"
        if displayPatientBirthDate and birthDate:
            name += f" ({birthDate})"
        sh.SetItemName(patientItem, name)
    if not studyItem:
        studyItem = sh.GetItemByUID(constants.GetDICOMUIDName(), studyUid)
        description = fileValue(first, "StudyDescription") or "No study description"
        studyDate, studyId = fileValue(first, "StudyDate"), fileValue(first, "StudyID")
        sh.SetItemAttribute(studyItem, constants.GetDICOMStudyDescriptionAttributeName(), description)
        sh.SetItemAttribute(studyItem, constants.GetDICOMStudyInstanceUIDAttributeName(), studyUid)
        sh.SetItemAttribute(studyItem, constants.GetDICOMStudyIDAttributeName(), studyId)
        sh.SetItemAttribute(studyItem, constants.GetDICOMStudyDateAttributeName(), studyDate)
        sh.SetItemAttribute(studyItem, constants.GetDICOMStudyTimeAttributeName(), fileValue(first, "StudyTime"))
        name = description
        if displayStudyID:
            name += f" ({studyId})"
        if displayStudyDate and studyDate:
            name += f" ({studyDate})"
        sh.SetItemName(studyItem, name)
    return seriesItem


class SampleScene:
    """The scene buildSampleScene makes and what a test needs to know about it."""

    def __init__(self, scene):
        self.scene = scene
        self.volumes = []
        self.sequence = None
        self.segmentation = None
        self.phiValues = []


_PHI_KEYWORDS = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientComments",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "FrameOfReferenceUID",
    "StudyID",
    "StudyDate",
    "SeriesDate",
    "ContentDate",
)


def _phiValues(dataset):
    values = [fileValue(dataset, keyword) for keyword in _PHI_KEYWORDS]
    return [value for value in values if len(value) >= 4]


def buildSampleScene(scene=None):
    """Two patients from real DICOM files, a user-named volume, a volume sequence and a segmentation."""
    scene = scene or newScene()
    sample = SampleScene(scene)
    ct, mr = readDatasets(SAMPLE_FILES)
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    for dataset in (ct, mr):
        sample.volumes.append(loadDicomSeries(scene, [dataset]))
        sample.phiValues.extend(_phiValues(dataset))
    ctStudy = sh.GetItemParent(sh.GetItemByDataNode(sample.volumes[0]))
    mrStudy = sh.GetItemParent(sh.GetItemByDataNode(sample.volumes[1]))

    # A name a user typed, holding the patient ID.
    named = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", f"{fileValue(ct, 'PatientID')} arterial")
    named.SetAndObserveImageData(_imageFromDatasets([ct])[0])
    sh.CreateItem(ctStudy, named)
    sample.volumes.append(named)

    sample.sequence = _addVolumeSequence(scene, mr, mrStudy, sample.phiValues)
    sample.segmentation = _addSegmentation(scene, sample.volumes[0], ctStudy)
    # A scene's first Commit stamps the hierarchy with SubjectHierarchyVersion (Slicer's own save behaviour):
    # settle it, so that before/after comparisons see only what a save changes.
    sceneXml(scene)
    return sample


def _addVolumeSequence(scene, dataset, studyItem, phiValues):
    """A volume sequence whose every frame carries DICOM attributes, with a browser and proxy as Sequences makes."""
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "MR dynamic")
    sequence.SetIndexName("time")
    sequence.SetIndexUnit("s")
    image = _imageFromDatasets([dataset])[0]
    for frame in range(SEQUENCE_FRAMES):
        volume = slicer.vtkMRMLScalarVolumeNode()
        frameImage = vtk.vtkImageData()
        frameImage.DeepCopy(image)
        volume.SetAndObserveImageData(frameImage)
        uid = pydicom.uid.generate_uid(entropy_srcs=[fileValue(dataset, "SOPInstanceUID"), str(frame)])
        volume.SetAttribute("DICOM.instanceUIDs", uid)
        volume.SetAttribute("DICOM.PatientName", fileValue(dataset, "PatientName"))
        sequence.SetDataNodeAtValue(volume, str(frame))
        phiValues.append(uid)
    browser = scene.AddNewNodeByClass("vtkMRMLSequenceBrowserNode", "MR dynamic browser")
    browser.SetAndObserveMasterSequenceNodeID(sequence.GetID())
    sequencesLogic(scene).UpdateProxyNodesFromSequences(browser)
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    sh.CreateItem(studyItem, sequence)
    return sequence


def _addSegmentation(scene, volume, studyItem):
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Segmentation")
    segmentation.SetReferenceImageGeometryParameterFromVolumeNode(volume)
    labelmap = slicer.vtkOrientedImageData()
    labelmap.SetDimensions(16, 16, 1)
    labelmap.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 1)
    labelmap.GetPointData().GetScalars().Fill(0)
    for i in range(4, 12):
        for j in range(4, 12):
            labelmap.SetScalarComponentFromFloat(i, j, 0, 0, 1)
    segment = slicer.vtkSegment()
    segment.SetName("Lesion")
    segment.AddRepresentation(slicer.vtkSegmentationConverter.GetBinaryLabelmapRepresentationName(), labelmap)
    segmentation.GetSegmentation().AddSegment(segment)
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    sh.CreateItem(studyItem, segmentation)
    return segmentation


def addSingletonParameterNode(scene, tag):
    """A script's parameter node with a singleton tag: its node ID is the class name and the tag."""
    node = slicer.vtkMRMLScriptedModuleNode()
    node.SetSingletonTag(tag)
    scene.AddNode(node)
    return node


# --- what a save wrote ------------------------------------------------------------------------------------------


def _forms(value):
    forms = {value, xml.sax.saxutils.escape(value, {'"': "&quot;", "'": "&apos;"})}
    if "^" in value:
        forms.add(value.replace("^", " "))
    return [form.encode("utf-8") for form in forms]


def _nrrdBody(data):
    """The decompressed body of a gzip-encoded NRRD file, or None."""
    header, separator, body = data.partition(b"\n\n")
    if not separator or not header.startswith(b"NRRD") or b"encoding: gzip" not in header:
        return None
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body)
    except zlib.error:
        return zlib.decompress(body)


def _scanBytes(where, data, needles, findings):
    for index, forms in needles:
        if any(form in data for form in forms):
            findings.append((where, index))
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                for index, forms in needles:
                    if any(form in member.encode("utf-8") for form in forms):
                        findings.append((f"{where}!{member} (entry name)", index))
                _scanBytes(f"{where}!{member}", archive.read(member), needles, findings)
    elif data[:2] == b"\x1f\x8b":
        _scanBytes(f"{where} (gunzipped)", gzip.decompress(data), needles, findings)
    else:
        body = _nrrdBody(data)
        if body is not None:
            _scanBytes(f"{where} (nrrd body)", body, needles, findings)


def leakScan(path, values):
    """Where under path (file or folder) any of values appears: every byte, zip members, gzip'd bodies, file
    names; raw, XML-escaped, and for person names with spaces for ^. Findings name places and value indexes,
    never the values."""
    needles = [(index, _forms(value)) for index, value in enumerate(values)]
    findings = []
    files = [path] if os.path.isfile(path) else [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs]
    for fileName in files:
        for index, forms in needles:
            if any(form in os.path.relpath(fileName, os.path.dirname(path)).encode("utf-8") for form in forms):
                findings.append((f"{fileName} (file name)", index))
        with open(fileName, "rb") as stream:
            _scanBytes(fileName, stream.read(), needles, findings)
    return findings


# --- the live scene ---------------------------------------------------------------------------------------------


def normalizedItemIds(xml):
    """Subject hierarchy item IDs come from a process-wide counter: number them in order, to compare twins."""
    numbers = {}
    return re.sub(r'\b(id|parent)="(\d+)"', lambda m: f'{m[1]}="#{numbers.setdefault(m[2], len(numbers))}"', xml)


def sceneXml(scene):
    """The scene's MRML as a save would write it, without writing anything."""
    scene.SetSaveToXMLString(1)
    try:
        scene.Commit()
        return scene.GetSceneXMLString()
    finally:
        scene.SetSaveToXMLString(0)


def _nodeState(node):
    names = node.GetAttributeNames() or ()
    return (
        node.GetID(),
        node.GetClassName(),
        node.GetName(),
        node.GetDescription(),
        tuple(sorted((name, node.GetAttribute(name)) for name in names)),
    )


def sceneFingerprint(scene):
    """Everything that must be unchanged after a save: nodes (storage nodes apart), the hierarchy item by item
    with IDs, and the nodes inside sequences."""
    nodes = [scene.GetNthNode(i) for i in range(scene.GetNumberOfNodes())]
    state = {
        "nodes": tuple(_nodeState(n) for n in nodes if not n.IsA("vtkMRMLStorageNode")),
        # Slicer's bundle writer restores an unset file name as "": the same thing.
        "storageNodes": tuple((*_nodeState(n), n.GetFileName() or "") for n in nodes if n.IsA("vtkMRMLStorageNode")),
        "items": (),
        "sequences": (),
    }
    sh = scene.GetFirstNodeByClass("vtkMRMLSubjectHierarchyNode")
    if sh is not None:
        children = vtk.vtkIdList()
        sh.GetItemChildren(sh.GetSceneItemID(), children, True)
        items = []
        for item in (children.GetId(i) for i in range(children.GetNumberOfIds())):
            dataNode = sh.GetItemDataNode(item)
            items.append(
                (
                    item,
                    sh.GetItemParent(item),
                    sh.GetItemName(item),
                    sh.GetItemLevel(item),
                    dataNode.GetID() if dataNode else None,
                    tuple(sorted((n, sh.GetItemUID(item, n)) for n in sh.GetItemUIDNames(item))),
                    tuple(sorted((n, sh.GetItemAttribute(item, n)) for n in sh.GetItemAttributeNames(item))),
                )
            )
        state["items"] = tuple(items)
    sequences = []
    for node in nodes:
        if node.IsA("vtkMRMLSequenceNode"):
            frames = [node.GetNthDataNode(i) for i in range(node.GetNumberOfDataNodes())]
            sequences.append((node.GetID(), tuple(_nodeState(frame)[2:] for frame in frames)))
    state["sequences"] = tuple(sequences)
    return state


def savedState(scene):
    """What a save may leave changed: modified flags per node, reference geometry, owners, lookups by UID."""
    modified = vtk.vtkCollection()
    sceneModified = scene.GetModifiedSinceRead(modified)
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    children = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), children, True)
    items = [children.GetId(i) for i in range(children.GetNumberOfIds())]
    segmentations = scene.GetNodesByClass("vtkMRMLSegmentationNode")
    return {
        "sceneModified": sceneModified,
        "modifiedNodes": sorted(modified.GetItemAsObject(i).GetID() for i in range(modified.GetNumberOfItems())),
        "storableModified": sorted(
            node.GetID()
            for node in (scene.GetNthNode(i) for i in range(scene.GetNumberOfNodes()))
            if node.IsA("vtkMRMLStorableNode") and node.GetModifiedSinceRead()
        ),
        "geometry": [
            (
                segmentations.GetItemAsObject(i).GetName(),
                segmentations.GetItemAsObject(i).GetNodeReferenceID("referenceImageGeometryRef"),
            )
            for i in range(segmentations.GetNumberOfItems())
        ],
        "owners": [sh.GetItemOwnerPluginName(item) for item in items],
        "lookups": [
            sh.GetItemByUID(name, sh.GetItemUID(item, name)) == item
            for item in items
            for name in sh.GetItemUIDNames(item)
            if name == "DICOM"
        ],
    }


class LiveState:
    """Everything that must be unchanged after a save: names, attributes, sequence items, hierarchy, item IDs.

    Storage nodes that a save added (Slicer's MRB and bundle writers add default ones) do not count; those that
    were there before must be unchanged.
    """

    def __init__(self, scene):
        self.scene = scene
        self.state = sceneFingerprint(scene)
        self.storage = {node[0]: node for node in self.state.pop("storageNodes")}

    def differences(self):
        """What differs between the scene now and when this state was taken (empty when nothing)."""
        now = LiveState(self.scene)
        found = []
        for key, entries in self.state.items():
            found += [(key, was, new) for was, new in zip(entries, now.state[key]) if was != new]
            if len(entries) != len(now.state[key]):
                found.append((key, len(entries), len(now.state[key])))
        found += [
            ("storage", node, now.storage.get(key))
            for key, node in self.storage.items()
            if now.storage.get(key) != node
        ]
        return found


def useLiveMrmlPath(monkeypatch):
    """Make headless saves of .mrml files take the live design (strip, Commit, verify, restore) that the Save dialog
    and slicer.util.saveScene take; by itself saveScene writes a .mrml by string (mrmlString.py) when it can."""
    from AnonymizeOnSaveLib import sceneWriter

    monkeypatch.setattr(sceneWriter, "stringPathServes", lambda scene: False)
