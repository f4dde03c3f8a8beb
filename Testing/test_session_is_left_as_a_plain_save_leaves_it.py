"""After an anonymized save the session is in the state a plain save leaves: modified-since-read flags, logics'
reactions, owner plugins, lookups by UID, and the events observers saw. Real MRML (slicer-core) with the
segmentations, sequences and markups logics attached (newScene), against a twin scene saved plainly."""

import os

import pytest
import slicer
import vtk
from dicomScenes import buildSampleScene, newScene, savedState

from AnonymizeOnSaveLib import Policy, anonymizedScene, saveScene

FORMATS = ["scene.mrml", "scene.mrb", "bundle"]
POLICY = Policy(key="state-key")


def _withUnreferencedSegmentation(sample):
    """A segmentation without reference geometry whose item references the CT series' instances, as the DICOM
    segmentation plugin leaves one before its referenced volume is loaded: the segmentations logic gives it the
    volume's geometry when it sees that series' UID added."""
    scene = sample.scene
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    series = sh.GetItemByDataNode(sample.volumes[0])
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Unreferenced")
    item = sh.CreateItem(sh.GetItemParent(series), segmentation)
    sh.SetItemAttribute(item, "DICOM.ReferencedInstanceUIDs", sh.GetItemUID(series, "DICOMInstanceUID"))
    fiducials = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "F")
    fiducials.AddControlPoint(1, 2, 3, "F-1")
    sh.CreateItem(sh.GetItemParent(series), fiducials)
    return segmentation


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
    assert savedState(anonymized.scene) == savedState(plain.scene)
    counters = {}
    for label, sample, options in (("a", anonymized, {"policy": POLICY}), ("p", plain, {"anonymize": False})):
        os.makedirs(tmp_path / label)
        counters[label] = _observed(sample.scene)
        assert saveScene(sample.scene, str(tmp_path / label / name), **options)
    assert savedState(anonymized.scene) == savedState(plain.scene)
    # Observers of the hierarchy and of every node saw what a plain save shows them: nothing of the strip/restore.
    assert [c.count for c in counters["a"]] == [c.count for c in counters["p"]]


def test_a_segmentation_gets_no_reference_geometry_from_an_anonymized_block(tmp_path):
    sample = buildSampleScene(newScene())
    segmentation = _withUnreferencedSegmentation(sample)
    before = savedState(sample.scene)
    with anonymizedScene(sample.scene, POLICY):
        pass
    assert segmentation.GetNodeReferenceID("referenceImageGeometryRef") is None
    assert savedState(sample.scene) == before
    # The logic does react to a real UID change: the check above is not vacuous.
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(sample.scene)
    series = sh.GetItemByDataNode(sample.volumes[0])
    uid = sh.GetItemUID(series, "DICOM")
    sh.RemoveItemUID(series, "DICOM")
    sh.SetItemUID(series, "DICOM", uid)
    assert segmentation.GetNodeReferenceID("referenceImageGeometryRef") is not None
