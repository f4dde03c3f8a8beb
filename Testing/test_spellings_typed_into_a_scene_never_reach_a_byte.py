"""A loaded patient's values typed into node names, markups, a text node and a table the way people and software
write them (transliterated, with letters dropped as Slicer's Save dialog drops them, glued to other words, with
invisible characters or entities inside, dates as date-times and with ordinals or month names, IDs with separators
added or glued to a prefix): an anonymized save in each format holds none of them in any byte, by an oracle that
spells the values with its own tables (hospitalScenes.spellings), and finds them all in the plain save."""

import pytest
import vtk
from dicomScenes import newScene
from hospitalScenes import PATIENTS, hospitalDatasets, leaks, loadScalarVolume

from AnonymizeOnSaveLib import Policy, saveScene

PATIENT = PATIENTS[0]  # Müller-Lüdenscheidt^José^María, MRN-004217, born 19450302
VALUES = [PATIENT["PatientName"], "Müller-Lüdenscheidt", PATIENT["PatientID"], PATIENT["PatientBirthDate"]]
TYPED = {
    "transliterated": "MUELLER-LUEDENSCHEIDT Jose",
    "dropped letters": "Mller-Ldenscheidt Jos Mara",
    "glued": "TinyMuellerLuedenscheidtCT",
    "soft hyphen": "Mül\u00adler-Lüden\u00adscheidt",
    "date-time": "scanned 19450302083000",
    "ISO date-time": "born 1945-03-02T06:15",
    "ordinal": "born 2nd March 1945",
    "German month": "geboren am 2. März 1945",
    "ID with separators": "MRN 004-217",
    "ID glued": "chartMRN004217",
}


def _scene():
    scene = newScene()
    loadScalarVolume(scene, hospitalDatasets()[0], (True, False, False, True))
    points = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Findings")
    for index, typed in enumerate(TYPED.values()):
        points.AddControlPoint(vtk.vtkVector3d(index, 0, 0), typed)
        points.SetNthControlPointDescription(index, f"note: {typed}")
    scene.AddNewNodeByClass("vtkMRMLTextNode", "Letter").SetText(
        "Dear colleague, M&uuml;ller-L&uuml;denscheidt (MRN&#8209;004217) was seen. " + " / ".join(TYPED.values())
    )
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", "Spellings")
    column = table.AddColumn()
    column.SetName("Typed")
    for row, typed in enumerate(TYPED.values()):
        table.AddEmptyRow()
        table.SetCellText(row, 0, typed)
    scene.AddNewNodeByClass("vtkMRMLModelNode", f"{TYPED['glued']} surface")
    return scene


@pytest.mark.parametrize("name", ["scene.mrb", "bundle", "scene.mrml"])
def test_no_spelling_typed_anywhere_reaches_a_byte_written(tmp_path, name):
    (tmp_path / "plain").mkdir()
    (tmp_path / "anonymized").mkdir()
    assert saveScene(_scene(), str(tmp_path / "plain" / name), anonymize=False)
    assert leaks(str(tmp_path / "plain" / name), VALUES)  # the oracle sees them: the check below is not vacuous
    assert saveScene(_scene(), str(tmp_path / "anonymized" / name), policy=Policy(key="spellings-key"))
    assert leaks(str(tmp_path / "anonymized" / name), VALUES) == []
