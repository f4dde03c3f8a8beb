"""Seven patients with the names, IDs and descriptions real hospitals have, loaded as Slicer's DICOM plugins load
them, saved anonymized in the three formats: not one spelling of one value in any byte written."""

import os

import pytest
from dicomScenes import LiveState
from hospitalScenes import buildHospitalScene, leaks, slicerPercentEncode

from AnonymizeOnSaveLib import Policy, saveScene

FORMATS = ["scene.mrml", "scene.mrb", "bundle"]
POLICY = Policy(key="hospital-key")
# Patient ID, birth date, study ID and study date shown or not in item names (the plugin handler's settings).
DISPLAY_SETTINGS = [(True, False, False, True), (False, True, True, False), (True, True, True, True)]


@pytest.mark.parametrize("display", DISPLAY_SETTINGS, ids=["default", "inverted", "everything"])
@pytest.mark.parametrize("name", FORMATS)
def test_no_spelling_of_any_value_reaches_any_byte(tmp_path, name, display):
    scene, values = buildHospitalScene(display)
    os.makedirs(tmp_path / "plain")
    assert saveScene(scene, str(tmp_path / "plain" / name), anonymize=False)
    leaked = {index for _, index in leaks(str(tmp_path / "plain" / name), values)}
    assert len(leaked) == len(values), "the plain save must show every value, or the scan proves nothing"
    before = LiveState(scene)  # after Slicer's first Commit, which stamps the hierarchy's version
    target = str(tmp_path / name)
    assert saveScene(scene, target, policy=POLICY)
    found = leaks(target, values)
    assert found == [], [(place.replace(str(tmp_path), ""), index) for place, index in found]
    assert before.differences() == []


@pytest.mark.parametrize("name", ["scene.mrb", "bundle"])
def test_a_data_file_name_with_slicers_escapes_is_cleaned(tmp_path, name):
    """The Save dialog names files after nodes with Slicer's escapes ("M%ffc3%ffbcller"); the name stays on the
    storage node, and the next bundle save writes it again."""
    scene, values = buildHospitalScene()
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    storage = volume.CreateDefaultStorageNode()
    scene.AddNode(storage)
    volume.SetAndObserveStorageNodeID(storage.GetID())
    storage.SetFileName(str(tmp_path / (slicerPercentEncode("Müller-Lüdenscheidt José") + " arterial.nrrd")))
    assert saveScene(scene, str(tmp_path / name), policy=POLICY)
    assert leaks(str(tmp_path / name), values) == []
