"""Zip bundles carry text outside their entries: each entry's comment, and extra fields in its local and central
headers (Info-ZIP writes the entry's name again in a Unicode Path field, which unzip tools prefer to the name, so a
renamed entry would keep and show its old name). The file tool reports and cleans each of them, the check after a
save searches them, and an entry without any is copied with its extra fields as they were."""

import struct
import zipfile
import zlib

import pytest
from hospitalScenes import leaks
from sceneText import patientScene

from AnonymizeOnSaveLib import Policy
from AnonymizeOnSaveLib.sceneFiles import cleanPath, scanPath
from AnonymizeOnSaveLib.verify import search, verifyOutput

NAME, PID = "DOE^JOHN", "MRN0042"
POLICY = Policy(key="zip-extra-key")
SCENE = patientScene(NAME, PID)
TIMESTAMP = struct.pack("<HHBI", 0x5455, 5, 1, 1700000000)  # extended timestamp: no text


def _unicodePath(name):
    encoded = name.encode("utf-8")
    return struct.pack("<HHBI", 0x7075, 5 + len(encoded), 1, zlib.crc32(encoded)) + encoded


def _custom(text):
    data = text.encode("utf-8")
    return struct.pack("<HH", 0xCAFE, len(data)) + data


def _bundle(path, comment=b"", extra=b"", dataExtra=TIMESTAMP):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        scene = zipfile.ZipInfo("scene/scene.mrml", (2024, 1, 2, 3, 4, 6))
        scene.comment, scene.extra = comment, extra
        archive.writestr(scene, SCENE)
        data = zipfile.ZipInfo("scene/Data/John Doe notes.bin", (2024, 1, 2, 3, 4, 6))
        data.extra = dataExtra
        archive.writestr(data, b"\x00\x01 binary body")
        untouched = zipfile.ZipInfo("scene/Data/volume.nrrd", (2024, 1, 2, 3, 4, 6))
        untouched.extra = TIMESTAMP
        archive.writestr(untouched, b"NRRD0004\ntype: short\n\n\x00\x00")


CASES = {
    "entry comment": {"comment": f"exported for John Doe, {PID}".encode()},
    "extra field": {"extra": _custom(f"patient {NAME}")},
    "unicode path of a renamed entry": {"dataExtra": TIMESTAMP + _unicodePath("scene/Data/John Doe notes.bin")},
}


@pytest.mark.parametrize("case", CASES)
def test_text_outside_the_entries_is_reported_and_cleaned(tmp_path, case):
    source = tmp_path / "shared.mrb"
    _bundle(source, **CASES[case])
    found = [finding.place for finding in scanPath(str(source), POLICY).findings]
    assert any(f"({case.split(' of')[0]})" in place or "(extra field)" in place for place in found), found
    cleaned = tmp_path / "cleaned.mrb"
    cleanPath(str(source), str(cleaned), policy=POLICY)
    assert leaks(str(cleaned), [NAME, PID, "John Doe"]) == []
    assert not scanPath(str(cleaned), POLICY)
    with zipfile.ZipFile(cleaned) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert archive.testzip() is None
        assert infos["scene/Data/volume.nrrd"].extra == TIMESTAMP  # no text: kept as it was
        renamed = [name for name in infos if name.endswith(" notes.bin")]
        assert len(renamed) == 1 and "John" not in renamed[0] and infos[renamed[0]].extra == TIMESTAMP


def test_the_check_after_a_save_searches_entry_comments_and_extra_fields(tmp_path):
    for index, case in enumerate(CASES.values()):
        path = tmp_path / f"{index}.mrb"
        _bundle(path, **case)
        values = [(NAME, "ANON^X", "names"), (PID, "ANONID", "identifiers")]
        assert search(str(path), values).found or search(str(path), values).data
        verifyOutput(str(path), values, POLICY)
        assert leaks(str(path), [NAME, PID]) == []
