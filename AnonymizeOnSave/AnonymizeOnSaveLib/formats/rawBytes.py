"""The text in bytes no reader decodes: runs of printable characters read as UTF-8 or Latin-1 and as UTF-16 in
either byte order, and the same of every zlib or gzip stream found inside (what a format with no reader here, or
the free space of a database, may hold). Searched only: such bytes cannot be cleaned, so a value found there
fails the save."""

import re
import zlib

_PRINTABLE = re.compile(rb"(?:[\t\n\r\x20-\x7e]|[\xc2-\xf4][\x80-\xbf]{1,3}|[\xa0-\xff]){3,}")
_UTF16 = {
    "utf-16-le": re.compile(rb"(?:[\t\n\r\x20-\x7e]\x00|[\xa0-\xff]\x00|[\x00-\xff][\x01-\xd7\xe0-\xff]){3,}"),
    "utf-16-be": re.compile(rb"(?:\x00[\t\n\r\x20-\x7e]|\x00[\xa0-\xff]|[\x01-\xd7\xe0-\xff][\x00-\xff]){3,}"),
}
_STREAM_STARTS = re.compile(rb"\x1f\x8b\x08|\x78[\x01\x5e\x9c\xda]")
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
    """The inflated content of every zlib or gzip stream that starts somewhere in data."""
    for match in _STREAM_STARTS.finditer(data):
        wbits = 31 if data[match.start()] == 0x1F else 15
        inflater = zlib.decompressobj(wbits)
        try:
            inflated = inflater.decompress(data[match.start() :])
        except zlib.error:
            continue
        if inflated:  # a stream cut short is read as far as it goes
            yield inflated


def rawText(data, depth=0):
    """The text of data as a searcher reads unknown bytes (runs joined by line breaks)."""
    pieces = _runs(data)
    if depth < MAX_DEPTH:
        pieces += [rawText(inflated, depth + 1) for inflated in _streams(data)]
    return "\n".join(pieces)
