"""A sequence's index name and unit (NRRD ``labels:`` and ``units:`` fields of a .seq.nrrd) and a transform
sequence's MetaImage header (.seq.mha: frame fields named after the node, index values as timestamps) typed with
a patient's values: the anonymized save cleans them instead of refusing the scene, the file tool cleans a plain
save, and Slicer reads the sequences back."""

import os

import pytest
import slicer
import vtk
from dicomScenes import newScene
from hospitalScenes import PATIENTS, hospitalDatasets, leaks, loadScalarVolume

from AnonymizeOnSaveLib import Policy, saveScene
from AnonymizeOnSaveLib.sceneFiles import cleanPath, scanPath

PATIENT = PATIENTS[0]
FAMILY = PATIENT["PatientName"].split("^")[0]
VALUES = [PATIENT["PatientName"], FAMILY, PATIENT["PatientBirthDate"]]
POLICY = Policy(key="sequence-headers-key")
FORMATS = ["scene.mrb", "bundle"]


def _sequenceScene():
    scene = newScene()
    loadScalarVolume(scene, hospitalDatasets()[0], (True, False, False, True))
    tracking = scene.AddNewNodeByClass("vtkMRMLSequenceNode", f"Tracking {FAMILY}")
    tracking.SetIndexName(f"{FAMILY} visit")
    tracking.SetIndexUnit(f"days after {PATIENT['PatientBirthDate']}")
    for frame in range(3):
        transform = slicer.vtkMRMLLinearTransformNode()
        matrix = vtk.vtkMatrix4x4()
        matrix.SetElement(0, 3, frame)
        transform.SetMatrixTransformToParent(matrix)
        tracking.SetDataNodeAtValue(transform, str(frame))
    tracking.SetAndObserveStorageNodeID(scene.AddNewNodeByClass("vtkMRMLLinearTransformSequenceStorageNode").GetID())
    volumes = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "Perfusion")
    volumes.SetIndexName(f"time of {FAMILY}")
    volumes.SetIndexUnit(f"s {FAMILY}")
    for frame in range(2):
        image = vtk.vtkImageData()
        image.SetDimensions(3, 3, 2)
        image.AllocateScalars(vtk.VTK_SHORT, 1)
        volume = slicer.vtkMRMLScalarVolumeNode()
        volume.SetAndObserveImageData(image)
        volumes.SetDataNodeAtValue(volume, str(frame))
    volumes.SetAndObserveStorageNodeID(scene.AddNewNodeByClass("vtkMRMLVolumeSequenceStorageNode").GetID())
    return scene


@pytest.fixture(scope="module")
def saves(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sequences")
    plain, anonymized = _sequenceScene(), _sequenceScene()
    for name in FORMATS:
        assert saveScene(plain, str(folder / f"plain-{name}"), anonymize=False)
        assert saveScene(anonymized, str(folder / f"anonymized-{name}"), policy=POLICY)
    return folder


@pytest.mark.parametrize("name", FORMATS)
def test_the_plain_save_holds_the_values_in_both_sequence_headers(saves, name):
    places = {place for place, _ in leaks(str(saves / f"plain-{name}"), VALUES)}
    assert any(".seq.mha" in place for place in places) and any(".seq.nrrd" in place for place in places)


@pytest.mark.parametrize("name", FORMATS)
def test_an_anonymized_save_cleans_both_sequence_headers(saves, name):
    assert leaks(str(saves / f"anonymized-{name}"), VALUES) == []


@pytest.mark.parametrize("name", FORMATS)
def test_a_cleaned_plain_save_holds_none_and_slicer_reads_the_sequences_back(saves, tmp_path, name):
    cleaned = str(tmp_path / name)
    cleanPath(str(saves / f"plain-{name}"), cleaned, policy=POLICY)
    assert leaks(cleaned, VALUES) == []
    assert not scanPath(cleaned, POLICY)
    scene = newScene()
    if name.endswith(".mrb"):
        assert scene.ReadFromMRB(cleaned)
    else:
        (sceneFile,) = [name for name in os.listdir(cleaned) if name.endswith(".mrml")]
        scene.SetURL(os.path.join(cleaned, sceneFile))
        assert scene.Import()
    perfusion = scene.GetFirstNodeByName("Perfusion")
    assert perfusion.GetNumberOfDataNodes() == 2 and perfusion.GetIndexName().startswith("time of ANON^")
    tracking = [
        node
        for node in (scene.GetNthNode(i) for i in range(scene.GetNumberOfNodes()))
        if node.IsA("vtkMRMLSequenceNode") and node.GetName().startswith("Tracking")
    ]
    assert len(tracking) == 1 and tracking[0].GetNumberOfDataNodes() == 3
