"""A save that fails part-way (here a volume Slicer cannot write, as a full disk would stop it) after the data
files holding what users typed (a markups label with the patient's name) were written: nothing of it stays on
disk, neither in the folder the user picked for a directory bundle nor in the cache folder where Slicer stages an
.mrb, and the live scene is as it was."""

import os

import pytest
import vtk
from dicomScenes import SAMPLE_FILES, LiveState, buildSampleScene, fileValue, readDatasets
from hospitalScenes import leaks

from AnonymizeOnSaveLib import Policy, saveScene

POLICY = Policy(key="failed-save-key")


def _sceneThatFailsToSave():
    sample = buildSampleScene()
    scene = sample.scene
    name = fileValue(readDatasets(SAMPLE_FILES)[0], "PatientName")
    findings = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Findings")
    findings.AddControlPoint(vtk.vtkVector3d(1, 2, 3), f"{name} lesion")  # typed: cleaned only in what is written
    broken = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "Unwritable")
    broken.SetAndObserveImageData(vtk.vtkImageData())  # no scalars: the volume writer fails, after the markups
    broken.AddDefaultStorageNode()
    return scene, [name]


def _cacheFolder(scene):
    return scene.GetDataIOManager().GetCacheManager().GetRemoteCacheDirectory()


@pytest.mark.parametrize("existing", [False, True])
def test_a_failed_directory_bundle_leaves_nothing(tmp_path, existing):
    scene, values = _sceneThatFailsToSave()
    target = tmp_path / "bundle"
    if existing:
        target.mkdir()  # the empty folder the user picked
    before = LiveState(scene)
    assert not saveScene(scene, str(target), policy=POLICY)
    assert os.listdir(target) == [] if existing else not target.exists()
    assert before.differences() == []
    (tmp_path / "plain").mkdir()
    assert not scene.SaveSceneToSlicerDataBundleDirectory(str(tmp_path / "plain"))
    assert leaks(str(tmp_path / "plain"), values)  # Slicer's failed write leaves the typed name: not vacuous


def test_a_failed_bundle_leaves_nothing_in_the_cache_folder(tmp_path):
    scene, values = _sceneThatFailsToSave()
    cache = _cacheFolder(scene)
    staged = set(os.listdir(cache))
    before = LiveState(scene)
    assert not saveScene(scene, str(tmp_path / "scene.mrb"), policy=POLICY)
    assert set(os.listdir(cache)) == staged
    assert os.listdir(tmp_path) == []
    assert before.differences() == []
    scene.WriteToMRB(str(tmp_path / "plain.mrb"))  # Slicer's own failed write stages it there: not vacuous
    assert leaks(cache, values)


def test_the_message_of_a_failed_save_into_a_folder_named_after_the_patient_holds_no_patient_data(tmp_path, caplog):
    scene, values = _sceneThatFailsToSave()
    folder = tmp_path / f"case {values[0]}"
    folder.mkdir()
    assert not saveScene(scene, str(folder / "bundle"), policy=POLICY)
    assert "writing the bundle failed" in caplog.text
    assert values[0] not in caplog.text and values[0].split("^")[0] not in caplog.text
    caplog.clear()
    assert not saveScene(scene, str(folder / "plain"), anonymize=False)
    assert caplog.text.count(values[0]) > 1  # Slicer's own message quotes the path: the check above is not vacuous
