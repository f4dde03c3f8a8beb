"""The policy, the pseudonyms and the free-text matcher: pure Python, no scene."""

import datetime
import json
import pathlib
import re
import subprocess
import sys

import pytest

from AnonymizeOnSaveLib import PatientContext, Policy, PolicyError, profile
from AnonymizeOnSaveLib.phiText import PhiTextMatcher
from AnonymizeOnSaveLib.planner import ATTRIBUTE, TEXT, Site, planChanges
from AnonymizeOnSaveLib.pseudonyms import isPseudonymId, isPseudonymName

PATIENT = PatientContext("MRN0042", None)
IDENTITY_VALUES = [
    ("DICOM.PatientName", "DOE^JOHN"),
    ("DICOM.PatientID", "MRN0042"),
    ("DICOM.StudyInstanceUID", "1.2.3"),
]
UID_SYNTAX = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


def test_importing_the_package_does_not_import_slicer_or_vtk():
    code = "import sys, AnonymizeOnSaveLib; sys.exit(int('slicer' in sys.modules or 'vtk' in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": "AnonymizeOnSave"}, check=False)
    assert result.returncode == 0


def test_same_key_same_pseudonyms_other_key_other_pseudonyms():
    first, again, other = Policy(key="k1"), Policy(key="k1"), Policy(key="k2")
    for name, value in [
        ("DICOM.PatientName", "DOE^JOHN"),
        ("DICOM.PatientID", "MRN0042"),
        ("DICOM.instanceUIDs", "1.2.3 1.2.4"),
    ]:
        assert first.anonymizeAttribute(name, value, PATIENT) == again.anonymizeAttribute(name, value, PATIENT)
        assert first.anonymizeAttribute(name, value, PATIENT) != other.anonymizeAttribute(name, value, PATIENT)
        assert first.anonymizeAttribute(name, value, PATIENT) != value


def test_pseudonym_forms():
    policy = Policy(key="k")
    name = policy.anonymizeAttribute("DICOM.PatientName", "DOE^JOHN", PATIENT)
    identifier = policy.anonymizeAttribute("DICOM.PatientID", "MRN0042", PATIENT)
    assert isPseudonymName(name) and name.startswith("ANON^")
    assert isPseudonymId(identifier)
    # The name is keyed on the patient, so one patient keeps one pseudonym however the name is spelled.
    assert policy.anonymizeAttribute("DICOM.PatientName", "Doe^John^^^", PATIENT) == name


@pytest.mark.parametrize("uid", ["1.2.840.113619.2.1", "1.3.6.1.4.1.5962.1.1.0.0.0.1168612284.20369.0.1", "9"])
def test_uids_are_valid_2_25_uids_of_at_most_64_characters(uid):
    new = Policy(key="k").anonymizeItemUid("DICOM", uid)
    assert new.startswith("2.25.") and len(new) <= 64 and UID_SYNTAX.fullmatch(new)
    assert new != uid


def test_uid_lists_map_each_uid_as_a_single_uid_does():
    policy = Policy(key="k")
    mapped = policy.anonymizeAttribute("DICOM.instanceUIDs", "1.2.3 1.2.4", PATIENT).split(" ")
    assert mapped == [policy.anonymizeItemUid("DICOMInstanceUID", "1.2.3"), policy.anonymizeItemUid("DICOM", "1.2.4")]


def test_anonymizing_twice_changes_nothing():
    policy = Policy(key="k")
    for name, value in [
        ("DICOM.PatientName", "DOE^JOHN"),
        ("DICOM.PatientID", "X1"),
        ("DICOM.StudyInstanceUID", "1.2.3"),
    ]:
        once = policy.anonymizeAttribute(name, value, PATIENT)
        assert policy.anonymizeAttribute(name, once, PATIENT) == once


def test_basic_profile_actions():
    policy = Policy(key="k")
    assert policy.anonymizeAttribute("DICOM.PatientBirthDate", "19500101", PATIENT) == ""
    assert policy.anonymizeAttribute("DICOM.PatientSex", "F", PATIENT) == ""
    assert policy.anonymizeAttribute("DICOM.PatientComments", "call wife", PATIENT) is None
    assert policy.anonymizeAttribute("DICOM.StudyDate", "20200101", PATIENT) == ""
    assert policy.anonymizeAttribute("DICOM.SeriesDescription", "AX T1", PATIENT) is None
    assert policy.anonymizeAttribute("DICOM.Manufacturer", "ACME", PATIENT) is None
    assert policy.anonymizeAttribute("DICOM.Modality", "CT", PATIENT) == "CT"
    assert policy.anonymizeAttribute("DICOM.SeriesNumber", "3", PATIENT) == "3"
    assert policy.anonymizeAttribute("DICOM.SomethingNew", "value", PATIENT) is None  # unknown DICOM.* is PHI
    assert policy.anonymizeAttribute("Sequences.BaseName", "value", PATIENT) == "value"  # not DICOM: free text


@pytest.mark.parametrize(
    "option, name, value",
    [
        ("patientCharacteristics", "DICOM.PatientSex", "F"),
        ("patientCharacteristics", "DICOM.PatientAge", "042Y"),
        ("descriptions", "DICOM.StudyDescription", "CT CHEST"),
        ("descriptions", "DICOM.SeriesDescription", "AX T1"),
        ("deviceIdentity", "DICOM.Manufacturer", "ACME"),
        ("deviceIdentity", "DICOM.Model", "Scanner 3000"),
        ("uids", "DICOM.StudyInstanceUID", "1.2.3"),
        ("uids", "DICOM.instanceUIDs", "1.2.3 1.2.4"),
        ("longitudinalDates", "DICOM.StudyTime", "101500"),
    ],
)
def test_each_retain_option_keeps_its_values_and_only_those(option, name, value):
    assert Policy(key="k").anonymizeAttribute(name, value, PATIENT) != value
    retained = Policy(key="k", retain=[option])
    assert retained.anonymizeAttribute(name, value, PATIENT) == value
    assert retained.anonymizeAttribute("DICOM.PatientName", "DOE^JOHN", PATIENT) != "DOE^JOHN"


def test_longitudinal_dates_shift_per_patient_and_keep_intervals():
    policy = Policy(key="k", retain=["longitudinalDates"])
    first = policy.anonymizeAttribute("DICOM.StudyDate", "20200110", PATIENT)
    later = policy.anonymizeAttribute("DICOM.SeriesDate", "20200215", PATIENT)
    other = policy.anonymizeAttribute("DICOM.StudyDate", "20200110", PatientContext("MRN0043", None))
    assert first != "20200110" and other != first
    days = policy.pseudonyms.dateShiftDays("MRN0042")
    assert -3650 <= days <= -1

    def parse(text):
        return datetime.datetime.strptime(text, "%Y%m%d").date()

    assert (parse(later) - parse(first)).days == 36
    assert policy.anonymizeAttribute("DICOM.PatientBirthDate", "19500101", PATIENT) == ""  # never kept
    assert policy.anonymizeAttribute("DICOM.StudyDate", "not a date", PATIENT) == ""  # malformed: removed


def test_declared_deidentified_patients_are_not_shifted_twice():
    policy = Policy(key="k", retain=["longitudinalDates"])
    declared = Policy.declaredOptions("YES", policy.deidentificationMethod())
    assert declared == {"longitudinalDates"}
    assert policy.anonymizeAttribute("DICOM.StudyDate", "20100101", PatientContext("ANON1", declared)) == "20100101"
    assert Policy.declaredOptions("NO", policy.deidentificationMethod()) is None
    assert Policy.declaredOptions("YES", "some other tool") is None


def test_policy_json_round_trip_and_strictness():
    policy = Policy(key=b"secret", retain=["uids", "descriptions"])
    public = policy.toJSON()
    assert "secret" not in public and "736563726574" not in public  # neither the key nor its hex
    restored = Policy.fromJSON(policy.toJSON(includeKey=True))
    assert restored.retain == policy.retain and restored.keyId() == policy.keyId()
    assert restored.anonymizeAttribute("DICOM.PatientID", "X1") == policy.anonymizeAttribute("DICOM.PatientID", "X1")
    for bad in ['{"retain": ["nope"]}', '{"surprise": 1}', "[]", "not json", '{"profile": "full"}', '{"key": "zz"}']:
        with pytest.raises(PolicyError):
            Policy.fromJSON(bad)
    with pytest.raises(PolicyError):
        Policy(retain=["patientcharacteristics"])


def test_key_from_environment(monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", "from-env")
    assert Policy().keyId() == Policy(key="from-env").keyId()
    assert not Policy().keyIsEphemeral
    monkeypatch.delenv("ANONYMIZE_ON_SAVE_KEY")
    assert Policy().keyIsEphemeral and Policy().keyId() != Policy().keyId()


def test_matcher_finds_values_regardless_of_case_separators_and_order():
    matcher = PhiTextMatcher(
        [("DOE^JOHN", "ANON^X", profile.NAMES), ("MRN0042", "ANONY", profile.IDENTIFIERS), ("20200110", "", "dates")]
    )
    assert matcher.replace("john_doe MRN-0042 arterial 2020-01-10") == "ANON^X ANONY arterial [date]"
    assert matcher.replace("10.01.2020 Doe John") == "[date] ANON^X"
    assert not matcher.contains("arterial phase 3")
    assert matcher.replace("arterial phase 3") == "arterial phase 3"


def test_matcher_ignores_values_too_short_to_identify_anyone():
    matcher = PhiTextMatcher([("M", "", profile.CHARACTERISTICS), ("7", "ANONZ", profile.IDENTIFIERS)])
    assert not matcher and matcher.replace("Segment 7 M") == "Segment 7 M"


def test_planner_replaces_phi_in_free_text_and_reports_categories():
    sites = [
        Site(ATTRIBUTE, "DICOM.PatientID", "MRN0042", "item 1 attribute DICOM.PatientID", PATIENT),
        Site(TEXT, profile.FREE_TEXT, "MRN0042 arterial", "node 1 name"),
        Site(TEXT, profile.FILE_NAMES, "/data/MRN0042 arterial.nrrd", "node 2 file name"),
        Site(TEXT, profile.FREE_TEXT, "Segment_1", "node 3 name"),
    ]
    changes = {change.site.place: change for change in planChanges(sites, Policy(key="k"))}
    assert set(changes) == {"item 1 attribute DICOM.PatientID", "node 1 name", "node 2 file name"}
    pseudonym = changes["item 1 attribute DICOM.PatientID"].value
    assert changes["node 1 name"].value == pseudonym + " arterial"
    assert changes["node 2 file name"].value == f"/data/{pseudonym} arterial.nrrd"
    assert changes["node 2 file name"].category == profile.FILE_NAMES
    assert changes["node 1 name"].category == profile.FREE_TEXT
    assert all("MRN0042" not in change.site.place for change in changes.values())


def test_the_profile_document_matches_the_rules_the_code_applies():
    text = pathlib.Path("docs/DeidentificationProfile.md").read_text(encoding="utf-8")
    documented = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`DICOM."):
            documented[cells[0].strip("`")[len("DICOM.") :]] = cells[1:]
    assert set(documented) == set(profile.RULES)
    for name, rule in profile.RULES.items():
        retained = ", ".join(f"{option}: {action}" for option, action in rule.retained.items()) or "—"
        assert documented[name] == [rule.tag, rule.code, rule.category, rule.action, retained], name


def test_audit_record_masks_phi_in_the_path_and_never_holds_the_key(tmp_path):
    from AnonymizeOnSaveLib import Report, appendAuditRecord

    policy = Policy(key="secret-key", retain=["uids"])
    matcher = PhiTextMatcher([("MRN0042", "ANONX", profile.IDENTIFIERS)])
    log = tmp_path / "audit" / "audit.jsonl"
    report = Report({profile.NAMES: 1, profile.UIDS: 3})
    appendAuditRecord("/shared/MRN0042/scene.mrb", policy, report, matcher, auditFile=str(log))
    appendAuditRecord("/shared/other.mrb", policy, report, None, auditFile=str(log))
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["output"] == "/shared/ANONX/scene.mrb"
    assert first["counts"] == {"names": 1, "uids": 3}
    assert first["policy"]["retain"] == ["uids"] and first["policy"]["keyId"] == policy.keyId()
    assert "MRN0042" not in lines[0] and "secret-key" not in log.read_text(encoding="utf-8")
    assert set(first) == {"time", "output", "policy", "counts"}
