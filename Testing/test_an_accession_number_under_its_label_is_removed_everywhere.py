"""An identifier no DICOM attribute of the scene holds, written under its label: a table column named "MRN",
"Accession #" or "DOB" (as a study coordinator's spreadsheet has them), or "Accession #: A1234567" in a markups
description. Under the recognisers the labelled value gets its attribute's rule (PatientID: a keyed pseudonym;
AccessionNumber, birth date: removed), and is then replaced wherever else it was typed, even alone. Other columns
(measurements, segment names) and unlabelled numbers are left as they are."""

import sqlite3

import pytest
import vtk
from dicomScenes import buildSampleScene
from hospitalScenes import blobs, leaks

from AnonymizeOnSaveLib import Policy, profile, saveSharedCopy
from AnonymizeOnSaveLib.dataFiles import readDataFile
from AnonymizeOnSaveLib.policy import NO_PATIENT
from AnonymizeOnSaveLib.recognisers import recognise

POLICY = Policy(key="labelled-values-key-long-enough", recognisers=True)


@pytest.mark.parametrize(
    "written",
    [
        "MRN 40718253",
        "MRN: 40718253",
        "Accession #: A1234567",
        "accession number 2024-CT-0042",
        "Acc. No. 99887766",
        "Patient ID=77x91",
        "medical record no. 4071-8253",
        "NHS number 943 476 5919",
        "SSN 123-45-6789",
    ],
)
def test_an_identifier_after_its_label_is_recognised(written):
    label = written.split()[0]
    new = recognise(f"seen; {written}; reviewed", POLICY, NO_PATIENT)
    value = written.replace(":", " ").replace("=", " ").replace("#", " ").split(maxsplit=1)[1].split()[-1]
    assert new.startswith(f"seen; {label}") and new.endswith("; reviewed") and value not in new


@pytest.mark.parametrize("text", ["Patient number 3 slices", "MRN: see below", "accession pending", "ID 40718253"])
def test_a_label_without_an_identifier_after_it_is_left_alone(text):
    assert recognise(text, POLICY, NO_PATIENT) == text


def test_a_patient_id_under_its_label_gets_the_pseudonym_the_attribute_gets():
    assert recognise("MRN 40718253", POLICY, NO_PATIENT) == f"MRN {POLICY.pseudonyms.identifier('40718253')}"


TABLE = {"MRN": "40718253", "Accession #": "B2222222", "DOB": "04/03/1961", "Volume [cm3]": "12.5"}
DESCRIBED = "A7654321"


def _sceneWithASpreadsheet():
    scene = buildSampleScene().scene
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", "Cohort")
    for name in (*TABLE, "Segment"):
        column = vtk.vtkStringArray()
        column.SetName(name)
        table.AddColumn(column)
    table.AddEmptyRow()
    for index, value in enumerate([*TABLE.values(), "liver"]):
        table.SetCellText(0, index, value)
    points = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Findings")
    points.AddControlPoint(vtk.vtkVector3d(1, 2, 3), f"{DESCRIBED} lesion")  # typed alone, no label
    points.SetNthControlPointDescription(0, f"Accession #: {DESCRIBED} reviewed")
    scene.AddNewNodeByClass("vtkMRMLTextNode", "Note").SetText(f"Follow-up of {TABLE['Accession #']} and 40718253")
    return scene


def test_labelled_values_leave_no_byte_in_a_shared_copy_and_other_columns_stay(tmp_path):
    output = str(tmp_path / "shared.mrb")
    assert saveSharedCopy(_sceneWithASpreadsheet(), output, policy=POLICY)
    assert leaks(output, [TABLE["MRN"], TABLE["Accession #"], TABLE["DOB"], DESCRIBED]) == []
    (table,) = {text for place, text in blobs(output) if place.endswith("Cohort.tsv")}
    header, row = table.splitlines()[:2]
    cells = dict(zip(header.split("\t"), row.split("\t")))
    assert cells["Volume [cm3]"] == "12.5" and cells["Segment"] == "liver"
    assert cells["MRN"] == POLICY.pseudonyms.identifier(TABLE["MRN"])
    assert cells["Accession #"] == "[ID]" and cells["DOB"] == "[date]"


def test_without_the_recognisers_a_labelled_value_is_kept(tmp_path):
    output = str(tmp_path / "shared.mrb")
    policy = Policy(key="labelled-values-key-long-enough", recognisers=False)
    assert saveSharedCopy(_sceneWithASpreadsheet(), output, policy=policy)
    assert {index for _, index in leaks(output, [TABLE["Accession #"], DESCRIBED])} == {0, 1}


def test_a_sqlite_table_column_named_for_an_attribute_labels_its_cells(tmp_path):
    path = tmp_path / "cohort.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute('CREATE TABLE cohort ("AccessionNumber" TEXT, "Patient Name" TEXT, "volume" REAL)')
        connection.execute("INSERT INTO cohort VALUES ('B2222222', 'DOE^JANE', 12.5)")
    connection.close()
    sites = readDataFile("cohort.sqlite", path.read_bytes()).sites()
    labels = {site.value: site.source for site in sites}
    assert labels["B2222222"] == "AccessionNumber" and labels["DOE^JANE"] == "PatientName"
    assert profile.keywordForLabel("volume") is None
