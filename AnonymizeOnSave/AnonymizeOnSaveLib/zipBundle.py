"""Reading a zip bundle safely and writing a new one that copies unchanged entries without recompressing them.

Unchanged entries keep their compressed bytes, order, timestamps and attributes; an entry that is only renamed
keeps its compressed bytes too. Each entry's comment and extra fields are text too: the writer takes them from a
cleaner its caller gives (an Info-ZIP Unicode Path field keeps an entry's old name after a rename, and unzip tools
prefer it to the name), and entryTexts gives them, the local header's extra fields included, to be searched.
Refused: encrypted entries, zip64 archives, entry names that escape the bundle, and entries we must read (scene
XML, nested bundles) whose size or compression ratio is implausible (zip bombs); data entries are only copied,
so a mostly empty labelmap that compresses 1000:1 is fine.
"""

import io
import itertools
import os
import posixpath
import struct
import zipfile
import zlib

from .deflateSplice import DeflateError, splice

MAX_READ_BYTES = 512 << 20  # largest entry we decompress into memory (scene XML, nested bundles)
MAX_RATIO = 200  # scene XML compresses about 10:1; far beyond that, an entry we must read is a zip bomb
MAX_TOTAL_BYTES = 1 << 40
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_COPY_CHUNK = 1 << 20
_SPLICE_SCAN = 1 << 22  # the compressed bytes read to find a block boundary past a header
# What zipfile raises on damaged or unusual archives (found by fuzzing: NotImplementedError for unknown versions).
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError, struct.error)
ZIP_ERRORS += (NotImplementedError, RuntimeError, KeyError, IndexError)


class BundleError(ValueError):
    """The zip cannot be read safely; the message never quotes an entry name (it may hold PHI)."""


def openBundle(fileObject):
    """A checked zipfile.ZipFile over fileObject."""
    try:
        archive = zipfile.ZipFile(fileObject)
        infos = archive.infolist()
    except ZIP_ERRORS as error:
        raise BundleError(f"not a readable zip bundle ({type(error).__name__})") from None
    total = 0
    names = set()
    for index, info in enumerate(infos):
        if info.filename in names:
            raise BundleError(f"entry {index + 1} has a name an earlier entry has: the bundle holds an entry twice")
        names.add(info.filename)
        if escapesBundle(info.filename):
            raise BundleError(f"entry {index + 1} has a name that escapes the bundle")
        if info.flag_bits & 0x1:
            raise BundleError(f"entry {index + 1} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleError(f"entry {index + 1} uses an unsupported compression method")
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise BundleError(f"entry {index + 1} holds bytes beyond its content, which no reader reads")
        if max(info.file_size, info.compress_size, info.header_offset) >= 0xFFFFFFFF:
            raise BundleError("zip64 bundles (over 4 GB) are not supported")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise BundleError("the bundle's declared size is implausible (a zip bomb?)")
    return archive


def escapesBundle(name):
    """True for an absolute name or one with a .. part."""
    name = name.replace("\\", "/")
    return name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in name.split("/")


def readEntry(archive, info, limit=MAX_READ_BYTES):
    """The decompressed bytes of an entry, refusing more than limit, and an entry whose compressed bytes hold more
    than its content (bytes after the end of its deflate stream, a stream going on past its size): an unchanged
    entry is copied whole, so every byte of it must be what is read."""
    if info.file_size > limit:
        raise BundleError("an entry to be read is too large")
    if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > (1 << 20):
        raise BundleError("an entry has an implausible compression ratio (a zip bomb?)")
    try:
        raw = _rawData(archive.fp, info)
        if info.compress_type == zipfile.ZIP_STORED:
            data, whole = raw, True
        else:
            inflater = zlib.decompressobj(-15)
            data = inflater.decompress(raw, limit + 1)
            whole = inflater.eof and not inflater.unused_data and not inflater.unconsumed_tail
    except ZIP_ERRORS as error:
        raise BundleError(f"a zip entry is corrupt ({type(error).__name__})") from None
    if len(data) > limit:
        raise BundleError("an entry is larger than it claims (a zip bomb?)")
    if not whole or len(data) != info.file_size:
        raise BundleError("a zip entry's compressed bytes hold more or less than its content")
    if zlib.crc32(data) != info.CRC:
        raise BundleError("a zip entry is corrupt (its checksum differs)")
    return data


def _localLengths(fileObject, info):
    """(name length, extra field length) of an entry's local header (zipfile reads only the central directory's)."""
    fileObject.seek(info.header_offset)
    header = fileObject.read(_LOCAL.size)
    if len(header) < _LOCAL.size or header[:4] != b"PK\x03\x04":
        raise BundleError("a zip entry's local header is corrupt")
    return struct.unpack("<HH", header[26:30])


def _rawData(fileObject, info):
    """The compressed bytes of an entry, as they lie after its local header."""
    fileObject.seek(info.header_offset + _LOCAL.size + sum(_localLengths(fileObject, info)))
    raw = fileObject.read(info.compress_size)
    if len(raw) != info.compress_size:
        raise BundleError("a zip entry is cut short")
    return raw


def readEntryStart(archive, info, size):
    """The first size decompressed bytes of an entry."""
    try:
        with archive.open(info) as stream:
            return stream.read(size)
    except ZIP_ERRORS as error:
        raise BundleError(f"a zip entry is corrupt ({type(error).__name__})") from None


UNICODE_PATH, UNICODE_COMMENT = 0x7075, 0x6375  # Info-ZIP: an entry's name and comment again, in UTF-8


def extraFields(extra):
    """[(id, data)] of a zip extra field block; a block that does not parse is one field of id None."""
    fields, position = [], 0
    while position + 4 <= len(extra):
        fieldId, size = struct.unpack("<HH", extra[position : position + 4])
        if position + 4 + size > len(extra):
            return [(None, extra)]
        fields.append((fieldId, extra[position + 4 : position + 4 + size]))
        position += 4 + size
    return fields if position == len(extra) else [(None, extra)]


def joinExtraFields(fields):
    return b"".join(
        data if fieldId is None else struct.pack("<HH", fieldId, len(data)) + data for fieldId, data in fields
    )


def localExtra(fileObject, info):
    """The extra fields of an entry's local header (zipfile reads only the central directory's)."""
    nameLength, extraLength = _localLengths(fileObject, info)
    fileObject.seek(info.header_offset + _LOCAL.size + nameLength)
    return fileObject.read(extraLength)


def entryTexts(fileObject, info):
    """(what, bytes) of an entry's comment and its central and local extra fields."""
    return [
        ("entry comment", info.comment),
        ("extra field", info.extra),
        ("local extra field", localExtra(fileObject, info)),
    ]


def commentText(archive):
    """The archive comment as text (UTF-8, else the zip format's cp437)."""
    return decodeComment(archive.comment)


def decodeComment(data):
    """An archive or entry comment as text: UTF-8, else the zip format's cp437."""
    try:
        return (data or b"").decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp437")


def normalizedMember(directory, relative):
    """The entry name a file name relative to a scene in directory refers to."""
    return posixpath.normpath(posixpath.join(directory, relative.replace("\\", "/")))


# --- CRC-32 arithmetic (zlib's crc32_combine): the CRC of a body from the CRC of the whole and of its start ------

_POLYNOMIAL = 0xEDB88320


def _multiplyModP(a, b):
    """a * b modulo the CRC-32 polynomial (reflected), as zlib's multmodp."""
    mask, product = 1 << 31, 0
    while True:
        if a & mask:
            product ^= b
            if a & (mask - 1) == 0:
                return product
        mask >>= 1
        b = (b >> 1) ^ _POLYNOMIAL if b & 1 else b >> 1


_X_TO_2_TO_N = [1 << 30]  # x^(2^n) modulo the polynomial, n = 0..31
for _ in range(31):
    _X_TO_2_TO_N.append(_multiplyModP(_X_TO_2_TO_N[-1], _X_TO_2_TO_N[-1]))


def _shift(crc, length):
    """crc multiplied by x^(8 * length): what length more bytes do to the CRC of what precedes them."""
    power, n, k = 1 << 31, length, 3
    while n:
        if n & 1:
            power = _multiplyModP(_X_TO_2_TO_N[k & 31], power)
        n >>= 1
        k += 1
    return _multiplyModP(power, crc)


def crcCombine(crcFirst, crcSecond, secondLength):
    """The CRC-32 of two byte strings one after the other, from theirs (zlib's crc32_combine)."""
    return _shift(crcFirst, secondLength) ^ crcSecond


def crcOfRest(crcWhole, crcStart, restLength):
    """The CRC-32 of what follows a start, from the CRC of the whole and of the start."""
    return crcWhole ^ _shift(crcStart, restLength)


def _dosDateTime(dateTime):
    year, month, day, hour, minute, second = dateTime
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _encodedName(info, name):
    if info.flag_bits & 0x800:
        return name.encode("utf-8"), info.flag_bits
    try:
        return name.encode("cp437"), info.flag_bits
    except UnicodeEncodeError:
        return name.encode("utf-8"), info.flag_bits | 0x800


def _copyInKernel(source, output, offset, length):
    """Copy length bytes at offset of source to the end of output without passing them through Python, where both
    are files on a system that can (Linux's copy_file_range); False when it cannot, before anything was copied."""
    if not hasattr(os, "copy_file_range"):
        return False
    try:
        sourceHandle, outputHandle = source.fileno(), output.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return False
    output.flush()
    position, copied = output.tell(), 0
    while copied < length:
        try:
            count = os.copy_file_range(sourceHandle, outputHandle, length - copied, offset + copied, position + copied)
        except OSError:
            if copied:
                raise
            return False
        if count == 0:
            raise BundleError("a zip entry is truncated")
        copied += count
    output.seek(position + length)
    return True


def withNewStart(newStart, stream, skip):
    """newStart, then what follows the first skip bytes of a binary stream (closed at the end), in chunks."""
    yield newStart
    with stream:
        stream.read(skip)
        while True:
            chunk = stream.read(_COPY_CHUNK)
            if not chunk:
                return
            yield chunk


def keptExtraAndComment(info, name):
    """An entry's extra fields and comment as they are, without a Unicode Path field when the entry is renamed."""
    extra = info.extra
    if name != info.filename:
        extra = joinExtraFields([field for field in extraFields(extra) if field[0] != UNICODE_PATH])
    return extra, info.comment or b""


class BundleWriter:
    """Writes a new zip to a seekable binary file, entry by entry, in the order they are given."""

    def __init__(self, source, sourceFile, output, comment=None, entryCleaner=None):
        """comment: the archive comment to write (None: the source's). entryCleaner(info, name): the (extra, comment)
        bytes an entry written under name keeps (None: the source's, without a Unicode Path that no longer
        names it)."""
        self.source, self.sourceFile, self.output = source, sourceFile, output
        self.comment = source.comment if comment is None else comment
        self.entryCleaner = entryCleaner or keptExtraAndComment
        self.central = []

    def _rawRange(self, info):
        """(offset, length) of the entry's compressed data in the source."""
        return info.header_offset + _LOCAL.size + sum(_localLengths(self.sourceFile, info)), info.compress_size

    def _writeHeader(self, info, name, flags, crc, compressedSize, size, compressType):
        encoded, flags = _encodedName(info, name)
        flags &= ~0x08  # sizes are in the header: no data descriptor
        offset = self.output.tell()
        time, date = _dosDateTime(info.date_time)
        self.output.write(
            _LOCAL.pack(
                0x04034B50,
                info.extract_version,
                flags,
                compressType,
                time,
                date,
                crc,
                compressedSize,
                size,
                len(encoded),
                0,
            )
        )
        self.output.write(encoded)
        extra, comment = self.entryCleaner(info, name)
        self.central.append((info, encoded, flags, crc, compressedSize, size, compressType, offset, extra, comment))

    def copy(self, info, name=None):
        """The entry's compressed bytes as they are, under its name or a new one."""
        start, length = self._rawRange(info)
        self._writeHeader(
            info,
            name or info.filename,
            info.flag_bits,
            info.CRC,
            info.compress_size,
            info.file_size,
            info.compress_type,
        )
        self._copyRaw(start, length)

    def replaceStart(self, info, name, newStart, oldStart):
        """The entry with its first bytes oldStart replaced by newStart (a data file's new header) and the rest (the
        body) kept. A stored body is copied byte for byte, without being read; so is a deflated one after the first
        block boundary a window past the header (deflateSplice.py); the CRC is derived from the original's. When the
        stream has no such boundary near its start, a body that does not compress (gzip'd voxels) is inflated once
        and stored, and one that compresses is recompressed (write())."""
        restLength = info.file_size - len(oldStart)
        crc = crcCombine(zlib.crc32(newStart), crcOfRest(info.CRC, zlib.crc32(oldStart), restLength), restLength)
        size = len(newStart) + restLength
        if size >= 0xFFFFFFFF:
            raise BundleError("the cleaned bundle would need zip64, which is not supported")
        if info.compress_type == zipfile.ZIP_STORED:
            start, _ = self._rawRange(info)
            self._writeHeader(info, name, info.flag_bits, crc, size, size, zipfile.ZIP_STORED)
            self.output.write(newStart)
            self._copyRaw(start + len(oldStart), restLength)
            return
        if info.compress_type == zipfile.ZIP_DEFLATED and self._splice(info, name, newStart, oldStart, size):
            return
        body = self._inflated(info, len(oldStart))
        first = next(body, b"")
        if len(zlib.compress(first[: 1 << 16], 1)) < 0.9 * len(first[: 1 << 16]):
            self.write(info, name, itertools.chain((newStart, first), body))
            return
        self._writeHeader(info, name, info.flag_bits, crc, size, size, zipfile.ZIP_STORED)
        self.output.write(newStart)
        self.output.write(first)
        for chunk in body:
            self.output.write(chunk)

    def _splice(self, info, name, newStart, oldStart, size):
        """Write the entry as a new head for its new start and the original compressed bytes after a block boundary;
        False (nothing written) when its first _SPLICE_SCAN bytes hold no boundary that can be used."""
        start, length = self._rawRange(info)
        self.sourceFile.seek(start)
        try:
            plan = splice(self.sourceFile.read(min(length, _SPLICE_SCAN)), len(oldStart), newStart)
        except DeflateError:
            return False
        if plan is None:
            return False
        head, index, offset, original = plan
        restLength = info.file_size - offset
        crc = crcCombine(
            zlib.crc32(newStart + original[len(oldStart) :]),
            crcOfRest(info.CRC, zlib.crc32(original), restLength),
            restLength,
        )
        self._writeHeader(info, name, info.flag_bits, crc, len(head) + length - index, size, zipfile.ZIP_DEFLATED)
        self.output.write(head)
        self._copyRaw(start + index, length - index)
        return True

    def _inflated(self, info, skip):
        """The decompressed bytes of a deflated entry after its first skip bytes, in chunks; inflated straight from
        the raw stream (the CRC is derived, so zipfile's running check is not needed)."""
        start, length = self._rawRange(info)
        self.sourceFile.seek(start)
        inflater = zlib.decompressobj(-15)
        remaining, pending = length, b""
        while remaining or inflater.unconsumed_tail:
            raw = inflater.unconsumed_tail or self.sourceFile.read(min(_COPY_CHUNK, remaining))
            if not inflater.unconsumed_tail:
                if not raw:
                    raise BundleError("a zip entry is truncated")
                remaining -= len(raw)
            chunk = inflater.decompress(raw, _COPY_CHUNK)
            if skip:
                pending += chunk
                if len(pending) < skip:
                    continue
                chunk, pending, skip = pending[skip:], b"", 0
            if chunk:
                yield chunk
        tail = inflater.flush()
        if tail:
            yield tail[skip:] if skip else tail

    def _copyRaw(self, offset, length):
        if length > _COPY_CHUNK and _copyInKernel(self.sourceFile, self.output, offset, length):
            return
        self.sourceFile.seek(offset)
        remaining = length
        while remaining:
            chunk = self.sourceFile.read(min(_COPY_CHUNK, remaining))
            if not chunk:
                raise BundleError("a zip entry is truncated")
            self.output.write(chunk)
            remaining -= len(chunk)

    def write(self, info, name, chunks):
        """New content (an iterable of byte strings), compressed as the original entry was."""
        compressType = info.compress_type
        headerAt = self.output.tell()
        self._writeHeader(info, name, info.flag_bits, 0, 0, 0, compressType)
        dataAt = self.output.tell()
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15) if compressType == zipfile.ZIP_DEFLATED else None
        crc = size = 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            self.output.write(compressor.compress(chunk) if compressor else chunk)
        if compressor:
            self.output.write(compressor.flush())
        end = self.output.tell()
        if max(size, end - dataAt) >= 0xFFFFFFFF:
            raise BundleError("the cleaned bundle would need zip64, which is not supported")
        entry = self.central[-1]
        self.central[-1] = (*entry[:3], crc, end - dataAt, size, *entry[6:])
        self.output.seek(headerAt + 14)
        self.output.write(struct.pack("<III", crc, end - dataAt, size))
        self.output.seek(end)

    def finish(self):
        start = self.output.tell()
        for info, encoded, flags, crc, compressedSize, size, compressType, offset, extra, comment in self.central:
            time, date = _dosDateTime(info.date_time)
            self.output.write(
                _CENTRAL.pack(
                    0x02014B50,
                    info.create_version | (info.create_system << 8),
                    info.extract_version,
                    flags,
                    compressType,
                    time,
                    date,
                    crc,
                    compressedSize,
                    size,
                    len(encoded),
                    len(extra),
                    len(comment),
                    0,
                    info.internal_attr,
                    info.external_attr,
                    offset,
                )
            )
            self.output.write(encoded + extra + comment)
        size = self.output.tell() - start
        comment = self.comment or b""
        count = len(self.central)
        self.output.write(_END.pack(0x06054B50, 0, 0, count, count, size, start, len(comment)) + comment)
