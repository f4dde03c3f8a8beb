"""After an anonymized save the session is in the state a plain save leaves: modified-since-read flags, logics'
reactions, owner plugins, lookups by UID, and the events observers saw. Real MRML (slicer-core) with the
segmentations, sequences and markups logics attached, against a twin scene saved plainly."""

import os

import pytest
import slicer
import vtk
from dicomScenes import _logics, buildSampleScene, newScene

from AnonymizeOnSaveLib import Policy, anonymizedScene, saveScene

FORMATS = ["scene.mrml", "scene.mrb", "bundle"]
POLICY = Policy(key="state-key")


def _withUnreferencedSegmentation(sample):
    """A segmentation without reference geometry whose item references the CT series' instances, as the DICOM
    segmentation plugin leaves one before its referenced volume is loaded: the segmentations logic gives it the
    volume's geometry when it sees that series' UID added."""
    scene = sample.scene
    selection = slicer.vtkMRMLSelectionNode()
    selection.SetSingletonTag("Singleton")  # what vtkMRMLApplicationLogic adds to Slicer's scene
    scene.AddNode(selection)
    markups = slicer.vtkSlicerMarkupsLogic()
    markups.SetMRMLScene(scene)
    _logics[scene.__this__] += (markups,)
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    series = sh.GetItemByDataNode(sample.volumes[0])
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Unreferenced")
    item = sh.CreateItem(sh.GetItemParent(series), segmentation)
    sh.SetItemAttribute(item, "DICOM.ReferencedInstanceUIDs", sh.GetItemUID(series, "DICOMInstanceUID"))
    fiducials = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "F")
    fiducials.AddControlPoint(1, 2, 3, "F-1")
    sh.CreateItem(sh.GetItemParent(series), fiducials)
    return segmentation


def _state(scene):
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


class EventCounter:
    def __init__(self, objects):
        self.count = 0
        self.nullItemEvents = 0
        for observed in objects:
            observed.AddObserver(vtk.vtkCommand.AnyEvent, self)

    def __call__(self, caller, event):
        self.count += 1


def _observed(scene):
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    nodes = [scene.GetNthNode(i) for i in range(scene.GetNumberOfNodes())]
    return EventCounter([sh]), EventCounter(nodes)


@pytest.mark.parametrize("name", FORMATS)
def test_an_anonymized_save_leaves_the_state_a_plain_save_leaves(tmp_path, name):
    anonymized, plain = buildSampleScene(newScene()), buildSampleScene(newScene())
    for sample in (anonymized, plain):
        _withUnreferencedSegmentation(sample)
    assert _state(anonymized.scene) == _state(plain.scene)
    counters = {}
    for label, sample, options in (("a", anonymized, {"policy": POLICY}), ("p", plain, {"anonymize": False})):
        os.makedirs(tmp_path / label)
        counters[label] = _observed(sample.scene)
        assert saveScene(sample.scene, str(tmp_path / label / name), **options)
    assert _state(anonymized.scene) == _state(plain.scene)
    # Observers of the hierarchy and of every node saw what a plain save shows them: nothing of the strip/restore.
    assert [c.count for c in counters["a"]] == [c.count for c in counters["p"]]


def test_a_segmentation_gets_no_reference_geometry_from_an_anonymized_block(tmp_path):
    sample = buildSampleScene(newScene())
    segmentation = _withUnreferencedSegmentation(sample)
    before = _state(sample.scene)
    with anonymizedScene(sample.scene, POLICY):
        pass
    assert segmentation.GetNodeReferenceID("referenceImageGeometryRef") is None
    assert _state(sample.scene) == before
    # The logic does react to a real UID change: the check above is not vacuous.
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(sample.scene)
    series = sh.GetItemByDataNode(sample.volumes[0])
    uid = sh.GetItemUID(series, "DICOM")
    sh.RemoveItemUID(series, "DICOM")
    sh.SetItemUID(series, "DICOM", uid)
    assert segmentation.GetNodeReferenceID("referenceImageGeometryRef") is not None
