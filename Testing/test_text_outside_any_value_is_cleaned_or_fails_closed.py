"""Text a file holds outside the values its reader writes back (found by an adversarial hunt against the readers):
each place is either cleaned, or, where no reader here can rewrite it, reported by scan as "cannot be cleaned"
and refused by clean and by the check after a save, never passed as clean. A bundle folder whose scene holds
the patient DOE^JOHN / MRN0042; the oracle reads every byte of the output."""

import bz2
import gzip
import io
import lzma
import os
import random
import sqlite3
import struct
import zipfile
import zlib

import pytest
import vtk
from hospitalScenes import leaks
from sceneText import patientScene

from AnonymizeOnSaveLib import Policy
from AnonymizeOnSaveLib.formats.rawBytes import rawText
from AnonymizeOnSaveLib.formats.surface import FormatError
from AnonymizeOnSaveLib.sceneFiles import SceneFileError, cleanPath, scanPath
from AnonymizeOnSaveLib.verify import VerificationError, verifyOutput

NAME, PID = "DOE^JOHN", "MRN0042"
VALUES = [NAME, PID]
KNOWN = [(NAME, "ANON^X", "names"), (PID, "ANONID", "identifiers")]
POLICY = Policy(key="outside-values-key")
SCENE = patientScene(NAME, PID)
EMPTY_SCENE = '<?xml version="1.0" encoding="UTF-8"?>\n<MRML version="5">\n</MRML>\n'


def _bundle(folder, files, scene=SCENE):
    folder.mkdir()
    (folder / "scene.mrml").write_text(scene)
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def _sphere():
    source = vtk.vtkSphereSource()
    source.Update()
    polyData = vtk.vtkPolyData()
    polyData.DeepCopy(source.GetOutput())
    return polyData


def _written(writer, polyData, path):
    writer.SetFileName(str(path))
    writer.SetInputData(polyData)
    assert writer.Write()
    return path.read_bytes()


def _informationKey(tmp_path, suffix):
    polyData = _sphere()
    labels = vtk.vtkStringArray()
    labels.SetName("labels")
    labels.InsertNextValue("x")
    labels.GetInformation().Set(vtk.vtkCompositeDataSet.NAME(), "John Doe MRN0042")
    polyData.GetFieldData().AddArray(labels)
    writer = vtk.vtkXMLPolyDataWriter() if suffix == ".vtp" else vtk.vtkPolyDataWriter()
    return {f"Data/m{suffix}": _written(writer, polyData, tmp_path / f"m{suffix}")}


def _comment(tmp_path):
    plain = _written(vtk.vtkXMLPolyDataWriter(), _sphere(), tmp_path / "p.vtp")
    return {"Data/m.vtp": plain.replace(b"<PolyData>", b"<!-- John Doe MRN0042 --><PolyData>", 1)}


def _database(tmp_path, script, secureDelete=False):
    path = tmp_path / "t.sqlite3"
    path.unlink(missing_ok=True)  # built twice: for the share and for the save
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA secure_delete = {int(secureDelete)}")
    connection.executescript(script)
    connection.commit()
    connection.close()
    return {"Data/t.sqlite3": path.read_bytes()}


FREED = (
    "CREATE TABLE results (Patient TEXT, Note TEXT);"
    + "".join(f"INSERT INTO results VALUES ('John Doe {index}', '{'x' * 50}');" for index in range(300))
    + "DELETE FROM results WHERE rowid > 1; UPDATE results SET Patient = 'phantom';"
)
CLEANABLE = {
    "information key in a .vtp": lambda tmp_path: _informationKey(tmp_path, ".vtp"),
    "information key in a legacy .vtk": lambda tmp_path: _informationKey(tmp_path, ".vtk"),
    "XML comment in a .vtp": _comment,
    "deleted rows in an SQLite database's freed pages": lambda tmp_path: _database(tmp_path, FREED),
    "text in an SQLite BLOB cell": lambda tmp_path: _database(
        tmp_path, "CREATE TABLE r (Patient BLOB); INSERT INTO r VALUES (CAST('John Doe MRN0042' AS BLOB));"
    ),
    "an ID stored as an SQLite integer": lambda tmp_path: _database(
        tmp_path, "CREATE TABLE r (Patient INTEGER); INSERT INTO r VALUES (40718253);"
    ),
    "an SQLite view": lambda tmp_path: _database(
        tmp_path, "CREATE TABLE r (a TEXT); CREATE VIEW v AS SELECT a FROM r WHERE a != 'John Doe';"
    ),
    "an SQLite column default": lambda tmp_path: _database(
        tmp_path, "CREATE TABLE r (a TEXT DEFAULT 'John Doe', b TEXT); INSERT INTO r (b) VALUES ('x');"
    ),
    "a comment in an ITK .tfm transform": lambda tmp_path: {
        "Data/t.tfm": b"#Insight Transform File V1.0\n#Transform 0 for John Doe\nTransform: AffineTransform_double_3_3"
    },
}


@pytest.mark.parametrize("case", CLEANABLE)
def test_text_outside_a_value_is_found_by_scan_and_cleaned(tmp_path, case):
    known = [*KNOWN, ("40718253", "ANONID2", "identifiers")] if "integer" in case else KNOWN
    values = [*VALUES, "40718253"] if "integer" in case else VALUES
    source = _bundle(tmp_path / "share", CLEANABLE[case](tmp_path))
    found = [finding.place for finding in scanPath(str(source), POLICY).findings if "Data/" in finding.place]
    if "integer" not in case:  # an integer is known from a live scene only (the check after a save, below)
        assert found, "scan reports the data file"
        cleaned = tmp_path / "cleaned"
        cleanPath(str(source), str(cleaned), policy=POLICY)
        assert leaks(str(cleaned), values) == [] and not scanPath(str(cleaned), POLICY)
    written = _bundle(tmp_path / "saved", CLEANABLE[case](tmp_path), EMPTY_SCENE)
    verifyOutput(str(written), known, POLICY)
    assert leaks(str(written), values) == []


def _nifti():
    header = bytearray(348)
    struct.pack_into("<i", header, 0, 348)
    struct.pack_into("<8h", header, 40, 3, 2, 2, 2, 1, 1, 1, 1)
    struct.pack_into("<hh", header, 70, 2, 8)
    struct.pack_into("<f", header, 108, 352.0)
    header[148:164] = b"John Doe MRN0042"
    header[344:348] = b"n+1\0"
    return {"Data/vol.nii": bytes(header) + bytes(12)}


def _png():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    image = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(b"\0\0"))
    return {"Data/shot.png": b"\x89PNG\r\n\x1a\n" + image + chunk(b"tEXt", b"Comment\0John Doe") + chunk(b"IEND", b"")}


def _charArray(tmp_path):
    polyData = _sphere()
    text = vtk.vtkCharArray()
    text.SetName("notes")
    for character in "John Doe MRN0042":
        text.InsertNextValue(character)
    polyData.GetFieldData().AddArray(text)
    return {"Data/m.vtp": _written(vtk.vtkXMLPolyDataWriter(), polyData, tmp_path / "c.vtp")}


def _visits():
    """Text that compresses into a stream longer than the cut made of it."""
    return "".join(f"visit {index}: John Doe MRN0042, seen at {index * 7 % 24}h\n" for index in range(400)).encode()


def _appendedWithATail(tmp_path):
    writer = vtk.vtkXMLPolyDataWriter()
    writer.SetDataModeToAppended()
    return {"Data/m.vtp": _written(writer, _sphere(), tmp_path / "t.vtp") + b"\nnotes: John Doe MRN0042\n"}


def _pastAnArraysData(tmp_path, mode):
    """Bytes no reader reads: text after the data an array's header declares (the last appended chunk's, raw or
    base64, or an inline binary array's), which VTK never writes and its reader never reads."""
    writer = vtk.vtkXMLPolyDataWriter()
    if mode == "binary":
        writer.SetDataModeToBinary()
    else:
        writer.SetDataModeToAppended()
        writer.SetEncodeAppendedData(mode == "base64")
    data = _written(writer, _sphere(), tmp_path / f"{mode}.vtp")
    if mode == "binary":  # the end of the first array's base64 text
        start = data.index(b">", data.index(b'format="binary"')) + 1
        end = start + len(data[start : data.index(b"<", start)].rstrip())
    else:
        end = data.rindex(b"\n", 0, data.rindex(b"</AppendedData>"))
    return {"Data/m.vtp": data[:end] + b" John Doe MRN0042 " + data[end:]}


def _zipAfterAPrefix(compression=zipfile.ZIP_DEFLATED):
    """A zip after other bytes, as a self-extracting archive is (not a bundle: it does not start as one)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression) as inner:
        inner.writestr("report.txt", _visits())
    return b"MZ\x90\x00" + bytes(60) + archive.getvalue()


def _deflated(wbits):
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return compressor.compress(_visits()) + compressor.flush()


def _afterAStringBlocksStream():
    """A String array's one compressed block: the zlib stream of its strings, then text the header's block size
    counts but the stream does not hold (VTK's reader inflates the stream and stops)."""
    strings = b"liver\0"
    block = zlib.compress(strings) + b" John Doe MRN0042 "
    chunk = struct.pack("<4I", 1, len(strings), len(strings), len(block)) + block
    head = (
        '<?xml version="1.0"?>\n<VTKFile type="PolyData" version="1.0" byte_order="LittleEndian" '
        'header_type="UInt32" compressor="vtkZLibDataCompressor">\n<PolyData>\n<FieldData>\n'
        '<Array type="String" Name="Notes" NumberOfTuples="1" format="appended" offset="0"/>\n</FieldData>\n'
        '<Piece NumberOfPoints="0" NumberOfVerts="0" NumberOfLines="0" NumberOfStrips="0" NumberOfPolys="0">\n'
        '</Piece>\n</PolyData>\n<AppendedData encoding="raw">\n_'
    )
    return {"Data/m.vtp": head.encode() + chunk + b"\n</AppendedData>\n</VTKFile>\n"}


def _nrrd(line):
    return b"NRRD0004\ntype: unsigned char\ndimension: 1\nsizes: 4\nencoding: raw\n" + line + b"\n\n\0\1\2\3"


UNCLEANABLE = {
    "text after a PNG's last chunk": lambda tmp_path: {"Data/shot.png": _png()["Data/shot.png"] + b"John Doe"},
    "text after a VTK XML file's appended data": _appendedWithATail,
    "text past the last appended array's data": lambda tmp_path: _pastAnArraysData(tmp_path, "raw"),
    "text past a base64 appended array's data": lambda tmp_path: _pastAnArraysData(tmp_path, "base64"),
    "text past an inline binary array's data": lambda tmp_path: _pastAnArraysData(tmp_path, "binary"),
    "a zlib stream cut short": lambda tmp_path: {"Data/x.bin": b"\0\1" + zlib.compress(_visits())[:120]},
    "a zlib stream with a 1 KB window": lambda tmp_path: {"Data/x.bin": b"\0\1" + _deflated(10)},
    "a raw deflate stream, the whole file": lambda tmp_path: {"Data/x.bin": _deflated(-15)},
    "a bzip2 stream": lambda tmp_path: {"Data/x.bin": b"\0\1" + bz2.compress(_visits())},
    "an xz stream": lambda tmp_path: {"Data/x.bin": b"\0\1" + lzma.compress(_visits())},
    "a zip after a prefix": lambda tmp_path: {"Data/report.exe": _zipAfterAPrefix()},
    "an LZMA zip after a prefix": lambda tmp_path: {"Data/setup.exe": _zipAfterAPrefix(zipfile.ZIP_LZMA)},
    "text after the compressed stream of a String array's block": lambda tmp_path: _afterAStringBlocksStream(),
    "a JSON key": lambda tmp_path: {"Data/F.mrk.json": b'{"markups": [{"type": "Fiducial", "John Doe MRN0042": 1}]}'},
    "a NRRD field that is no text field": lambda tmp_path: {"Data/v.nrrd": _nrrd(b"sample units: John Doe")},
    "the key of a NRRD key:=value line": lambda tmp_path: {"Data/v.nrrd": _nrrd(b"MRN0042 John Doe:=reviewed")},
    "a NIfTI description": lambda tmp_path: _nifti(),
    "a PNG text chunk": lambda tmp_path: _png(),
    "strings in an HDF5 transform": lambda tmp_path: {"Data/t.h5": b"\x89HDF\r\n\x1a\n\0\0 patient John Doe \0\0"},
    "text in a VTK char array": _charArray,
}


@pytest.mark.parametrize("case", UNCLEANABLE)
def test_text_no_reader_can_rewrite_is_reported_and_refused(tmp_path, case):
    source = _bundle(tmp_path / "share", UNCLEANABLE[case](tmp_path))
    assert any("(cannot be cleaned)" in finding.place for finding in scanPath(str(source), POLICY).findings)
    cleaned = tmp_path / "cleaned"
    with pytest.raises(SceneFileError, match="cannot clean it there"):
        cleanPath(str(source), str(cleaned), policy=POLICY)
    assert not cleaned.exists() and [name for name in os.listdir(tmp_path) if name.startswith(".")] == []
    written = _bundle(tmp_path / "saved", UNCLEANABLE[case](tmp_path), EMPTY_SCENE)
    with pytest.raises(VerificationError):
        verifyOutput(str(written), KNOWN, POLICY)
    assert not written.exists()


@pytest.mark.parametrize("where", ["in a value", "as a list of data files"])
def test_a_metaimage_header_is_read_to_its_real_end(tmp_path, where):
    if where == "in a value":
        header = b"ObjectType = Image\nNDims = 3\nComment = see ElementDataFile below\nName = John Doe\n"
        files = {"Data/v.mha": header + b"ElementDataFile = LOCAL\n\0\0\0\0"}
    else:
        header = b"ObjectType = Image\nNDims = 3\nDimSize = 1 1 2\nElementType = MET_UCHAR\nElementDataFile = LIST\n"
        files = {"Data/v.mhd": header + b"John Doe MRN0042_1.raw\nJohn Doe MRN0042_2.raw\n"}
        files.update({f"Data/John Doe MRN0042_{index}.raw": b"\0" for index in (1, 2)})
    source = _bundle(tmp_path / "share", files)
    cleaned = tmp_path / "cleaned"
    cleanPath(str(source), str(cleaned), policy=POLICY)
    assert leaks(str(cleaned), VALUES) == []
    if where != "in a value":  # the list names the files as they are now called
        listed = (cleaned / "Data" / "v.mhd").read_text().splitlines()[-2:]
        assert sorted(listed) == sorted(name for name in os.listdir(cleaned / "Data") if name.endswith(".raw"))
    written = _bundle(tmp_path / "saved", files, EMPTY_SCENE)
    verifyOutput(str(written), KNOWN, POLICY)
    assert leaks(str(written), VALUES) == []


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("m.vtk", b"# vtk DataFile Version 4.2\nt\nASCII\nDATASET POLYDATA\nJohnDoe 3\n"),
        ("m.vtk", b"# vtk DataFile Version 4.2\nt\nBINARY\nDATASET POLYDATA\nPOINTS 3 JohnDoe\n"),
        (
            "m.vtp",
            b'<VTKFile type="PolyData" compressor="JohnDoe"><PolyData><FieldData>'
            b'<Array type="String" Name="a" NumberOfTuples="1" format="binary">AAAA</Array>'
            b"</FieldData></PolyData></VTKFile>",
        ),
        ("s.mrml", b'<?xml version="1.0" encoding="JohnDoe"?>\n<MRML version="5"></MRML>\n'),
    ],
)
def test_a_file_refused_as_unreadable_is_named_without_quoting_its_words(tmp_path, name, data):
    """The message names the place and the reason, never a word of the file (it may be the patient's name)."""
    folder = _bundle(tmp_path / "share", {f"Data/{name}": data} if name != "s.mrml" else {})
    if name == "s.mrml":
        (folder / "scene.mrml").write_bytes(data)
    with pytest.raises(SceneFileError) as refused:
        scanPath(str(folder), POLICY)
    assert "john" not in str(refused.value).lower()


def test_streams_inside_unknown_bytes_are_each_decoded_once_and_a_bomb_is_refused():
    """A start inside a stream already decoded is that stream's data; stored zip entries are searched where they
    lie; what all the streams of one search decode is bounded (beyond: the file cannot be read, never clean)."""
    nested = b""
    for index in range(20):  # gzip members stored in one another: every inner header visible at every level
        nested = gzip.compress(nested + bytes([index]) * 100, 0)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, 0, 0x7FFFFFFF, 0x7FFFFFFF, 0, 0)
    fakeEntries = b"".join(local + bytes([index]) * 1000 for index in range(20))
    for data in (nested, fakeEntries):
        budget = [1 << 30]
        rawText(data, budget=budget)
        assert (1 << 30) - budget[0] < 20 * len(data)  # (before: megabytes from a few KB, cubic in the starts)
    bomb = b"\0\1" + lzma.compress(bytes(1 << 20))
    with pytest.raises(FormatError, match="zip bomb"):
        rawText(bomb, budget=[1 << 16])


def test_random_bytes_are_not_read_as_text():
    """Three quarters of random bytes are "printable" read as Latin-1, and nearly every pair of them is a UTF-16
    character: read so, noise made text 2.7 times its size, searched for every value (26 s for 4 MB)."""
    noise = random.Random(7).randbytes(1 << 20)
    assert len(rawText(noise)) < len(noise) // 2
    assert "Patient Müller José" in rawText(b"\x00\x01Patient M\xfcller Jos\xe9\x00")
    for name in ("山田太郎", "Иванов Иван", "홍길동전"):  # text in UTF-8 of scripts with and without case
        assert name in rawText(b"\x00\x01" + name.encode() + b"\x00\x02")


def test_a_short_name_is_not_found_in_noise_and_is_found_in_text_inside_bytes(tmp_path):
    """A family name of two letters (LI^WEI) is searched alone in text; in the text of bytes no reader decodes
    (per-point colours, a transform's floats) it is everywhere by chance and failed every save: there, short runs
    and runs that are not mostly text keep only their plain words of four characters or more."""
    rng = random.Random(5)
    polyData = _sphere()
    colours = vtk.vtkUnsignedCharArray()
    colours.SetName("Colors")
    colours.SetNumberOfComponents(3)
    for _ in range(polyData.GetNumberOfPoints() * 40):  # as many random colours as a detailed surface has
        colours.InsertNextTuple3(rng.randrange(256), rng.randrange(256), rng.randrange(256))
    polyData.GetFieldData().AddArray(colours)
    files = {
        "Data/m.vtp": _written(vtk.vtkXMLPolyDataWriter(), polyData, tmp_path / "colours.vtp"),
        "Data/Transform.h5": b"\x89HDF\r\n\x1a\n" + rng.randbytes(1 << 20),
    }
    scene = patientScene("LI^WEI", "PID778812")
    source = _bundle(tmp_path / "share", files, scene)
    assert not [finding for finding in scanPath(str(source), POLICY).findings if "Data/" in finding.place]
    cleanPath(str(source), str(tmp_path / "cleaned"), policy=POLICY)
    noted = b"\x00\x01Patient: Li Wei, 1945\x00\x02" + rng.randbytes(1000)
    written = _bundle(tmp_path / "saved", {"Data/Transform.h5": noted}, EMPTY_SCENE)
    with pytest.raises(VerificationError):
        verifyOutput(str(written), [("LI^WEI", "ANON^X", "names")], POLICY)


@pytest.mark.parametrize(
    ("written", "value"),
    [
        (b'{"PatientBirthDate": "1945-03-02"}', "1945-03-02"),
        (b"<PatientBirthDate>19450302</PatientBirthDate>", "19450302"),
        (b'{"uid": "1.2.826.0.1.3680043.2.1143.555"}', "1.2.826.0.1.3680043.2.1143.555"),
        (b"03/02/1945", "03/02/1945"),
        (b'"McKay"', "McKay"),
        ("Dvořák Jiří".encode("utf-16-le"), "Dvořák Jiří"),
        ("Wałęsa".encode("utf-16-be"), "Wałęsa"),
        (b"#qJohn Doe 59xxxxxxxxxxxxxxxxxxxxxxxx@;", "John Doe"),  # an SQLite record: a type byte glued to a name
    ],
)
def test_text_as_software_writes_it_inside_bytes_is_read_whole(written, value):
    """What the noise rule must not drop (a hunt found each of these dropped by its first version): a field between
    NUL bytes, as a writer leaves it."""
    assert value in rawText(b"\x00\x00\x89\x00" + written + b"\x00\x00\x90")
