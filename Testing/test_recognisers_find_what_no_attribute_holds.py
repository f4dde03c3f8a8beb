"""Values that are in no DICOM attribute of the scene, which PS3.15 and HIPAA Safe Harbor remove whoever typed them:
a surgery date in a markups description, a UID typed into a segment tag (TID 1500 TrackingUniqueIdentifier), a
phone number and an e-mail address in a text node. The recognisers (on for shared copies, scan and clean) find
any date, UID, e-mail address and phone number; years, versions, sizes, coordinates and measurements are left
alone, and real Slicer scene files (Testing/realScenes, from Slicer's own tests) are left exactly as they are."""

import glob
import io
import os

import pytest
import vtk
from dicomScenes import buildSampleScene
from hospitalScenes import leaks

from AnonymizeOnSaveLib import Policy, profile, saveScene, saveSharedCopy
from AnonymizeOnSaveLib.__main__ import main
from AnonymizeOnSaveLib.policy import NO_PATIENT, PatientContext
from AnonymizeOnSaveLib.recognisers import recognise
from AnonymizeOnSaveLib.sceneFiles import scanPath

POLICY = Policy(key="recognisers-key-long-enough")
SHIFTED = Policy(key="recognisers-key-long-enough", retain=[profile.LONGITUDINAL_DATES])
TYPED = {
    "surgery date": "2019-05-14",
    "tracking UID": "1.2.826.0.1.3680043.8.498.1234567890123",
    "phone": "+49 30 1234567",
    "e-mail": "jm@example.org",
}


@pytest.mark.parametrize(
    "written",
    [
        "1961-03-04",
        "1961-03-04T08:30",
        "19610304",
        "19610304083000",
        "04.03.1961",
        "4.3.1961",
        "03/04/1961",
        "4th March 1961",
        "March 4, 1961",
        "4. März 1961",
        "4 mars 1961",
        "4 de marzo de 1961",
        "4 maart 1961",
    ],
)
def test_any_date_is_recognised(written):
    assert recognise(f"seen {written} in clinic", POLICY, NO_PATIENT) == "seen [date] in clinic"


def test_a_recognised_date_is_shifted_by_the_patients_offset_under_longitudinal_dates():
    context = PatientContext("PID-1", None)
    iso, dicom = recognise("1961-03-04", SHIFTED, context), recognise("19610304", SHIFTED, context)
    assert iso != "1961-03-04" and len(iso) == 10 and iso.replace("-", "") == dicom
    assert recognise("4th March 1961", SHIFTED, context) == iso


def test_a_uid_with_a_leading_zero_arc_gets_the_uid_its_canonical_form_gets():
    plain = recognise("uid 1.2.840.113619.2.55.3.604688", POLICY, NO_PATIENT)
    assert plain.startswith("uid 2.25.") and recognise("uid 1.2.840.0113619.2.55.3.604688", POLICY, NO_PATIENT) == plain


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("call +49 30 1234567", "call [phone]"),
        ("call 0049 30 1234567", "call [phone]"),
        ("call 030 1234567", "call [phone]"),
        ("call (555) 123-4567", "call [phone]"),
        ("mail jm@example.org now", "mail [email] now"),
    ],
)
def test_phone_numbers_and_email_addresses_are_recognised(typed, expected):
    assert recognise(typed, POLICY, NO_PATIENT) == expected


@pytest.mark.parametrize(
    "text",
    [
        "year 2024",
        "Slicer 5.6.2",
        "version 1.2.3.4",
        "256x256x100 voxels",
        "12.5 ml",
        "at 12.5, -3.2, 40.1 mm",
        "matrix 0.00128407 0.0 -0.00341441 0.14896",
        "window 400 level 40",
        "ID 40718253",
        "2024 to 2025",
        "1/2 dose",
        "scale 1:250000",
    ],
)
def test_years_versions_sizes_coordinates_and_measurements_are_left_alone(text):
    assert recognise(text, POLICY, NO_PATIENT) == text


def _sceneWithTypedValues():
    sample = buildSampleScene()
    scene = sample.scene
    points = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Plan")
    points.AddControlPoint(vtk.vtkVector3d(1, 2, 3), "entry")
    points.SetNthControlPointDescription(0, f"Surgery on {TYPED['surgery date']}")
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Lesions")
    segmentation.GetSegmentation().AddEmptySegment("lesion", "lesion 1")
    segmentation.GetSegmentation().GetSegment("lesion").SetTag("TrackingUniqueIdentifier", TYPED["tracking UID"])
    scene.AddNewNodeByClass("vtkMRMLTextNode", "Contact").SetText(
        f"Referring office: {TYPED['phone']}, {TYPED['e-mail']}"
    )
    return scene


def test_a_shared_copy_holds_none_of_them_and_a_save_keeps_them_unless_asked(tmp_path):
    values = list(TYPED.values())
    assert saveSharedCopy(_sceneWithTypedValues(), str(tmp_path / "shared.mrb"), policy=POLICY)
    assert leaks(str(tmp_path / "shared.mrb"), values) == []
    assert saveScene(_sceneWithTypedValues(), str(tmp_path / "saved.mrb"), policy=POLICY)
    assert {index for _, index in leaks(str(tmp_path / "saved.mrb"), values)} == {0, 1, 2, 3}
    recognising = Policy(key="recognisers-key-long-enough", recognisers=True)
    assert saveScene(_sceneWithTypedValues(), str(tmp_path / "asked.mrb"), policy=recognising)
    assert leaks(str(tmp_path / "asked.mrb"), values) == []


def test_the_command_recognises_unless_told_not_to(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", "recognisers-key-long-enough")
    assert saveScene(_sceneWithTypedValues(), str(tmp_path / "plain.mrb"), anonymize=False)
    out, err = io.StringIO(), io.StringIO()
    assert main(["clean", str(tmp_path / "plain.mrb"), "-o", str(tmp_path / "clean.mrb")], out=out, err=err) == 0
    assert leaks(str(tmp_path / "clean.mrb"), list(TYPED.values())) == []
    arguments = ["clean", str(tmp_path / "plain.mrb"), "-o", str(tmp_path / "kept.mrb"), "--no-recognisers"]
    assert main(arguments, out=out, err=err) == 0
    assert {index for _, index in leaks(str(tmp_path / "kept.mrb"), list(TYPED.values()))} == {0, 1, 2, 3}


REAL_SCENES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "realScenes", "*.mrml")))


@pytest.mark.parametrize("path", REAL_SCENES, ids=os.path.basename)
def test_real_slicer_scene_files_give_the_recognisers_nothing_to_change(path):
    findings = scanPath(path, Policy(key="recognisers-key-long-enough", recognisers=True)).findings
    assert [finding.place for finding in findings if finding.category != profile.MARKERS] == []


def test_a_written_scene_the_recognisers_cannot_read_fails_the_check(tmp_path):
    """The search for known values passes a scene whose declared encoding the recognisers' scan refuses: not read
    is not clean, so with the recognisers on the output is removed."""
    from AnonymizeOnSaveLib.verify import VerificationError, verifyOutput

    text = '<?xml version="1.0" encoding="UTF-7"?>\n<MRML version="5">\n</MRML>\n'
    written = tmp_path / "shared.mrml"
    written.write_text(text)
    with pytest.raises(VerificationError, match="unreadable"):
        verifyOutput(str(written), [], Policy(key="recognisers-key-long-enough", recognisers=True))
    assert not written.exists()
    written.write_text(text)
    verifyOutput(str(written), [], POLICY)  # recognisers off: nothing asked the scan for
    assert written.exists()
