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

from .surface import FormatError

# (four characters at least: a shorter run is noise to _denoised, which would keep nothing of it)
_PRINTABLE = re.compile(rb"(?:[\t\n\r\x20-\x7e]|[\xc2-\xf4][\x80-\xbf]{1,3}|[\xa0-\xff]){4,}")
_ASCII_OR_UTF8 = re.compile(rb"(?:[\t\n\r\x20-\x7e]|[\xc2-\xf4][\x80-\xbf]{1,3}){4,}")
_HIGH_BYTES = bytes(range(0x80, 0x100))
# UTF-16 text of Latin letters only (to U+02FF: Dvořák, Wałęsa): any other 16-bit pair is as likely noise as text
# (random bytes read as UTF-16 are nearly all "text"); CJK in UTF-16 inside unknown bytes is not read (documented).
_UTF16 = {
    "utf-16-le": re.compile(rb"(?:[\t\n\r\x20-\x7e]\x00|[\xa0-\xff]\x00|[\x00-\xff][\x01\x02]){4,}"),
    "utf-16-be": re.compile(rb"(?:\x00[\t\n\r\x20-\x7e]|\x00[\xa0-\xff]|[\x01\x02][\x00-\xff]){4,}"),
}
# Where a stream may start: gzip; zlib (deflate, a window of 256 bytes to 32 KB: checked by its header's
# checksum below); bzip2; xz; a zip entry's local header.
_STREAM_STARTS = re.compile(
    rb"\x1f\x8b\x08|[\x08\x18\x28\x38\x48\x58\x68\x78][\x00-\xff]|BZh[1-9]1AY&SY|\xfd7zXZ\x00|PK\x03\x04", re.DOTALL
)
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
MAX_DEPTH = 3
MAX_DECODED = 256 << 20  # what the streams inside one search may decode, besides 16 bytes a byte searched


def _denoised(run):
    """A run as searched. A short one, one less than nine tenths text (ASCII, Latin letters), or one without four
    small letters or four digits in a row, is as likely noise (numbers read as characters): only its plain words of
    four characters or more are kept (a name of two or three letters, or a value glued to noise, cannot be told
    from it there: a documented limit)."""
    if len(run) >= _TEXT_RUN and _WRITTEN.search(run) and len(_NOT_TEXT.findall(run)) * 10 <= len(run):
        return run
    return " ".join(word for word in _WORD.findall(run) if len(word) >= 4 and _plainWord(word))


def _plainWord(word):
    """Digits, a word written as people write one (lower case, capitalized, camel case as in McKay, upper case, or
    of a script without case: 山田太郎), or such letters then digits (an ID): noise mixes them (ßLIí, 5o2GN6Li)."""
    letters = word.rstrip("0123456789")
    if not letters:
        return True
    caseless = letters.lower() == letters.upper()
    return letters.isalpha() and (caseless or letters.islower() or letters.isupper() or _camel(letters))


def _camel(letters):
    """Capitalized, each further capital between small letters (Müller, McKay, DeVries)."""
    inner = range(1, len(letters) - 1)
    capitals = [index for index in range(1, len(letters)) if letters[index].isupper()]
    return letters[0].isupper() and all(
        index in inner and letters[index - 1].islower() and letters[index + 1].islower() for index in capitals
    )


_TEXT_RUN = 8
_NOT_TEXT = re.compile(r"[^\t\n\r\x20-\x7e\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]")  # (JSON, XML, dates: text)
_WORD = re.compile(r"[^\W_]+")
_WRITTEN = re.compile(r"[^\W\dA-Z\u00c0-\u00de_]{4}|\d{4}")  # four small (or caseless) letters, or digits


def _runs(data):
    """The runs of text in data. A run of which more than a third is bytes above ASCII that are not UTF-8 is noise
    read as Latin-1 (three quarters of random bytes are "printable" so): only its ASCII and UTF-8 parts are kept."""
    pieces = []
    for run in _PRINTABLE.findall(data):
        if run.isascii():
            pieces.append(run.decode("ascii"))
        elif 3 * (len(run) - len(run.translate(None, _HIGH_BYTES))) > len(run):
            pieces += [part.decode("utf-8", "replace") for part in _ASCII_OR_UTF8.findall(run)]
        else:
            try:
                pieces.append(run.decode("utf-8"))
            except UnicodeDecodeError:
                pieces.append(run.decode("latin-1"))
    for encoding, pattern in _UTF16.items():
        pieces += [match.group().decode(encoding, "replace") for match in pattern.finditer(data)]
    return [_denoised(piece) for piece in pieces]


def _streams(data, budget):
    """The decoded content of every compressed stream that starts somewhere in data (read as far as it goes: a
    stream cut short too). A start inside a stream already decoded is that stream's data, not another stream.
    budget: [bytes] all the streams of one search may decode; beyond, FormatError (a bomb is not read, nor reported
    clean)."""
    view, covered = memoryview(data), 0
    try:  # a file that is a raw deflate stream whole (one found inside other bytes has no header to be found by)
        decoded, covered = _decoded(zlib.decompressobj(-15), view, budget)
        if decoded:
            yield decoded
    except zlib.error:
        covered = 0
    for match in _STREAM_STARTS.finditer(data):
        start, kind = match.start(), match.group()
        if start < covered:
            continue
        try:
            if kind[:1] == b"\x1f":
                decoded, used = _decoded(zlib.decompressobj(31), view[start:], budget)
            elif kind[:2] == b"BZ":
                decoded, used = _decoded(bz2.BZ2Decompressor(), view[start:], budget)
            elif kind[:1] == b"\xfd":
                decoded, used = _decoded(lzma.LZMADecompressor(lzma.FORMAT_XZ), view[start:], budget)
            elif kind[:2] == b"PK":
                decoded, used = _zipEntry(view, start, budget)
            elif (kind[0] << 8 | kind[1]) % 31 == 0 and not kind[1] & 0x20:  # zlib, no preset dictionary
                decoded, used = _decoded(zlib.decompressobj(15), view[start:], budget)
            else:
                continue
        except FormatError:
            raise
        except (zlib.error, OSError, EOFError, ValueError, lzma.LZMAError, struct.error):
            continue
        if decoded:
            covered = start + used
            yield decoded


def _decoded(decompressor, view, budget):
    """(what decompressor makes of view, the bytes of view it used), charged to budget."""
    decoded = decompressor.decompress(view, budget[0] + 1)
    budget[0] -= len(decoded)
    if budget[0] < 0:
        raise FormatError("compressed data inside the file decodes to more than can be read (a zip bomb?)")
    used = len(view) - len(decompressor.unused_data) if decompressor.eof else len(view)
    return decoded, used


def _zipEntry(view, start, budget):
    """(content, bytes used) of the zip entry whose local header starts at start (deflated, bzip2 or LZMA; a stored
    one's bytes are searched where they lie). An entry compressed otherwise cannot be read: FormatError."""
    _, _, _, method, _, _, _, _, _, nameLength, extraLength = _LOCAL_HEADER.unpack_from(view, start)
    header = _LOCAL_HEADER.size + nameLength + extraLength
    if method == 0:
        return b"", 0
    body = view[start + header :]
    if method == 8:
        decompressor = zlib.decompressobj(-15)
    elif method == 12:
        decompressor = bz2.BZ2Decompressor()
    elif method == 14:  # LZMA: a version, the properties' size, the properties (APPNOTE 5.8.8), then the data
        propertiesSize = struct.unpack_from("<H", body, 2)[0]
        decompressor = _lzma1(bytes(body[4 : 4 + propertiesSize]))
        header, body = header + 4 + propertiesSize, body[4 + propertiesSize :]
    else:
        raise FormatError("a zip entry inside the file uses a compression method that cannot be read")
    decoded, used = _decoded(decompressor, body, budget)
    return decoded, header + used


def _lzma1(properties):
    """A raw LZMA1 decompressor for 5 bytes of properties: lc, lp and pb in one byte, then the dictionary size."""
    if len(properties) != 5:
        raise ValueError("not LZMA properties")
    bits, dictionarySize = properties[0], struct.unpack("<I", properties[1:])[0]
    lzma1 = {"id": lzma.FILTER_LZMA1, "dict_size": dictionarySize, "lc": bits % 9, "lp": bits % 45 // 9}
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[{**lzma1, "pb": bits // 45}])


def rawText(data, depth=0, budget=None):
    """The text of data as a searcher reads unknown bytes (runs joined by line breaks)."""
    budget = [MAX_DECODED + 16 * len(data)] if budget is None else budget
    pieces = _runs(data)
    if depth < MAX_DEPTH:
        pieces += [rawText(inflated, depth + 1, budget) for inflated in _streams(data, budget)]
    return "\n".join(pieces)
