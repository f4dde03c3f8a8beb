"""Notes typed on several lines (a markups point description, a segment name, a segment tag) are written with
backslash escapes: JSON "\\n" and "\\t" in .mrk.json, teem's "\\n" in .seg.nrrd headers. The patient values on
those lines must be found and replaced as in one-line text (the escape letter is no part of the next word), by
the live save's check and by the file tool, and a backslash a user typed stays where it was."""

import pytest
import vtk
from dicomScenes import newScene
from hospitalScenes import PATIENTS, hospitalDatasets, leaks, loadScalarVolume

from AnonymizeOnSaveLib import Policy, saveScene
from AnonymizeOnSaveLib.nrrdHeader import escape, unescape
from AnonymizeOnSaveLib.sceneFiles import cleanPath

PATIENT = PATIENTS[2]  # O'Brien^Seán, IE-0088451, born 19820101
FAMILY = PATIENT["PatientName"].split("^")[0]
VALUES = [PATIENT["PatientID"], FAMILY, "01.01.1982"]


def _sceneWithNotes():
    scene = newScene()
    loadScalarVolume(scene, hospitalDatasets()[2], (True, False, False, True))
    findings = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Findings")
    findings.CreateDefaultDisplayNodes()
    findings.AddControlPoint(vtk.vtkVector3d(1, 2, 3), "lesion")
    findings.SetNthControlPointDescription(0, f"Findings:\n{VALUES[0]}\n{VALUES[2]}\tseen\n{FAMILY}\nC:\\notes")
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Segmentation")
    segmentation.CreateDefaultDisplayNodes()
    segments = segmentation.GetSegmentation()
    liver = segments.AddEmptySegment("liver", f"liver\n{VALUES[0]}")
    segments.GetSegment(liver).SetTag("Description", f"note\n{VALUES[2]}\n{FAMILY}")
    return scene


@pytest.mark.parametrize("name", ["scene.mrb", "bundle"])
def test_values_on_the_lines_of_a_note_are_replaced(tmp_path, name):
    scene = _sceneWithNotes()
    (tmp_path / "plain").mkdir()
    assert saveScene(scene, str(tmp_path / "plain" / name), anonymize=False)
    places = [place for place, _ in leaks(str(tmp_path / "plain" / name), VALUES)]
    assert any(".mrk.json" in place for place in places) and any(".seg.nrrd" in place for place in places)

    assert saveScene(scene, str(tmp_path / name), policy=Policy(key="notes-key"))
    assert leaks(str(tmp_path / name), VALUES) == []
    note = scene.GetFirstNodeByClass("vtkMRMLMarkupsFiducialNode").GetNthControlPointDescription(0)
    assert note.endswith("C:\\notes") and VALUES[0] in note  # the live note is as typed

    cleaned = tmp_path / f"cleaned-{name}"
    cleanPath(str(tmp_path / "plain" / name), str(cleaned), policy=Policy(key="notes-key"))  # values from the scene
    assert leaks(str(cleaned), VALUES) == []


def test_a_nrrd_value_is_read_as_typed_and_written_back_as_teem_writes_it():
    written = "line one\\nC:\\\\notes\\x"  # a line break, an escaped backslash, an escape teem does not write
    assert unescape(written) == "line one\nC:\\notes\\x"
    assert escape("line one\nC:\\notes") == "line one\\nC:\\\\notes"
    assert unescape(escape("a\\nb\nc")) == "a\\nb\nc"
