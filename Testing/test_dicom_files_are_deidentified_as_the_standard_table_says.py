"""`slicer-scene-anonymizer dicom` on an archive as a PACS exports it (dicomArchive): every attribute gets the action
PS3.15 Table E.1-1 gives it (the oracle reads the table's data itself and allows each alternative a combined code
leaves), no value put in is in any byte written (leakOracle peels every layer), pixel data is byte-identical and
every output reads back; UIDs and patient IDs are the same across files and runs, two halves of the archive give
exactly the files one run gives, and a scene saved with the same key holds the same pseudonyms and UIDs."""

import csv
import io
import json
import os
import shutil

import pydicom
import pytest
from dicomArchive import KEY, phiValues, writeArchive
from dicomScenes import newScene
from hospitalScenes import hospitalDatasets, leaks, loadScalarVolume
from pydicom.data import get_testdata_file

from AnonymizeOnSaveLib import Policy, saveScene
from AnonymizeOnSaveLib.__main__ import main

TABLE = os.path.join(os.path.dirname(__file__), "..", "AnonymizeOnSave", "AnonymizeOnSaveLib", "dicom", "annexE.csv")


def _run(*arguments):
    out, err = io.StringIO(), io.StringIO()
    code = main(["dicom", *arguments], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    written = writeArchive(str(root / "in"))
    keyFile = root / "key"
    keyFile.write_text(KEY)
    code, out, err = _run(
        str(root / "in"),
        "-o",
        str(root / "out"),
        "--key-file",
        str(keyFile),
        "--json",
        "--crosswalk",
        str(root / "crosswalk"),
    )
    assert code == 0, err
    report = json.loads(out)
    return root, written, report, keyFile


def _samples(tmp_path, **files):
    """tmp_path/in holding pydicom's sample files under the names given (name=sample)."""
    source = tmp_path / "in"
    source.mkdir()
    for name, sample in files.items():
        shutil.copy(get_testdata_file(sample), source / name)
    return source


def _outputs(folder):
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(folder) for f in fs if f.endswith(".dcm"))


def _byInstance(outputs):
    """output dataset by the original SOP Instance UID it came from (through the crosswalk)."""
    return {str(pydicom.dcmread(path).SOPInstanceUID): path for path in outputs}


def _standardTable():
    """tag (int) -> the Basic Profile's code, read from the table's data alone."""
    table = {}
    with open(TABLE, encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(line for line in stream if not line.startswith("#")):
            tag = row["tag"].strip("()").replace(",", "")
            if len(tag) == 8 and "X" not in tag:
                table[int(tag, 16)] = row["basic"].replace("\\", "")
    return table


def _allowed(code, original, new):
    """Whether a written value is what one of the code's alternatives makes of the original (None: removed)."""
    outcomes = {
        "X": new is None,
        "Z": new is not None and (new == "" or new != original),  # empty, or a dummy consistent with the VR
        "D": new is not None and new != "" and new != original,
        "U": new is not None and all(uid.startswith("2.25.") for uid in new.split("\\")),
        "K": new == original,
        "C": new is not None,
    }
    return any(outcomes[alternative.rstrip("*")] for alternative in code.split("/"))


def _checkDataset(table, original, output):
    """Each listed attribute of a dataset, and of each item of a sequence kept with its items, against the table;
    returns how many were checked."""
    checked = 0
    for element in original:
        tag = int(element.tag)
        if element.tag.is_private or element.value in (None, ""):
            continue
        new = output.get(element.tag)
        if element.VR == "SQ":
            if new is not None and len(new.value) == len(element.value):  # walked item by item (not X, not Z)
                checked += sum(_checkDataset(table, a, b) for a, b in zip(element.value, new.value))
            continue
        if tag not in table:
            continue
        newText = None if new is None else "\\".join(map(str, new.value)) if new.VM > 1 else str(new.value or "")
        oldText = "\\".join(map(str, element.value)) if element.VM > 1 else str(element.value)
        assert _allowed(table[tag], oldText, newText), (element.keyword, table[tag])
        checked += 1
    return checked


def test_each_attribute_gets_the_action_the_standard_table_gives(archive):
    root, written, _, _ = archive
    table = _standardTable()
    crosswalk = dict(csv.reader(open(root / "crosswalk" / "uid_mapping.csv")))
    outputs = _byInstance(_outputs(root / "out"))
    checked = 0
    for original in written.values():
        output = pydicom.dcmread(outputs[crosswalk[str(original.SOPInstanceUID)]])
        checked += _checkDataset(table, original, output)
        assert not any(element.tag.is_private for element in output.iterall())  # Retain Safe Private is off
        assert (
            output.PatientIdentityRemoved == "YES"
            and output.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
        )
    assert checked > 100


def test_no_value_put_in_is_in_any_byte_written(archive):
    root, written, report, _ = archive
    assert report["cleaned"] == len(written) and report["errors"] == 0
    assert leaks(str(root / "out"), phiValues(written.values())) == []


def test_pixel_data_is_byte_identical_and_every_output_reads_back(archive):
    root, written, _, _ = archive
    crosswalk = dict(csv.reader(open(root / "crosswalk" / "uid_mapping.csv")))
    outputs = _byInstance(_outputs(root / "out"))
    for original in written.values():
        output = pydicom.dcmread(outputs[crosswalk[str(original.SOPInstanceUID)]])
        assert output.PixelData == original.PixelData
        assert output.file_meta.MediaStorageSOPInstanceUID == output.SOPInstanceUID


def test_uids_and_patient_ids_are_the_same_across_files_and_runs(archive, tmp_path):
    root, _, _, keyFile = archive
    patients = dict(csv.reader(open(root / "crosswalk" / "patid_mapping.csv")))
    for path in _outputs(root / "out"):
        output = pydicom.dcmread(path)
        assert output.ReferencedImageSequence[0].ReferencedSOPInstanceUID == output.SOPInstanceUID
        if output.PatientID:
            assert output.PatientID in patients.values() and path.split(os.sep)[-4] == output.PatientID
        else:  # a patient without ID keeps none (Z) and goes into one folder for them
            assert path.split(os.sep)[-4] == "NOID"
    code, _, _ = _run(str(root / "in"), "-o", str(tmp_path / "again"), "--key-file", str(keyFile), "--quiet")
    assert code == 0
    first, second = _outputs(root / "out"), _outputs(tmp_path / "again")
    assert [os.path.relpath(p, root / "out") for p in first] == [os.path.relpath(p, tmp_path / "again") for p in second]
    assert all(open(a, "rb").read() == open(b, "rb").read() for a, b in zip(first, second))


def test_the_crosswalk_maps_every_identifier_as_the_midi_b_validation_script_reads_it(archive):
    """CBIIT/MIDI_validation_script (modules/validation_helper.py) reads both files by their header, id_old and
    id_new, as text, the first row of an id_old kept, and maps each output's UIDs and patient ID back through them."""
    root, written, _, _ = archive
    maps = {}
    for name in ("uid_mapping.csv", "patid_mapping.csv"):
        with open(root / "crosswalk" / name, newline="", encoding="utf-8") as stream:
            reader = csv.DictReader(stream)
            rows = list(reader)
        assert reader.fieldnames == ["id_old", "id_new"] and rows
        assert len({row["id_old"] for row in rows}) == len(rows), "one row per original identifier"
        maps[name] = {row["id_new"]: row["id_old"] for row in rows}
    assert len(set(maps["uid_mapping.csv"].values())) == len(maps["uid_mapping.csv"]), "no two UIDs merged"
    originals = {str(dataset.SOPInstanceUID): dataset for dataset in written.values()}
    for path in _outputs(root / "out"):
        output = pydicom.dcmread(path)
        original = originals[maps["uid_mapping.csv"][output.SOPInstanceUID]]
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
            if keyword in original:
                assert maps["uid_mapping.csv"][output[keyword].value] == original[keyword].value
        if output.PatientID:
            assert maps["patid_mapping.csv"][output.PatientID] == original.PatientID


def test_two_halves_on_two_machines_give_exactly_the_files_one_run_gives(archive, tmp_path):
    root, _, _, keyFile = archive
    patients = sorted(os.listdir(root / "in"))
    halves = [patients[: len(patients) // 2], patients[len(patients) // 2 :]]
    for number, half in enumerate(halves):
        code, _, _ = _run(
            *[str(root / "in" / name) for name in half],
            "-o",
            str(tmp_path / f"half{number}"),
            "--key-file",
            str(keyFile),
            "--quiet",
            "--jobs",
            "2",
        )
        assert code == 0
    merged = {}
    for number in range(2):
        for path in _outputs(tmp_path / f"half{number}"):
            merged[os.path.relpath(path, tmp_path / f"half{number}")] = open(path, "rb").read()
    whole = {os.path.relpath(path, root / "out"): open(path, "rb").read() for path in _outputs(root / "out")}
    assert merged == whole


def test_a_scene_and_its_series_get_the_same_pseudonyms_and_uids_under_one_key(archive, tmp_path):
    root, written, _, _ = archive
    crosswalk = dict(csv.reader(open(root / "crosswalk" / "uid_mapping.csv")))
    for index in (0, 3):  # a patient with an ID, and one without (Slicer keys it on "Patient-<study UID>")
        dataset = hospitalDatasets()[index]
        scene = newScene()
        loadScalarVolume(scene, dataset, (True, False, False, True))
        assert saveScene(scene, str(tmp_path / f"scene{index}.mrml"), policy=Policy(key=KEY.encode()))
        text = (tmp_path / f"scene{index}.mrml").read_text()
        original = next(d for d in written.values() if str(d.SeriesInstanceUID) == str(dataset.SeriesInstanceUID))
        output = pydicom.dcmread(_byInstance(_outputs(root / "out"))[crosswalk[str(original.SOPInstanceUID)]])
        assert f'name="{output.PatientName}"' in text  # the patient item, named by the pseudonym
        for value in (output.StudyInstanceUID, output.SeriesInstanceUID, output.SOPInstanceUID):
            assert str(value) in text
        assert not output.PatientID or f"DICOM.PatientID^{output.PatientID}" in text


def test_damaged_files_a_dicomdir_and_other_files_are_reported_and_never_half_written(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    source = _samples(tmp_path, cut="MR_truncated.dcm", whole="CT_small.dcm")
    shutil.copy(os.path.join(os.path.dirname(get_testdata_file("CT_small.dcm")), "dicomdirtests", "DICOMDIR"), source)
    (source / "notes.txt").write_text("Doe John, see scan")
    code, out, err = _run(str(source), "-o", str(tmp_path / "out"), "--json")
    report = json.loads(out)
    assert code == 2 and report["cleaned"] == 1 and report["errors"] == 1 and report["skipped"] == 2
    assert "cut short" in err and "Traceback" not in err
    names = [name for _, _, files in os.walk(tmp_path / "out") for name in files]
    assert "INCOMPLETE.txt" in names and len(names) == 2 and not any("partial" in n for n in names)


def test_pixels_that_may_show_burnt_in_text_are_reported_not_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    source = _samples(tmp_path, capture="SC_rgb_small_odd.dcm", ct="CT_small.dcm")
    code, out, _ = _run(str(source), "-o", str(tmp_path / "out"), "--json")
    report = json.loads(out)
    assert code == 0 and report["pixelsNotChecked"] == 1
    assert [f["input"] for f in report["files"] if f.get("pixels") == "not checked"] == ["capture"]


def test_a_run_needs_a_key_and_the_crosswalk_stays_out_of_the_output(tmp_path, monkeypatch):
    monkeypatch.delenv("ANONYMIZE_ON_SAVE_KEY", raising=False)
    source = _samples(tmp_path, ct="CT_small.dcm")
    code, _, err = _run(str(source), "-o", str(tmp_path / "out"))
    assert code == 2 and "needs a key" in err and not (tmp_path / "out").exists()
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    code, _, err = _run(str(source), "-o", str(tmp_path / "out"), "--crosswalk", str(tmp_path / "out" / "map"))
    assert code == 2 and "outside the output folder" in err


def test_a_value_left_anywhere_fails_the_file_and_nothing_is_written(tmp_path, monkeypatch):
    """The check reads the written bytes back: a private element the walk failed to remove (a fault put in here)
    holds the patient's name, so the file is refused, and neither it nor a partial file is left."""
    from AnonymizeOnSaveLib.dicom import deidentifier
    from AnonymizeOnSaveLib.dicom.dicomFiles import DicomFileError, deidentifyFile, readDicom

    dataset = writeArchive(str(tmp_path / "in"))
    path = next(iter(dataset))
    monkeypatch.setattr(deidentifier.Deidentifier, "_remove", lambda self, data, element: self._found(element, ""))
    with pytest.raises(DicomFileError, match="patient data would remain in"):
        deidentifyFile(path, str(tmp_path / "out.dcm"), Policy(key=KEY.encode()), dataset=readDicom(path))
    assert os.listdir(tmp_path) == ["in"]


@pytest.mark.parametrize(
    "keyword, value",
    [("BodyPartExamined", "40718253"), ("AcquisitionNumber", "40718253"), ("ImageType", "DERIVED\\20200103")],
)
def test_an_id_or_a_date_in_a_coded_string_or_a_number_fails_the_file(tmp_path, monkeypatch, keyword, value):
    """Coded strings and numbers, which the table keeps, are searched too: the patient's ID typed into Body Part
    Examined or written as the Acquisition Number, the study date in Image Type."""
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    source = _samples(tmp_path, file="CT_small.dcm")
    dataset = pydicom.dcmread(source / "file")
    dataset.PatientID, dataset.StudyDate = "40718253", "20200103"
    setattr(dataset, keyword, value)
    dataset.save_as(source / "file")
    code, _, err = _run(str(source), "-o", str(tmp_path / "out"))
    assert code == 2 and f"patient data would remain in {keyword}" in err and "40718253" not in err
    assert not os.path.exists(tmp_path / "out") or not _outputs(tmp_path / "out")


def test_coded_terms_and_measurements_that_spell_a_value_are_not_taken_for_it(tmp_path, monkeypatch):
    """A series described "Whole Body" and Image Type's WHOLE BODY, a patient "named" CQ500-CT-310 and Modality CT,
    a patient ID 703125 and a pixel spacing of 0.703125: coded terms and decimals are kept and the file written."""
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    source = _samples(tmp_path, file="CT_small.dcm")
    dataset = pydicom.dcmread(source / "file")
    dataset.SeriesDescription, dataset.ImageType = "Whole Body", ["DERIVED", "PRIMARY", "WHOLE BODY"]
    dataset.PatientName, dataset.PatientID, dataset.PixelSpacing = "CQ500-CT-310", "703125", ["0.703125", "0.703125"]
    dataset.save_as(source / "file")
    code, out, err = _run(str(source), "-o", str(tmp_path / "out"), "--json")
    assert code == 0 and json.loads(out)["cleaned"] == 1, err
    (written,) = _outputs(tmp_path / "out")
    output = pydicom.dcmread(written)
    assert output.Modality == "CT" and "WHOLE BODY" in output.ImageType and output.PixelSpacing == [0.703125] * 2


def test_a_file_that_fails_is_named_masked_and_what_is_not_a_file_is_skipped(tmp_path, monkeypatch):
    """Found by an adversarial hunt: a file refused after it was read was named with its patient's name, ID and
    birth date (in a folder and file named after them) on stderr, in JSON and CSV; a link to nothing stopped the
    whole run; a named pipe hung it. Its values now mask its path; what is not a regular file is skipped."""
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    folder = tmp_path / "in" / "Quixworth_Ferdinand_PID778812"
    folder.mkdir(parents=True)
    dataset = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    dataset.PatientName, dataset.PatientID, dataset.PatientBirthDate = "Quixworth^Ferdinand", "PID778812", "19610405"
    dataset.add_new(0x00200099, "UN", b"PID778812")  # an element no rule reaches: the output check refuses the file
    dataset.save_as(folder / "Quixworth_19610405.dcm")
    shutil.copy(get_testdata_file("MR_small.dcm"), tmp_path / "in" / "ok.dcm")
    os.symlink(tmp_path / "nowhere", tmp_path / "in" / "dangling.dcm")
    os.mkfifo(tmp_path / "in" / "pipe")
    os.symlink(tmp_path, tmp_path / "in" / "linked folder")  # not followed (it could loop), listed as skipped
    code, out, err = _run(str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--json", "--csv", str(tmp_path / "r.csv"))
    report = json.loads(out)
    assert code == 2 and report["cleaned"] == 1 and report["skipped"] == 3 and report["errors"] == 1
    shown = err + out + (tmp_path / "r.csv").read_text()
    assert "patient data would remain in (0020,0099)" in err
    assert not any(value in shown for value in ("Quixworth", "Ferdinand", "PID778812", "19610405"))


def test_the_file_meta_addresses_of_sender_and_receiver_are_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    source = _samples(tmp_path, file="CT_small.dcm")
    dataset = pydicom.dcmread(source / "file")
    dataset.PatientID = "PID778812"
    dataset.file_meta.SourcePresentationAddress = "http://pacs/PID778812"
    dataset.save_as(source / "file")
    code, _, err = _run(str(source), "-o", str(tmp_path / "out"))
    (written,) = _outputs(tmp_path / "out")
    assert code == 0 and "SourcePresentationAddress" not in pydicom.dcmread(written).file_meta, err


def test_the_profile_document_lists_every_row_of_the_table_with_its_edition():
    document = open(os.path.join(os.path.dirname(TABLE), "..", "..", "..", "docs", "DeidentificationProfile.md")).read()
    with open(TABLE, encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(line for line in stream if not line.startswith("#")))
    assert len(rows) == 621 and all(
        f"| {row['tag']} | {row['basic'].replace('*', chr(92) + '*')} |" in document
        for row in rows  # * escaped
    )
    assert "PS3.15 Table E.1-1" in document and "Edition: **2024b**" in document


def test_the_scene_profile_agrees_with_the_standard_table_where_both_list_an_attribute():
    """Scenes and DICOM files share one policy: for every attribute the scene profile has a rule for and the table
    lists, the scene's code is one of the table's alternatives (a scene is no IOD: it may always remove); the rest
    are Slicer's own (kept technical values, markers) or stricter (device identity)."""
    from AnonymizeOnSaveLib import profile

    table = _standardTable()
    unlisted = set()
    for keyword, rule in profile.RULES.items():
        if not rule.tag.startswith("(") or "/" in rule.tag:
            continue
        code = table.get(int(rule.tag.strip("()").replace(",", ""), 16))
        if code is None:
            unlisted.add(keyword)
            continue
        assert rule.code in code.split("/"), (keyword, rule.code, code)
    kept = {keyword for keyword in unlisted if profile.RULES[keyword].code == "-"}
    stricter = {keyword for keyword in unlisted if profile.RULES[keyword].code == "X*"}
    assert unlisted - kept - stricter == set()


def test_pydicom_messages_quoting_values_never_reach_the_output(tmp_path):
    """pydicom warns about values invalid for their VR and quotes them (an ID typed into a UID, a long name): a run
    shows none of them, on stderr or in the log; and a dummy value that equals an original (a time of 000000) is no
    leak."""
    import subprocess
    import sys

    dataset = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    dataset.StudyInstanceUID = "1.2.840.DOEJOHN.4071"  # invalid for UI: pydicom's warning would quote it
    dataset.StudyTime, dataset.SeriesTime = "000000", "101500"  # the dummy time is also an original value
    (tmp_path / "in").mkdir()
    dataset.save_as(tmp_path / "in" / "odd", enforce_file_format=True)
    environment = {**os.environ, "PYTHONPATH": os.path.abspath("AnonymizeOnSave"), "ANONYMIZE_ON_SAVE_KEY": KEY}
    command = [sys.executable, "-W", "always", "-m", "AnonymizeOnSaveLib", "dicom", str(tmp_path / "in")]
    done = subprocess.run([*command, "-o", str(tmp_path / "out")], capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr
    assert "DOEJOHN" not in done.stderr + done.stdout and "Warning" not in done.stderr


@pytest.mark.parametrize(
    "name", ["SC_rgb_jpeg.dcm", "rtstruct.dcm", "ExplVR_BigEnd.dcm", "JPEG2000.dcm", "693_J2KI.dcm"]
)
def test_files_as_other_software_writes_them_are_deidentified(tmp_path, monkeypatch, name):
    """Implicit VR data under an explicit transfer syntax (as one writer made SC_rgb_jpeg.dcm), no preamble or file
    meta (rtstruct.dcm), big endian, compressed pixel data, a file another tool anonymized (693_J2KI.dcm: "ANON" in
    an ID this table removes, which this tool's own ANON^ pseudonyms must not be taken for): each is read,
    de-identified, checked and written."""
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    _samples(tmp_path, file=name)
    code, out, err = _run(str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--json")
    assert code == 0 and json.loads(out)["cleaned"] == 1, err
    (written,) = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path / "out") for f in fs]
    original, output = pydicom.dcmread(get_testdata_file(name), force=True), pydicom.dcmread(written)
    assert output.get("PixelData") == original.get("PixelData") and output.PatientIdentityRemoved == "YES"
