"""The text in bytes no reader decodes: runs of printable characters read as UTF-8 or Latin-1 and as UTF-16 in
either byte order, and the same of every compressed stream found inside: zlib (any window), gzip, bzip2, xz, and
the entries of a zip found anywhere (an archive after a prefix, as a self-extracting one). What a format with no
reader here, or the free space of a database, may hold. Searched only: such bytes cannot be cleaned, so a value
found there fails the save. A raw deflate stream has no header to be found by: read when it is the whole of the
bytes, not inside other bytes (a documented limit)."""

import bz2
import lzma
import re
import struct
import zlib

_PRINTABLE = re.compile(rb"(?:[\t\n\r\x20-\x7e]|[\xc2-\xf4][\x80-\xbf]{1,3}|[\xa0-\xff]){3,}")
_UTF16 = {
    "utf-16-le": re.compile(rb"(?:[\t\n\r\x20-\x7e]\x00|[\xa0-\xff]\x00|[\x00-\xff][\x01-\xd7\xe0-\xff]){3,}"),
    "utf-16-be": re.compile(rb"(?:\x00[\t\n\r\x20-\x7e]|\x00[\xa0-\xff]|[\x01-\xd7\xe0-\xff][\x00-\xff]){3,}"),
}
# Where a stream may start: gzip; zlib (deflate, a window of 256 bytes to 32 KB: checked by its header's
# checksum below); bzip2; xz; a zip entry's local header.
_STREAM_STARTS = re.compile(
    rb"\x1f\x8b\x08|[\x08\x18\x28\x38\x48\x58\x68\x78][\x00-\xff]|BZh[1-9]1AY&SY|\xfd7zXZ\x00|PK\x03\x04", re.DOTALL
)
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
MAX_DEPTH = 3


def _runs(data):
    pieces = []
    for match in _PRINTABLE.finditer(data):
        run = match.group()
        try:
            pieces.append(run.decode("utf-8"))
        except UnicodeDecodeError:
            pieces.append(run.decode("latin-1"))
    for encoding, pattern in _UTF16.items():
        pieces += [match.group().decode(encoding, "replace") for match in pattern.finditer(data)]
    return pieces


def _streams(data):
    """The decoded content of every compressed stream that starts somewhere in data (read as far as it goes: a
    stream cut short too)."""
    view = memoryview(data)
    try:  # a file that is a raw deflate stream whole (one found inside other bytes has no header to be found by)
        decoded = zlib.decompressobj(-15).decompress(view)
        if decoded:
            yield decoded
    except zlib.error:
        pass
    for match in _STREAM_STARTS.finditer(data):
        start, kind = match.start(), match.group()
        try:
            if kind[:1] == b"\x1f":
                decoded = zlib.decompressobj(31).decompress(view[start:])
            elif kind[:2] == b"BZ":
                decoded = bz2.BZ2Decompressor().decompress(view[start:])
            elif kind[:1] == b"\xfd":
                decoded = lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(view[start:])
            elif kind[:2] == b"PK":
                decoded = _zipEntry(view, start)
            elif (kind[0] << 8 | kind[1]) % 31 == 0 and not kind[1] & 0x20:  # zlib, no preset dictionary
                decoded = zlib.decompressobj(15).decompress(view[start:])
            else:
                continue
        except (zlib.error, OSError, EOFError, ValueError, lzma.LZMAError, struct.error):
            continue
        if decoded:
            yield decoded


def _zipEntry(view, start):
    """The content of the zip entry whose local header starts at start (stored or deflated)."""
    _, _, _, method, _, _, _, compressedSize, _, nameLength, extraLength = _LOCAL_HEADER.unpack_from(view, start)
    body = start + _LOCAL_HEADER.size + nameLength + extraLength
    if method == 0:
        return bytes(view[body : body + compressedSize])
    return zlib.decompressobj(-15).decompress(view[body:]) if method == 8 else b""


def rawText(data, depth=0):
    """The text of data as a searcher reads unknown bytes (runs joined by line breaks)."""
    pieces = _runs(data)
    if depth < MAX_DEPTH:
        pieces += [rawText(inflated, depth + 1) for inflated in _streams(data)]
    return "\n".join(pieces)
