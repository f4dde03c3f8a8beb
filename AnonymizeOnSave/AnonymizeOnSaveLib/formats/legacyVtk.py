"""Legacy VTK files (.vtk, Slicer's default model format; versions 4.2 and 5.1, ASCII and BINARY), read to the end
as vtkDataReader reads them: the title line, every data set, cell, attribute and field section, array names and
string arrays (percent-encoded lines in ASCII, length-prefixed in BINARY), METADATA blocks (component names and
information). 8-bit arrays are read and searched for text (not cleaned: a value there fails the save); wider
numeric arrays are passed over by their declared size (binary) or count of numbers (ASCII). A
keyword the reader does not know, or a file that ends inside a section, is a FormatError: never reported clean.
"""

import re
import struct
from urllib.parse import unquote_to_bytes

from .rawBytes import rawText
from .surface import FormatError, ValueSurface

SUFFIXES = (".vtk",)
_SIZES = {
    "unsigned_char": 1, "char": 1, "signed_char": 1, "unsigned_short": 2, "short": 2, "unsigned_int": 4, "int": 4,
    "unsigned_long": 8, "long": 8, "float": 4, "double": 8, "vtkidtype": 4, "vtktypeint64": 8, "vtktypeuint64": 8,
}  # fmt: skip
_STRINGS = ("string", "utf8_string")
_BYTES = ("char", "unsigned_char", "signed_char")
_TOKEN = re.compile(rb"\S+")
_SKIPPED = re.compile(rb"[ \t\r\n]*")
_PLAIN = re.compile(rb"[!#-$&-~]")  # what vtkDataWriter::EncodeString writes as it is; the rest as %XX
_CELLS = ("VERTICES", "LINES", "POLYGONS", "TRIANGLE_STRIPS", "CELLS")
_COUNTS = {"VECTORS": 3, "NORMALS": 3, "TENSORS": 9, "TENSORS6": 6, "GLOBAL_IDS": 1, "PEDIGREE_IDS": 1}
_NO_DATA = ("DIMENSIONS", "SPACING", "ORIGIN", "ASPECT_RATIO")
_SECTIONS = """DATASET POINT_DATA CELL_DATA POINTS CELL_TYPES SCALARS COLOR_SCALARS LOOKUP_TABLE TEXTURE_COORDINATES
FIELD METADATA X_COORDINATES Y_COORDINATES Z_COORDINATES"""
_KEYWORDS = frozenset((*_CELLS, *_COUNTS, *_NO_DATA, *_SECTIONS.split()))


def _known(keyword):
    """A keyword for a message only when it is one of the format's own (a file's other words may be a value)."""
    return f" ({keyword})" if keyword in _KEYWORDS else ""


def _decodeName(word):
    raw = unquote_to_bytes(word)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _encodeName(value):
    return "".join(
        chr(byte) if _PLAIN.fullmatch(bytes((byte,))) else f"%{byte:02X}" for byte in value.encode("utf-8")
    ).encode("ascii")


def _lengthPrefix(size):
    """vtkDataWriter's length of a binary string: 1, 2, 4 or 8 bytes, the top two bits saying which."""
    if size < 1 << 6:
        return bytes((0xC0 | size,))
    if size < 1 << 14:
        return struct.pack(">H", 0x8000 | size)
    if size < 1 << 30:
        return struct.pack(">I", 0x40000000 | size)
    return struct.pack(">Q", size)


class LegacyVtkFile(ValueSurface):
    def __init__(self, data):
        super().__init__()
        self.data, self.position, self.spans, self.kinds = data, 0, {}, {}
        if not self._line().startswith(b"# vtk DataFile Version"):
            raise FormatError("not a legacy VTK file")
        version = self.data[22 : self.data.find(b"\n")].strip()
        self.version = float(version) if re.fullmatch(rb"[0-9]+(\.[0-9]+)?", version) else 0.0
        start = self.position
        title = self._line()
        self._value(title.rstrip(b"\r"), start, start + len(title.rstrip(b"\r")), "title", "title")
        kind = self._line().strip().upper()
        if kind not in (b"ASCII", b"BINARY"):
            raise FormatError("a legacy VTK file is neither ASCII nor BINARY")
        self.binary, self.count, self._fieldArrays = kind == b"BINARY", 0, 0
        while self._skipSpace():
            self._section()

    # --- reading ------------------------------------------------------------------------------------------------

    def _line(self):
        end = self.data.find(b"\n", self.position)
        end = len(self.data) if end == -1 else end
        line, self.position = self.data[self.position : end], end + 1
        return line

    def _skipSpace(self):
        self.position = _SKIPPED.match(self.data, self.position).end()
        return self.position < len(self.data)

    def _words(self):
        """The words of a keyword line, each with its start in the file."""
        start = self.position
        line = self._line()
        return [(match.group().decode("latin-1"), start + match.start()) for match in _TOKEN.finditer(line)]

    def _value(self, raw, start, end, place, kind):
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("latin-1")
        index = self.add(value, place)
        self.spans[index], self.kinds[index] = (start, end), kind

    def _name(self, word, place):
        text, start = word
        index = self.add(_decodeName(text), place)  # the place never quotes the name
        self.spans[index], self.kinds[index] = (start, start + len(text)), "name"

    def _section(self):
        words = self._words()
        keyword = words[0][0].upper()
        numbers = [word for word, _ in words[1:]]
        try:
            if keyword == "DATASET" or keyword in _NO_DATA:
                return
            if keyword in ("POINT_DATA", "CELL_DATA"):
                self.count = int(numbers[0])
            elif keyword == "POINTS":
                self._array(3 * int(numbers[0]), numbers[1], "points")
            elif keyword in _CELLS and self.version >= 5:
                for part, count in (("OFFSETS", int(numbers[0])), ("CONNECTIVITY", int(numbers[1]))):
                    self._skipSpace()
                    line = self._words()
                    if line[0][0].upper() != part:
                        raise FormatError("a legacy VTK cell section lacks its offsets or connectivity")
                    self._array(count, line[1][0], keyword)
            elif keyword in _CELLS:
                self._array(int(numbers[1]), "int", keyword)
            elif keyword == "CELL_TYPES":
                self._array(int(numbers[0]), "int", keyword)
            elif keyword in ("X_COORDINATES", "Y_COORDINATES", "Z_COORDINATES"):
                self._array(int(numbers[0]), numbers[1], keyword)
            elif keyword == "SCALARS":
                self._name(words[1], "SCALARS name")
                self._skipSpace()
                table = self._words()
                if table[0][0].upper() != "LOOKUP_TABLE":
                    raise FormatError("a legacy VTK SCALARS section lacks its LOOKUP_TABLE line")
                self._name(table[1], "LOOKUP_TABLE name")
                components = int(numbers[2]) if len(numbers) > 2 else 1
                self._array(components * self.count, numbers[1], "SCALARS array")
            elif keyword == "COLOR_SCALARS":
                self._name(words[1], "COLOR_SCALARS name")
                self._array(int(numbers[1]) * self.count, "unsigned_char" if self.binary else "float", keyword)
            elif keyword == "LOOKUP_TABLE":
                self._name(words[1], "LOOKUP_TABLE name")
                self._array(4 * int(numbers[1]), "unsigned_char" if self.binary else "float", keyword)
            elif keyword in _COUNTS:
                self._name(words[1], f"{keyword} name")
                self._array(_COUNTS[keyword] * self.count, numbers[1], keyword)
            elif keyword == "TEXTURE_COORDINATES":
                self._name(words[1], "TEXTURE_COORDINATES name")
                self._array(int(numbers[1]) * self.count, numbers[2], keyword)
            elif keyword == "FIELD":
                self._name(words[1], "FIELD name")
                for _ in range(int(numbers[1])):
                    self._fieldArray()
            elif keyword == "METADATA":
                self._metadata()
            else:
                raise FormatError(f"a legacy VTK file has a section this reader does not know{_known(keyword)}")
        except FormatError:
            raise
        except (IndexError, ValueError):
            raise FormatError(f"a legacy VTK section line cannot be read{_known(keyword)}") from None

    def _fieldArray(self):
        self._skipSpace()
        words = self._words()
        if words[0][0] == "NULL_ARRAY":
            return
        self._fieldArrays += 1
        self._name(words[0], f"field array {self._fieldArrays} name")
        components, tuples, kind = int(words[1][0]), int(words[2][0]), words[3][0]
        self._array(components * tuples, kind, f"field array {self._fieldArrays}")

    def _array(self, count, kind, place):
        kind = kind.lower()
        if kind in _STRINGS:
            self._strings(count, place)
        elif kind in _BYTES:  # 8-bit arrays may hold text: searched, never cleaned
            start = self.position
            if self.binary:
                self._skipBytes(count)
                self.otherText.append(rawText(self.data[start : self.position]))
            else:
                self.otherText.append(rawText(bytes(int(word) & 0xFF for word in self._numbers(count))))
        elif kind == "bit" and self.binary:
            self._skipBytes((count + 7) // 8)
        elif kind not in _SIZES and kind != "bit":
            raise FormatError("a legacy VTK array has a type this reader does not know")
        elif self.binary:
            self._skipBytes(count * _SIZES[kind])
        else:
            self._skipNumbers(count)

    def _skipBytes(self, size):
        if self.position + size > len(self.data):
            raise FormatError("a legacy VTK file ends inside an array")
        self.position += size

    def _skipNumbers(self, count):
        for _ in self._numbers(count):
            pass

    def _numbers(self, count):
        matches = _TOKEN.finditer(self.data, self.position)
        for _ in range(count):
            match = next(matches, None)
            if match is None:
                raise FormatError("a legacy VTK file ends inside an array")
            self.position = match.end()
            yield match.group()

    def _strings(self, count, place):
        for number in range(count):
            label = f"{place} value {number + 1}"
            if not self.binary:
                start = self.position
                line = self._line()
                self._value(unquote_to_bytes(line.rstrip(b"\r")), start, start + len(line.rstrip(b"\r")), label, "line")
                continue
            if self.position >= len(self.data):
                raise FormatError("a legacy VTK file ends inside a string array")
            start, top = self.position, self.data[self.position] >> 6
            width = {3: 1, 2: 2, 1: 4, 0: 8}[top]
            size = int.from_bytes(self.data[start : start + width], "big") & ((1 << (8 * width - 2)) - 1)
            self._skipBytes(width + size)
            self._value(self.data[start + width : self.position], start, self.position, label, "binary")

    def _metadata(self):
        """A METADATA block, up to its blank line: component names are values; information is searched."""
        componentNames = False
        while self.position < len(self.data):
            start = self.position
            line = self._line().rstrip(b"\r")
            if not line.strip():
                return
            if line.startswith((b"COMPONENT_NAMES", b"INFORMATION")):
                componentNames = line.startswith(b"COMPONENT_NAMES")
            elif componentNames:
                self._value(unquote_to_bytes(line), start, start + len(line), "component name", "line")
            else:  # an information key's name, location or value (strings %-encoded)
                self._value(unquote_to_bytes(line), start, start + len(line), "information", "words")

    # --- writing ------------------------------------------------------------------------------------------------

    def _encoded(self, index):
        value, kind = self.value(index), self.kinds[index]
        if kind == "name":
            return _encodeName(value or "_")
        if kind == "title":
            return " ".join(value.splitlines()).encode("utf-8")
        if kind == "line":
            return _encodeName(value)
        if kind == "words":
            return b" ".join(_encodeName(word) for word in value.split(" "))
        raw = value.encode("utf-8")
        return _lengthPrefix(len(raw)) + raw

    def render(self):
        if not self.changed:
            return self.data
        pieces, position = [], 0
        for index in sorted((i for i in self.newValues if self.isChanged(i)), key=lambda i: self.spans[i][0]):
            start, end = self.spans[index]
            pieces += [self.data[position:start], self._encoded(index)]
            position = end
        pieces.append(self.data[position:])
        return b"".join(pieces)
