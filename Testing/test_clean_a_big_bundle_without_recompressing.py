"""Cleaning a bundle whose big data entry has PHI in its header: the body is kept, not recompressed, and the CRC
is derived from the original's (zlib's CRC-32 arithmetic, checked against zlib itself)."""

import os
import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_badInput import VALID_MRML

from AnonymizeOnSaveLib.sceneFiles import cleanPath, scanPath
from AnonymizeOnSaveLib.zipBundle import crcCombine, crcOfRest


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=3000))
def test_crc_arithmetic_agrees_with_zlib(first, second):
    whole = zlib.crc32(first + second)
    assert crcCombine(zlib.crc32(first), zlib.crc32(second), len(second)) == whole
    assert crcOfRest(whole, zlib.crc32(first), len(second)) == zlib.crc32(second)


HEADER = b"NRRD0004\ntype: uchar\ndimension: 1\nsizes: %d\nencoding: gzip\nDICOM.PatientName:=DOE^JOHN\n\n"


def _bundle(path, body, compression):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("s/s.mrml", VALID_MRML)
        archive.writestr(zipfile.ZipInfo("s/Data/big.seq.nrrd"), HEADER % len(body) + body, compress_type=compression)


def _raw(path, name):
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    with open(path, "rb") as stream:
        stream.seek(info.header_offset + 26)
        nameLength, extraLength = int.from_bytes(stream.read(2), "little"), int.from_bytes(stream.read(2), "little")
        stream.seek(info.header_offset + 30 + nameLength + extraLength)
        return info, stream.read(info.compress_size)


@pytest.mark.parametrize(
    ("compression", "compressible"),
    [(zipfile.ZIP_STORED, False), (zipfile.ZIP_DEFLATED, False), (zipfile.ZIP_DEFLATED, True)],
    ids=["stored", "deflated gzip'd voxels", "deflated raw voxels"],
)
def test_the_body_is_kept_and_the_entry_is_valid(tmp_path, compression, compressible):
    body = bytes(range(256)) * 4096 if compressible else os.urandom(1 << 20)
    source, cleaned = tmp_path / "in.mrb", tmp_path / "out.mrb"
    _bundle(source, body, compression)
    assert scanPath(str(source))
    cleanPath(str(source), str(cleaned))
    with zipfile.ZipFile(cleaned) as archive:
        assert archive.testzip() is None  # every CRC right
        data = archive.read("s/Data/big.seq.nrrd")
    header, body2 = data.split(b"\n\n", 1)
    assert b"DOE" not in header and body2 == body
    info, raw = _raw(str(cleaned), "s/Data/big.seq.nrrd")
    if not compressible:  # kept as bytes on disk: stored, the body's bytes after the new header
        assert info.compress_type == zipfile.ZIP_STORED and raw.endswith(body)
    else:
        assert info.compress_type == zipfile.ZIP_DEFLATED and len(raw) < len(body) // 4
    assert not scanPath(str(cleaned))
