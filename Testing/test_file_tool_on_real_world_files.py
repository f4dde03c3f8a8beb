"""The file tool on what real-world scene files contain: scene views and repeated ids, other encodings, duplicate
zip entries, entity declarations, zip comments, several files at once, closed pipes, no key."""

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib

import pytest

from AnonymizeOnSaveLib.__main__ import main
from AnonymizeOnSaveLib.sceneFiles import SceneFileError, cleanPath, scanPath
from AnonymizeOnSaveLib.verify import search

NAME, PID, UID = "DOE^JOHN", "MRN0042", "1.2.840.113619.2.55.3.6046881.969"
ITEM = (
    f'<SubjectHierarchyItem id="6" name="{NAME} ({PID})" parent="3" type="DICOM" uids="DICOM^{PID}|" '
    f'attributes="DICOM.PatientID^{PID}|DICOM.PatientName^{NAME}|Level^Patient|">'
    f'<SubjectHierarchyItem id="7" name="Study" parent="6" uids="DICOM^{UID}|" '
    f'attributes="DICOM.StudyInstanceUID^{UID}|Level^Study|"></SubjectHierarchyItem></SubjectHierarchyItem>'
)


def _scene(items=ITEM, extra="", head='<?xml version="1.0" encoding="UTF-8"?>\n'):
    return (
        f'{head}<MRML version="5">\n<SubjectHierarchy id="vtkMRMLSubjectHierarchyNode1" name="SubjectHierarchy">'
        f'<SubjectHierarchyItem id="3" name="Scene" parent="0" attributes="Level^Scene|">{items}'
        f"</SubjectHierarchyItem></SubjectHierarchy>\n{extra}</MRML>\n"
    )


@pytest.fixture(autouse=True)
def _aKey(monkeypatch):
    """Every run here has a key (a run without one, or with a weak one, warns: test_the_command_warns_...)."""
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", "a-test-key-long-enough")


def _run(arguments):
    out, err = io.StringIO(), io.StringIO()
    return main(arguments, out=out, err=err), out.getvalue(), err.getvalue()


def _holds(path, *values):
    data = open(path, "rb").read() if os.path.isfile(path) else b""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            data = b"".join(archive.read(info) for info in archive.infolist()) + archive.comment
    return [value for value in values if value.encode() in data]


def test_every_element_is_cleaned_whatever_its_id_scene_views_and_repeated_ids(tmp_path):
    sceneView = (
        '<SceneView id="vtkMRMLSceneViewNode1" name="View"><SubjectHierarchy id="vtkMRMLSubjectHierarchyNode1">'
        f"{ITEM}</SubjectHierarchy></SceneView>\n"
    )
    repeated = ITEM.replace(PID, "MRN0043")  # a second item 6, as in SlicerRT test scenes
    path = tmp_path / "old.mrml"
    path.write_text(_scene(ITEM + repeated, sceneView), encoding="utf-8")
    assert len({finding.place for finding in scanPath(str(path)).findings}) > 6
    cleanPath(str(path), str(tmp_path / "clean.mrml"))
    assert _holds(str(tmp_path / "clean.mrml"), NAME, PID, "MRN0043", UID) == []
    assert not scanPath(str(tmp_path / "clean.mrml"))


def test_a_hand_edited_value_holding_a_tag_end_is_read_whole(tmp_path):
    """XML allows ">" and "/>" inside a quoted value; Slicer writes "&gt;", a hand-edited file may not. The tag
    must not end there, or the values after it are never seen."""
    volume = (
        f'<Volume id="vtkMRMLScalarVolumeNode1" name="CT > {NAME} />" description="{PID}" '
        f'attributes="DICOM.instanceUIDs:{UID}"></Volume>\n'
    )
    path = tmp_path / "edited.mrml"
    path.write_text(_scene(extra=volume), encoding="utf-8")
    places = {finding.place for finding in scanPath(str(path)).findings}
    assert {
        "edited.mrml: node vtkMRMLScalarVolumeNode1 name",
        "edited.mrml: node vtkMRMLScalarVolumeNode1 description",
    } <= places
    cleanPath(str(path), str(tmp_path / "clean.mrml"))
    assert _holds(str(tmp_path / "clean.mrml"), "DOE", "JOHN", PID, UID) == []
    assert not scanPath(str(tmp_path / "clean.mrml"))


def test_a_name_written_twice_in_one_attribute_list_has_both_values_cleaned(tmp_path):
    """A hand-edited file may repeat an entry ("DICOM.PatientName^A|DICOM.PatientName^B|"): each is a value."""
    items = ITEM.replace(f"DICOM.PatientName^{NAME}|", f"DICOM.PatientName^{NAME}|DICOM.PatientName^ROE^JANE|")
    volume = (
        '<Volume id="vtkMRMLScalarVolumeNode1" name="CT" '
        'attributes="DICOM.PatientBirthDate:19700102;DICOM.PatientBirthDate:19810304"></Volume>\n'
    )
    path = tmp_path / "twice.mrml"
    path.write_text(_scene(items=items, extra=volume), encoding="utf-8")
    cleanPath(str(path), str(tmp_path / "clean.mrml"))
    assert _holds(str(tmp_path / "clean.mrml"), "DOE", "ROE", "JANE", "19700102", "19810304") == []
    assert not scanPath(str(tmp_path / "clean.mrml"))


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16"])
def test_a_utf16_scene_is_refused_never_reported_clean(tmp_path, encoding):
    path = tmp_path / "wide.mrml"
    path.write_bytes(_scene(head='<?xml version="1.0" encoding="UTF-16"?>\n').encode(encoding))
    code, _, err = _run(["scan", str(path)])
    assert code == 2 and "UTF-8" in err
    with pytest.raises(SceneFileError):
        cleanPath(str(path), str(tmp_path / "out.mrml"))


def test_duplicate_zip_entries_are_refused_never_one_dropped(tmp_path):
    path = tmp_path / "dup.mrb"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("s/s.mrml", _scene())
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            archive.writestr("s/s.mrml", _scene(items=""))  # the last copy holds nothing
    code, _, err = _run(["scan", str(path)])
    assert code == 2 and "twice" in err
    assert _run(["clean", str(path), "-o", str(tmp_path / "out.mrb")])[0] == 2
    assert not (tmp_path / "out.mrb").exists()


def test_entity_declarations_are_refused(tmp_path):
    path = tmp_path / "entity.mrml"
    head = f'<?xml version="1.0"?>\n<!DOCTYPE MRML [<!ENTITY pn "{NAME}">]>\n'
    path.write_text(_scene(items=ITEM.replace(f"DICOM.PatientName^{NAME}", "DICOM.PatientName^&pn;"), head=head))
    code, _, err = _run(["scan", str(path)])
    assert code == 2 and "DOCTYPE" in err


def test_a_zip_comment_is_searched_and_cleaned(tmp_path):
    path = tmp_path / "comment.mrb"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("s/s.mrml", _scene())
        archive.comment = f"shared for {NAME} {PID}".encode()
    assert any("zip comment" in finding.place for finding in scanPath(str(path)).findings)
    cleanPath(str(path), str(tmp_path / "clean.mrb"))
    assert _holds(str(tmp_path / "clean.mrb"), "DOE", PID) == []


def test_a_scan_of_several_files_goes_on_past_a_bad_one_and_exits_3_for_phi_and_an_error(tmp_path):
    good, bad, clean = tmp_path / "a.mrml", tmp_path / "b.mrb", tmp_path / "c.mrml"
    good.write_text(_scene())
    bad.write_bytes(b"not a zip")
    clean.write_text(_scene(items=""))
    code, out, err = _run(["scan", str(good), str(bad), str(clean)])
    assert code == 3
    assert _run(["scan", str(bad), str(clean)])[0] == 2
    assert f"{good}: " in out and "PHI value(s) found" in out and f"{clean}: no PHI found" in out
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and f"{bad}: " in errors[0]
    assert err.splitlines()[-1].startswith("scan: 3 scene(s), 1 with PHI, 1 without PHI, 1 could not be read")


def test_a_closed_pipe_is_not_an_internal_error(tmp_path):
    path = tmp_path / "a.mrml"
    items = "".join(
        ITEM.replace('id="6"', f'id="{6 + 2 * n}"').replace('id="7"', f'id="{7 + 2 * n}"') for n in range(3000)
    )
    path.write_text(_scene(items=items))  # thousands of findings: far more output than a pipe holds
    env = {
        **os.environ,
        "PYTHONPATH": os.path.abspath("AnonymizeOnSave"),
        "ANONYMIZE_ON_SAVE_KEY": "a-key-long-enough-for-pipes",
    }
    command = f"{sys.executable} -m AnonymizeOnSaveLib scan {path} | head -1"
    result = subprocess.run(command, shell=True, capture_output=True, text=True, env=env, check=False)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


def test_without_a_key_clean_then_scan_is_clean_and_cleaning_twice_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("ANONYMIZE_ON_SAVE_KEY", raising=False)
    path = tmp_path / "a.mrml"
    text = _scene(extra=f'<Text id="vtkMRMLTextNode1" name="RTSTRUCT for {UID}" attributes="Ref:{UID}"/>\n')
    path.write_text(text)
    assert _run(["clean", str(path), "--in-place", "--no-key"])[0] == 0
    once = path.read_bytes()
    code, out, _ = _run(["scan", str(path)])
    assert code == 0, out
    assert _run(["clean", str(path), "--in-place", "--no-key"])[0] == 0
    assert path.read_bytes() == once


def test_without_a_key_a_scene_without_patients_is_clean_after_cleaning(tmp_path, monkeypatch):
    monkeypatch.delenv("ANONYMIZE_ON_SAVE_KEY", raising=False)
    path = tmp_path / "a.mrml"
    node = f'<Volume id="vtkMRMLScalarVolumeNode1" name="vol" attributes="DICOM.instanceUIDs:{UID} {UID}.2"/>\n'
    path.write_text(_scene(items="", extra=node))  # DICOM UIDs, and no patient whose markers could vouch for them
    assert _run(["clean", str(path), "--in-place", "--no-key"])[0] == 0
    once = path.read_bytes()
    assert _run(["scan", str(path)])[0] == 0
    assert _run(["clean", str(path), "--in-place", "--no-key"])[0] == 0 and path.read_bytes() == once


def test_a_nrrd_header_edited_with_a_windows_line_among_unix_ones_is_read_line_by_line(tmp_path):
    header = (
        "NRRD0004\ntype: unsigned char\ndimension: 1\nsizes: 1\r\nencoding: raw\n"
        f"DICOM.PatientName:={NAME}\nDICOM.PatientID:={PID}\n\n"
    )
    path = tmp_path / "edited.seq.nrrd"
    path.write_bytes(header.encode() + b"\x00")
    assert _run(["scan", str(path)])[0] == 1
    assert _run(["clean", str(path), "--in-place", "--no-key"])[0] == 0
    assert not _holds(str(path), NAME, PID, "JOHN")
    cleaned = path.read_bytes()
    assert b"sizes: 1\r\nencoding: raw\n" in cleaned and cleaned.endswith(b"\n\n\x00")  # every other byte kept


@pytest.mark.parametrize("suffix", [".xml", ".md", ".html"])
def test_a_text_node_written_as_xml_and_other_text_files_in_a_bundle_are_cleaned(tmp_path, suffix):
    path = tmp_path / "share.mrb"
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("share/share.mrml", _scene())
        bundle.writestr(f"share/Data/Report{suffix}", f"<report>Patient {NAME}, {PID}: no change.</report>\n")
    assert _run(["scan", str(path)])[0] == 1
    assert _run(["clean", str(path), "--in-place", "--no-key"])[0] == 0
    assert _holds(str(path), NAME, PID, "JOHN") == []
    assert _run(["scan", str(path)])[0] == 0


def test_a_nested_bundle_without_patient_data_is_kept_byte_for_byte(tmp_path):
    frames = tmp_path / "Seq.mrml"
    frames.write_text(_scene(items=""))
    assert _run(["clean", str(frames), "--in-place"])[0] == 0  # as an anonymized save writes it: markers set
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as bundle:  # a .seq.mrb of frames without PHI, as Info-ZIP writes one
        for name, data in (("Seq/", b""), ("Seq/Seq.mrml", frames.read_bytes()), ("Seq/Data/frame.txt", b"1\n")):
            info = zipfile.ZipInfo(name, (2026, 11, 25, 12, 0, 0))
            info.create_system, info.compress_type = 3, zipfile.ZIP_DEFLATED if data else zipfile.ZIP_STORED
            info.extra = struct.pack("<HHBI", 0x5455, 5, 1, 1795608000) + struct.pack(
                "<HHBBIBI", 0x7875, 11, 1, 4, 0, 4, 0
            )
            bundle.writestr(info, data)
    path = tmp_path / "share.mrb"
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("share/share.mrml", _scene())
        bundle.writestr("share/Data/Seq.seq.mrb", inner.getvalue())
    assert _run(["clean", str(path), "-o", str(tmp_path / "clean.mrb")])[0] == 0
    with zipfile.ZipFile(path) as before, zipfile.ZipFile(tmp_path / "clean.mrb") as after:
        assert after.read("share/Data/Seq.seq.mrb") == before.read("share/Data/Seq.seq.mrb")
        assert after.read("share/share.mrml") != before.read("share/share.mrml")


def _bundleWithRawEntry(path, method, compressed, content):
    """A bundle holding the scene and an entry Data/note.txt whose compressed bytes are given as they lie (its
    sizes and checksum declare content)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("s/s.mrml", _scene())
    data = path.read_bytes()
    directory = data.index(b"PK\x01\x02")
    first = data[directory : data.index(b"PK\x05\x06")]
    name, offset, crc = b"s/Data/note.txt", directory, zlib.crc32(content)
    sizes = (crc, len(compressed), len(content), len(name))
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, *sizes, 0) + name + compressed
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, *sizes, 0, 0, 0, 0, 0, offset)
    directoryBytes = first + central + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, len(directoryBytes), offset + len(local), 0)
    path.write_bytes(data[:directory] + local + directoryBytes + end)


@pytest.mark.parametrize("where", ["after the deflate stream", "in the stream past its size", "stored past its size"])
def test_bytes_an_entry_holds_beyond_its_content_are_refused_never_copied(tmp_path, where):
    """zipfile reads an entry's declared content only; a bundle copies unchanged entries whole: bytes beyond the
    content (hidden there by a tool, or left by a broken one) would be copied unread."""
    note, hidden = b"A note about the segmentation.\n", f" {NAME} {PID} ".encode()
    path = tmp_path / "hidden.mrb"
    if where == "after the deflate stream":
        _bundleWithRawEntry(path, zipfile.ZIP_DEFLATED, zlib.compress(note)[2:-4] + hidden, note)
    elif where == "in the stream past its size":
        _bundleWithRawEntry(path, zipfile.ZIP_DEFLATED, zlib.compress(note + hidden)[2:-4], note)
    else:
        _bundleWithRawEntry(path, zipfile.ZIP_STORED, note + hidden, note)
    with zipfile.ZipFile(path) as archive:
        assert archive.read("s/Data/note.txt") == note  # what zipfile reads: nothing hidden
    code, _, err = _run(["scan", str(path)])
    assert code == 2 and ("beyond its content" in err or "more or less than its content" in err)
    assert NAME not in err and PID not in err
    assert _run(["clean", str(path), "-o", str(tmp_path / "out.mrb")])[0] == 2
    assert not (tmp_path / "out.mrb").exists()


def test_a_symbolic_link_in_a_bundle_folder_is_written_relative_to_the_cleaned_member(tmp_path):
    """A link's target is a path, text written to disk: an absolute one names the folders above the bundle (a
    share's folder is often named after the patient) and points back into the uncleaned input."""
    bundle = tmp_path / f"DOE_JOHN_{PID}" / "Case"
    (bundle / "Data").mkdir(parents=True)
    (bundle / "Case.mrml").write_text(_scene())
    (bundle / "Data" / f"{PID} note.txt").write_text("a plain note\n")
    os.symlink(bundle / "Data" / f"{PID} note.txt", bundle / "Data" / "latest.txt")
    code, out, _ = _run(["scan", str(bundle)])
    assert code == 1 and "latest.txt (link target)" in out
    assert _run(["clean", str(bundle), "-o", str(tmp_path / "out")])[0] == 0
    link = tmp_path / "out" / "Data" / "latest.txt"
    target = os.readlink(link)
    assert not os.path.isabs(target) and PID not in target and "DOE" not in target
    assert os.path.realpath(link).startswith(str(tmp_path / "out")) and link.read_text() == "a plain note\n"
    assert _run(["scan", str(tmp_path / "out")])[0] == 0
    os.remove(link)
    os.symlink(f"{PID}/../{os.path.basename(target)}", link)  # the same member, by a path naming the patient
    found = search(str(tmp_path / "out"), [(PID, "ANONID", "identifiers")]).found  # what a save's check reads
    place = "out/Data/latest.txt"
    assert f"{place} (link target) (name)" in found and f"{place} (unreadable: FileNotFoundError)" in found


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_patient_of_one_scene_named_in_another_scene_of_the_share_is_cleaned_there(tmp_path, jobs):
    """A share goes out whole: a follow-up scene that names the patient of another scene of the share, without a
    hierarchy of its own, is searched for that scene's values too."""
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.mrml").write_text(_scene())
    followUp = '<Text id="vtkMRMLTextNode1" name="follow-up John Doe" text="see MRN0042"/>'
    (share / "b.mrml").write_text(_scene(items="", extra=followUp))
    code, out, _ = _run(["scan", "--jobs", jobs, str(share)])
    assert code == 1 and "b.mrml: b.mrml [knownValue]" in out.replace(str(share) + "/", "")
    assert _run(["clean", "--jobs", jobs, str(share), "-o", str(tmp_path / "out")])[0] == 0
    assert _holds(tmp_path / "out" / "b.mrml", "John Doe", "Doe", PID) == []
    assert _run(["scan", str(tmp_path / "out")])[0] == 0


def test_file_names_that_are_not_utf8_are_reported_as_they_are_never_an_internal_error(tmp_path):
    """os.listdir gives such names with surrogates; the share's reports (text, CSV, JSON) name them, byte for byte
    in the CSV."""
    share = os.fsencode(tmp_path / "share")
    os.makedirs(share + b"/sub\xff")
    for name in (b"/sub\xff/x\xfe.mrml", b"/b.mrml"):
        with open(share + name, "w") as stream:
            stream.write(_scene())
    with open(share + b"/other\xfd.txt", "w") as stream:
        stream.write("x")
    table = tmp_path / "report.csv"
    for arguments in (["scan", "--csv", str(table)], ["scan", "--json"], ["clean", "-o", str(tmp_path / "out")]):
        code, _, err = _run([*arguments, os.fsdecode(share)])
        assert code in (0, 1) and "internal error" not in err, arguments
    assert b"x\xfe.mrml" in table.read_bytes() and b"other\xfd.txt" in table.read_bytes()
    assert os.listdir(os.fsencode(tmp_path / "out"))


def test_a_share_report_masks_every_value_of_the_share_and_finds_a_scene_named_after_one(tmp_path):
    """The paths, places and errors a share's run reports (text, JSON, CSV; scan and clean in place) are masked with
    the values of all its scenes (a file of one scene named after the patient of another, a scene that cannot be
    read, a file skipped), and a scene whose own name holds one is reported, as clean renames it."""
    share = tmp_path / "share"
    (share / "B" / "Data").mkdir(parents=True)
    (share / "a.mrml").write_text(_scene())
    (share / "B" / "B.mrml").write_text(_scene(items="", extra='<Text id="vtkMRMLTextNode1" name="t"/>'))
    (share / "B" / "Data" / f"{PID} notes.txt").write_text("nothing personal\n")
    (share / "Doe_C.mrml").write_text(_scene(items="", extra='<Text id="vtkMRMLTextNode1" name="x"/>'))
    (share / "Doe_D.mrml").write_text("<MRML><not well-formed")  # an error line names the scene as it goes
    (share / "Doe notes.txt").write_text("skipped: not a scene\n")
    table = tmp_path / "report.csv"
    code, out, err = _run(["scan", "--csv", str(table), str(share)])
    assert code == 3 and "_C.mrml (name)" in out and "_D.mrml: not well-formed" in err
    reports = [out, err, table.read_text(), _run(["scan", "--json", str(share)])[1]]
    code, cleaned, err = _run(["clean", "--json", str(share), "-o", str(tmp_path / "out")])
    assert code == 2 and json.loads(cleaned)["cleaned"] == 3  # every scene cleaned but the unreadable one
    reports += [cleaned, err]
    code, *inPlace = _run(["clean", "--in-place", "--csv", str(table), str(share)])
    assert code == 2 and "_C.mrml: cleaned in place, but its name holds patient data" in inPlace[1]
    reports += [*inPlace, table.read_text()]
    for report in reports:
        assert PID not in report and "Doe" not in report


def test_a_link_to_a_folder_is_written_as_a_link_and_a_link_to_nothing_fails_its_scene_alone(tmp_path):
    share = tmp_path / "share"
    for name in ("A", "B"):
        (share / name / "Data" / "Real").mkdir(parents=True)
        (share / name / f"{name}.mrml").write_text(_scene())
    os.symlink("Real", share / "A" / "Data" / "Sub")  # a folder of the bundle, by another name
    os.symlink("nothing.txt", share / "B" / "Data" / "gone.txt")
    code, _, err = _run(["clean", str(share), "-o", str(tmp_path / "out")])
    assert code == 2 and "internal error" not in err and err.count("error:") == 1
    link = tmp_path / "out" / "A" / "Data" / "Sub"
    assert os.readlink(link) == "Real" and link.is_dir()
    assert (tmp_path / "out" / "INCOMPLETE.txt").exists() and not (tmp_path / "out" / "B").exists()
