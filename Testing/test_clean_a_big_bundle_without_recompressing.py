"""Cleaning a bundle whose big data entry has PHI in its header: the body is kept, not recompressed (stored, or the
deflate stream after its first block boundary past the header), and the CRC is derived from the original's (zlib's
CRC-32 arithmetic, checked against zlib itself)."""

import os
import random
import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_badInput import VALID_MRML

from AnonymizeOnSaveLib.deflateSplice import splice
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


def _noise(size, seed):
    """Raw voxels: noise in a narrow range (compressible, in many blocks)."""
    return random.Random(seed).randbytes(size).translate(bytes(value % 40 for value in range(256)))


BODIES = {
    "gzip'd voxels": lambda: os.urandom(1 << 20),
    "raw voxels": lambda: _noise(1 << 18, 7) * 4,
    "one block": lambda: bytes(range(256)) * 4096,  # a single deflate block: no boundary to splice at
}


@pytest.mark.parametrize(
    ("compression", "body"),
    [(zipfile.ZIP_STORED, "gzip'd voxels"), *((zipfile.ZIP_DEFLATED, body) for body in BODIES)],
    ids=["stored", *(f"deflated {body}" for body in BODIES)],
)
def test_the_body_is_kept_and_the_entry_is_valid(tmp_path, compression, body):
    kind, body = body, BODIES[body]()
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
    _, original = _raw(str(source), "s/Data/big.seq.nrrd")
    if compression == zipfile.ZIP_STORED:  # the body's bytes after the new header
        assert info.compress_type == zipfile.ZIP_STORED and raw.endswith(body)
    elif kind == "one block":  # recompressed
        assert info.compress_type == zipfile.ZIP_DEFLATED and len(raw) < len(body) // 4
    else:  # the original compressed bytes after a boundary within the first blocks
        kept = len(original) - (1 << 17)
        assert info.compress_type == zipfile.ZIP_DEFLATED and raw[-kept:] == original[-kept:]
    assert not scanPath(str(cleaned))


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=400), st.integers(0, 9), st.integers(0, 2**32))
def test_a_spliced_stream_inflates_to_the_new_start_and_the_old_rest(newStart, level, seed):
    body = _noise(1 << 17, seed) + random.Random(seed).randbytes(1 << 16)
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    stream = compressor.compress(HEADER + body) + compressor.flush()
    head, index, _, _ = splice(stream, len(HEADER), newStart)
    assert zlib.decompress(head + stream[index:], -15) == newStart + body
    assert 0 < index < len(stream)
