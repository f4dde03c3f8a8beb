"""VTK XML files (.vtp, .vtu, .vti, .vts, .vtr and the .vtm of a multiblock, as Slicer writes models and the
.seg.vtm of a closed-surface segmentation, whose segment names, IDs and tags are String arrays of field data).

Read to the end: every attribute value of every element (array and block names, a block's file name), the text
between elements (an information key's value), comments and processing instructions, and every String array in
each way VTK writes one: ascii, inline base64 ("binary") and appended data (raw or base64), uncompressed or in
zlib or LZMA blocks, with 32- or 64-bit headers, either byte order. 8-bit arrays (Int8, UInt8, Char) are decoded
and searched for text (a value found there cannot be cleaned: the save fails). Wider numeric arrays hold numbers
by their declared type and are not decoded (their chunks of appended data are kept byte for byte). A changed
String array is written back inline as ascii, its appended chunk dropped and the offsets of the others moved; a
changed attribute or text is rewritten in place; every other byte stays as it was.
"""

import base64
import binascii
import lzma
import re
import struct
import zlib

from ..mrmlText import xmlDecode, xmlEncode
from .rawBytes import rawText
from .surface import FormatError, ValueSurface

SUFFIXES = (".vtp", ".vtu", ".vti", ".vts", ".vtr", ".vtm")
_TAG = re.compile(r"<(/?)([A-Za-z_][\w.:-]*)((?:\s[^<>]*?)?)(/?)>|<!--.*?-->|<\?.*?\?>", re.S)
_ATTRIBUTE = re.compile(r"""([^\s=/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_APPENDED = re.compile(rb"<AppendedData\b[^>]*?encoding\s*=\s*\"(raw|base64)\"[^>]*>\s*_")
# The format's own words: never a person's text (a count that equals a short ID must not be cleaned).
_STRUCTURAL = frozenset(
    """type version byte_order header_type compressor format offset encoding NumberOfTuples NumberOfComponents
    NumberOfPoints NumberOfCells NumberOfVerts NumberOfLines NumberOfStrips NumberOfPolys NumberOfPieces RangeMin
    RangeMax WholeExtent Extent Origin Spacing Direction index level location length idType""".split()
)
_BYTE_TYPES = ("Int8", "UInt8", "Char")
_TEXT_ENCODERS = {
    "text": lambda value: value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
    "comment": lambda value: value.replace("--", "- "),
    "PI": lambda value: value.replace("?>", "? "),
}
_DECOMPRESSORS = {"vtkZLibDataCompressor": zlib.decompressobj, "vtkLZMADataCompressor": lzma.LZMADecompressor}


class _Array:
    """A String array: its element's span in the head, its data text's span, its attributes."""

    def __init__(self, tagStart, tagEnd, selfClosing, attributes):
        self.tagStart, self.tagEnd, self.selfClosing, self.attributes = tagStart, tagEnd, selfClosing, attributes
        self.dataStart = self.dataEnd = tagEnd
        self.indexes = []  # the surface's value indexes of its strings


class VtkXmlFile(ValueSurface):
    def __init__(self, data):
        super().__init__()
        self.data = data
        appended = _APPENDED.search(data)
        self.appendedStart = appended.end() if appended else None
        self.appendedEnd = data.rfind(b"</AppendedData>") if appended else None
        if appended and self.appendedEnd < self.appendedStart:
            raise FormatError("a VTK XML file's appended data has no end")
        self.encoding = appended.group(1).decode() if appended else None
        try:
            self.head = data[: appended.start() if appended else len(data)].decode("utf-8")
            self.tail = data[self.appendedEnd :].decode("utf-8") if appended else ""
        except UnicodeDecodeError:
            raise FormatError("a VTK XML file's markup is not UTF-8") from None
        self.attributeSpans = {}  # value index -> (start, end) of the written attribute value in the head
        self.arrays, self.offsets, self.encoders, self.bytesArrays, self._inlineBinary = [], {}, {}, [], []
        self._readHead()

    # --- reading ------------------------------------------------------------------------------------------------

    def _readHead(self):
        fileAttributes, position, array = None, 0, None
        for match in _TAG.finditer(self.head):
            if array is not None and array.dataEnd == array.tagEnd:
                array.dataEnd = match.start()  # the array's data: the text up to its first child or its end
            else:
                self._freeText(position, match.start(), "text")
            position = match.end()
            closing, element, attributes, selfClosing = match.group(1), match.group(2), match.group(3), match.group(4)
            if element is None:
                written = match.group(0)
                kind = "comment" if written.startswith("<!--") else "PI"
                if not written.startswith("<?xml "):
                    self._freeText(
                        match.start() + (4 if kind == "comment" else 2),
                        match.end() - (3 if kind == "comment" else 2),
                        kind,
                    )
                continue
            if closing:
                array = None if element in ("DataArray", "Array") else array
                continue
            values = self._readAttributes(element, attributes, match.start(3))
            if element == "VTKFile":
                fileAttributes = values
            if element in ("DataArray", "Array"):  # a numeric array's data is passed over, not read
                array = _Array(match.start(), match.end(), bool(selfClosing), values)
                if values.get("format") == "binary":
                    self._inlineBinary.append(array)
                if values.get("type") == "String":
                    self.arrays.append(array)
                elif values.get("type") in _BYTE_TYPES:
                    self.bytesArrays.append(array)
                if values.get("format") == "appended":
                    self.offsets.setdefault(_integer(values.get("offset")), []).append(array)
            if selfClosing:
                array = None
        self._freeText(position, len(self.head), "text")
        if fileAttributes is None:
            raise FormatError("not a VTK XML file")
        self.wordSize = 8 if fileAttributes.get("header_type") == "UInt64" else 4
        self.byteOrder = ">" if fileAttributes.get("byte_order") == "BigEndian" else "<"
        self.compressor = fileAttributes.get("compressor")
        for array in self.arrays:
            self._readStrings(array)
        for array in self.bytesArrays:  # 8-bit arrays may hold text: searched, never cleaned
            self.otherText.append(rawText(self._arrayBytes(array)))
        self.otherText += [self.tail, rawText(self._unclaimedAppended())]  # searched, never cleaned
        for offset in self.offsets:  # of every array, numeric too: what a chunk holds past its declared data
            if self.appendedStart is not None:
                self.otherText.append(self._slack(self._chunk(offset), self.encoding == "base64"))
        for array in self._inlineBinary:
            self.otherText.append(self._slack(self.head[array.tagEnd : array.dataEnd].encode("ascii", "replace"), True))

    def _slack(self, chunk, encoded):
        """The text of what an array's chunk holds after its header and the data the header declares (bytes no
        reader reads: a VTK writer leaves none); encoded: base64 text, searched as it is written. The data itself
        is not decoded."""
        if encoded:
            chunk = chunk.lstrip()  # (an inline array's text begins on a line of its own)
            try:
                first = self._words(base64.b64decode(_firstCharacters(chunk, _base64Length(self.wordSize))), 1)[0]
                if not self.compressor:
                    return rawText(_afterCharacters(chunk, _base64Length(self.wordSize + first)))
                headerLength = _base64Length((3 + first) * self.wordSize)
                sizes = self._words(base64.b64decode(_firstCharacters(chunk, headerLength)), 3 + first)[3:]
            except (binascii.Error, ValueError):
                raise FormatError("a VTK XML array's base64 data cannot be decoded") from None
            return rawText(_afterCharacters(chunk, headerLength + _base64Length(sum(sizes))))
        headerLength, sizes = self._layout(chunk)
        return rawText(chunk[headerLength + sum(sizes) :])

    def _unclaimedAppended(self):
        """The appended bytes no array's offset points into (before the first chunk, or all when none does)."""
        if self.appendedStart is None:
            return b""
        first = min(self.offsets, default=self.appendedEnd - self.appendedStart)
        return self.data[self.appendedStart : self.appendedStart + first]

    def _freeText(self, start, end, kind):
        """Text that is no attribute nor array data: between elements (an information key's value), a comment or
        a processing instruction; a Site written back escaped, or without its own end marker."""
        if self.head[start:end].strip():
            written = self.head[start:end]
            index = self.add(xmlDecode(written) if kind == "text" else written, f"XML {kind}")
            self.attributeSpans[index] = (start, end)
            self.encoders[index] = _TEXT_ENCODERS[kind]

    def _readAttributes(self, element, text, offset):
        values = {}
        for match in _ATTRIBUTE.finditer(text):
            name, written = match.group(1), match.group(2) if match.group(2) is not None else match.group(3)
            value = xmlDecode(written)
            values[name] = value
            if name in _STRUCTURAL or (element == "InformationKey" and name == "name"):
                continue
            index = self.add(value, f"<{element}> {name}", fileName=name == "file")
            group = 2 if match.group(2) is not None else 3
            self.attributeSpans[index] = (offset + match.start(group), offset + match.end(group))
        return values

    def _readStrings(self, array):
        strings = self._arrayBytes(array).split(b"\0")
        if "NumberOfTuples" in array.attributes:
            tuples = _integer(array.attributes["NumberOfTuples"])
            count = tuples * _integer(array.attributes.get("NumberOfComponents", "1"))
        else:  # point and cell data: as many as the piece has points or cells, each ended by a null byte
            count = len(strings) - 1
        if len(strings) < count or any(strings[count:]):
            raise FormatError("a VTK XML String array does not hold the strings it declares")
        name = array.attributes.get("Name", "")
        for number, raw in enumerate(strings[:count]):
            try:
                value = raw.decode("utf-8")
            except UnicodeDecodeError:
                value = raw.decode("latin-1")
            array.indexes.append(self.add(value, f"String array {name!r} value {number + 1}"))

    def _arrayBytes(self, array):
        fmt = array.attributes.get("format", "ascii")
        if fmt == "ascii":
            text = self.head[array.tagEnd : array.dataEnd]
            try:
                return bytes(_byte(int(word)) for word in text.split())  # VTK writes a char: signed
            except ValueError:
                raise FormatError("a VTK XML ascii String array holds something other than bytes") from None
        if fmt == "binary":
            return self._fromBase64(self.head[array.tagEnd : array.dataEnd])
        if fmt == "appended" and self.appendedStart is not None:
            chunk = self._chunk(_integer(array.attributes.get("offset")))
            if self.encoding == "base64":
                return self._fromBase64(chunk.decode("ascii", "replace"))
            return self._fromHeaded(chunk)
        raise FormatError("a VTK XML array has a format that cannot be read")

    def _chunk(self, offset):
        """The appended bytes from offset to the next array's offset (or the end)."""
        later = [start for start in self.offsets if start > offset]
        end = self.appendedStart + min(later) if later else self.appendedEnd
        return self.data[self.appendedStart + offset : end]

    def _words(self, data, count):
        size = self.wordSize * count
        if len(data) < size:
            raise FormatError("a VTK XML array's header is cut short")
        return struct.unpack(f"{self.byteOrder}{count}{'Q' if self.wordSize == 8 else 'I'}", data[:size])

    def _layout(self, data):
        """(the length of an array's header, the sizes of the data it declares: the bytes, or each compressed
        block's) of an array written as a header then its data."""
        if not self.compressor:
            return self.wordSize, self._words(data, 1)
        blocks = self._words(data, 1)[0]
        return self.wordSize * (3 + blocks), self._words(data, 3 + blocks)[3:]

    def _fromHeaded(self, data):
        """The bytes of an array written as a header then its data (raw appended data, or decoded base64)."""
        position, sizes = self._layout(data)
        if not self.compressor:
            if len(data) < position + sizes[0]:
                raise FormatError("a VTK XML array is cut short")
            return data[position : position + sizes[0]]
        pieces = []
        for size in sizes:
            pieces.append(self._decompress(data[position : position + size]))
            position += size
        return b"".join(pieces)

    def _fromBase64(self, text):
        text = "".join(text.split())
        try:
            if not self.compressor:
                return self._fromHeaded(base64.b64decode(text))
            first = base64.b64decode(text[: 4 * -(-self.wordSize // 3)] + "==")[: self.wordSize]
            blocks = struct.unpack(f"{self.byteOrder}{'Q' if self.wordSize == 8 else 'I'}", first)[0]
            headerChars = 4 * -(-(3 + blocks) * self.wordSize // 3)
            header = base64.b64decode(text[:headerChars])
            return self._fromHeaded(header[: (3 + blocks) * self.wordSize] + base64.b64decode(text[headerChars:]))
        except FormatError:
            raise
        except (binascii.Error, struct.error, ValueError):
            raise FormatError("a VTK XML array's base64 data cannot be decoded") from None

    def _decompress(self, block):
        """A block's content; what the block holds after its compressed stream (which VTK's reader never reads) is
        searched."""
        decompressor = _DECOMPRESSORS.get(self.compressor)
        if decompressor is None:
            known = self.compressor if re.fullmatch(r"vtk\w*Compressor", self.compressor or "") else "a compressor"
            raise FormatError(f"a VTK XML file compressed with {known} cannot be read")
        inflater = decompressor()
        try:
            content = inflater.decompress(block)
        except (zlib.error, lzma.LZMAError):
            raise FormatError("a VTK XML array's compressed data cannot be inflated") from None
        if not inflater.eof:
            raise FormatError("a VTK XML array's compressed data is cut short")
        if inflater.unused_data:
            self.otherText.append(rawText(inflater.unused_data))
        return content

    # --- writing ------------------------------------------------------------------------------------------------

    def render(self):
        """The file's bytes with every changed value written."""
        if not self.changed:
            return self.data
        rewritten = [array for array in self.arrays if any(self.isChanged(index) for index in array.indexes)]
        dropped = {id(array) for array in rewritten if array.attributes.get("format") == "appended"}
        newOffsets, appended = self._appended(dropped)
        spans = [(array.tagStart, array.tagEnd) for array in rewritten]
        edits = [edit for array in rewritten for edit in self._asciiEdits(array)]
        for index, (start, end) in self.attributeSpans.items():
            if self.isChanged(index) and not _inside(start, spans):
                edits.append((start, end, self.encoders.get(index, xmlEncode)(self.value(index))))
        for offset, arrays in self.offsets.items():
            if offset in newOffsets and newOffsets[offset] != offset:
                for array in arrays:
                    start, end = self._offsetSpan(array)
                    if not _inside(start, spans):
                        edits.append((start, end, str(newOffsets[offset])))
        head = self.head
        for start, end, text in sorted(edits, reverse=True):
            head = head[:start] + text + head[end:]
        if self.appendedStart is None:
            return head.encode("utf-8")
        opening = self.data[len(self.head.encode("utf-8")) : self.appendedStart]
        return head.encode("utf-8") + opening + appended + self.tail.encode("utf-8")

    def _appended(self, dropped):
        """(old offset -> new offset, the appended data without the dropped arrays' chunks)."""
        if self.appendedStart is None:
            return {}, b""
        pieces, newOffsets, position = [], {}, 0
        for offset in sorted(self.offsets):
            chunk = self._chunk(offset)
            if all(id(array) in dropped for array in self.offsets[offset]):
                continue
            newOffsets[offset] = position
            pieces.append(chunk)
            position += len(chunk)
        return newOffsets, b"".join(pieces)

    def _offsetSpan(self, array):
        tag = self.head[array.tagStart : array.tagEnd]
        match = re.search(r"""\soffset\s*=\s*["']([^"']*)""", tag)
        return array.tagStart + match.start(1), array.tagStart + match.end(1)

    def _asciiEdits(self, array):
        """The edit that writes a String array inline as ascii (its other attributes, changed or not, and its
        children kept)."""
        tag = self.head[array.tagStart : array.tagEnd]
        for index, (start, end) in sorted(self.attributeSpans.items(), key=lambda item: -item[1][0]):
            if array.tagStart <= start < array.tagEnd and self.isChanged(index):
                start, end = start - array.tagStart, end - array.tagStart
                tag = tag[:start] + xmlEncode(self.value(index)) + tag[end:]
        tag = re.sub(r"""\s(?:format|offset)\s*=\s*(?:"[^"]*"|'[^']*')""", "", tag)
        tag = tag[: -2 if tag.endswith("/>") else -1].rstrip() + ' format="ascii">'
        strings = b"".join(self.value(index).encode("utf-8") + b"\0" for index in array.indexes)
        data = "\n" + " ".join(str(byte - 256 if byte > 127 else byte) for byte in strings) + "\n"
        if array.selfClosing:
            element = self.head[array.tagStart + 1 : array.tagEnd].split()[0]
            return [(array.tagStart, array.tagEnd, f"{tag}{data}</{element}>")]
        return [(array.tagStart, array.dataEnd, tag + data)]


_NON_SPACE = re.compile(rb"\S+")
_SPACES = (b" ", b"\t", b"\n", b"\r", b"\v", b"\f")


def _spaced(text, count):
    """Whether the first count bytes of text hold white space (memchr: VTK writes base64 without line breaks)."""
    return any(text.find(space, 0, count) >= 0 for space in _SPACES)


def _firstCharacters(text, count):
    """The first count characters of text that are not white space."""
    return b"".join(text.split())[:count] if _spaced(text, count) else text[:count]


def _afterCharacters(text, count):
    """What follows the first count characters of text that are not white space (as written, spaces kept)."""
    if len(text) >= count and not _spaced(text, count):
        return text[count:]
    for run in _NON_SPACE.finditer(text):
        if count < run.end() - run.start():
            return text[run.start() + count :]
        count -= run.end() - run.start()
        if not count:
            return text[run.end() :]
    return b""


def _base64Length(size):
    """The characters base64 writes for size bytes."""
    return 4 * -(-size // 3)


def _inside(position, spans):
    return any(start <= position < end for start, end in spans)


def _byte(number):
    if not -128 <= number <= 255:
        raise ValueError(number)
    return number & 0xFF


def _integer(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        raise FormatError("a VTK XML array has a count or offset that is not a number") from None
