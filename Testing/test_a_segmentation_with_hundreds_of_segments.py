"""A whole-body segmentation (TotalSegmentator writes over a hundred segments) gives its .seg.nrrd a header of
hundreds of kilobytes, keys sorted, so a segment a user named after the patient can sit far past the first 64 KiB:
the check after the save must search the header to its end, clean it, and the save must say so truthfully."""

import pytest
from dicomScenes import newScene
from hospitalScenes import PATIENTS, hospitalDatasets, leaks, loadScalarVolume

from AnonymizeOnSaveLib import Policy, saveScene

SEGMENTS = 300
NAMED = 99  # NRRD writes keys sorted: "Segment99_..." comes near the end of the header


def _segmentationScene():
    scene = newScene()
    loadScalarVolume(scene, hospitalDatasets()[0], (True, False, False, True))
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Whole body")
    segmentation.CreateDefaultDisplayNodes()
    segments = segmentation.GetSegmentation()
    family = PATIENTS[0]["PatientName"].split("^")[0]
    for index in range(SEGMENTS):
        segments.AddEmptySegment(f"segment_{index}", f"{family} lesion" if index == NAMED else f"structure {index}")
    return scene, [PATIENTS[0]["PatientName"], family]


@pytest.mark.parametrize("name", ["scene.mrb", "bundle"])
def test_a_name_far_into_a_segmentation_header_is_cleaned(tmp_path, name):
    scene, values = _segmentationScene()
    plain = tmp_path / "plain"
    plain.mkdir()
    assert saveScene(scene, str(plain / name), anonymize=False)
    found = [place for place, _ in leaks(str(plain / name), values)]
    assert any(".seg.nrrd" in place for place in found)  # the oracle sees it: the check below is not vacuous

    assert saveScene(scene, str(tmp_path / name), policy=Policy(key="segments-key"))
    assert leaks(str(tmp_path / name), values) == []
    segment = scene.GetFirstNodeByClass("vtkMRMLSegmentationNode").GetSegmentation().GetSegment(f"segment_{NAMED}")
    assert segment.GetName() == f"{values[1]} lesion"  # the live segment keeps its name
