"""The data files Slicer writes beside a scene, as PHI Sites: the text people type into data.

Markups (``.mrk.json``: every string value, so point labels, descriptions and label formats), tables, their schemas
and colour tables (``.tsv``, ``.csv``, ``.fcsv``, ``.acsv``, ``.ctbl``: every field, column names included),
text nodes and other text files (``.txt``, ``.xml``, ``.md``, ``.html``: the whole text). Each value is a DATA
Site: only the known values found in it are replaced and every byte outside a changed value stays as it was.
Segment names, IDs and tags and sequence index values are lines of NRRD headers (nrrdHeader.py). Models,
closed-surface segmentations and SQLite tables have readers of their own (formats/), listed here too.

A live save never changes these values in the nodes: a storable node changed and put back stays "modified since
read" (its StorableModifiedTime cannot be set back), so the save cleans them in the bytes written (verify.py), with
this same code, and a cleaned plain save is the anonymized save byte for byte.
"""

import json
import re

from . import profile
from .formats import legacyVtk, sqliteTables, vtkXml
from .planner import DATA, Site
from .policy import NO_PATIENT


class DataFileError(ValueError):
    """A data file that cannot be read as its kind; the message holds no value."""


class _ValueHandle:
    __slots__ = ("index", "surface")

    def __init__(self, surface, index):
        self.surface, self.index = surface, index

    def read(self):
        return self.surface.newValues.get(self.index, self.surface.values[self.index][2])

    def write(self, value):
        self.surface.newValues[self.index] = value or ""


class _SpanText:
    """A UTF-8 text whose values stand at known spans: values is [(start, end, value)], places names each one."""

    def __init__(self, data):
        try:
            self.text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise DataFileError("a data file is not UTF-8 text") from None
        self.values, self.places, self.newValues = [], [], {}
        self.labels = {}  # value index -> the DICOM keyword its column's name stands for (profile.keywordForLabel)

    def sites(self, place="", context=NO_PATIENT):
        return [
            Site(
                DATA,
                profile.DATA_TEXT,
                value,
                f"{place}{self.places[index]}",
                context,
                _ValueHandle(self, index),
                self.labels.get(index),
            )
            for index, (_, _, value) in enumerate(self.values)
        ]

    def encode(self, index, value):
        return value

    def searchedText(self):
        """All the text of the file, as the check after a save searches it."""
        return self.text

    def uncleanableText(self):
        """The text outside every value (a JSON key, a separator): the check after a save searches it too, and no
        Site can clean it."""
        pieces, position = [], 0
        for start, end, _ in sorted(self.values):
            pieces.append(self.text[position:start])
            position = max(position, end)
        pieces.append(self.text[position:])
        return "\n".join(pieces)

    @property
    def changed(self):
        return any(new != self.values[index][2] for index, new in self.newValues.items())

    def render(self):
        """The bytes with every changed value written."""
        pieces, position = [], 0
        for index in sorted(self.newValues):
            start, end, value = self.values[index]
            if self.newValues[index] != value:
                pieces += [self.text[position:start], self.encode(index, self.newValues[index])]
                position = end
        pieces.append(self.text[position:])
        return "".join(pieces).encode("utf-8")


_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:)?', re.S)


class JsonStrings(_SpanText):
    """Every string value of a JSON file (keys are the format's own words and are kept)."""

    def __init__(self, data):
        super().__init__(data)
        try:
            json.loads(self.text)
        except ValueError:
            raise DataFileError("a JSON data file is not valid JSON") from None
        key = ""
        for match in _JSON_STRING.finditer(self.text):
            if match.group(2):
                key = match.group(1)
                continue
            self.values.append((match.start(1), match.end(1), json.loads(match.group(0))))
            self.places.append(f"{key} (string {len(self.values)})")

    def encode(self, index, value):
        return json.dumps(value, ensure_ascii=False)[1:-1]


class DelimitedText(_SpanText):
    """Every field of a delimited text (rows of a table, a colour table, a markups CSV); a field in double quotes
    doubles the quotes it holds. A column whose name (first row) stands for a DICOM attribute labels its cells."""

    def __init__(self, data, delimiter):
        super().__init__(data)
        self.delimiter = delimiter
        self.quoted = []
        field = re.compile(rf'"((?:[^"]|"")*)"(?=[{re.escape(delimiter)}\r\n]|$)|([^{re.escape(delimiter)}\r\n]*)')
        row, column, position, header = 1, 0, 0, {}
        while position <= len(self.text):
            match = field.match(self.text, position)
            quoted = match.group(1) is not None
            start, end = match.span(1 if quoted else 2)
            value = match.group(1).replace('""', '"') if quoted else match.group(2)
            if row == 1:
                header[column] = profile.keywordForLabel(value)
            elif value and header.get(column):
                self.labels[len(self.values)] = header[column]
            if value:
                self.values.append((start, end, value))
                self.quoted.append(quoted)
                self.places.append(f"row {row} field {len(self.values)}")
            position, column = match.end(), column + 1
            if self.text.startswith("\r\n", position):
                row, column, position = row + 1, 0, position + 2
            elif position < len(self.text) and self.text[position] in "\r\n":
                row, column, position = row + 1, 0, position + 1
            else:
                position += 1  # past the delimiter, or past the end

    def encode(self, index, value):
        if self.quoted[index]:
            return value.replace('"', '""')
        if self.delimiter in value or "\n" in value or "\r" in value or value.startswith('"'):
            raise DataFileError("a replacement would change the columns of a delimited data file")
        return value


class PlainText(_SpanText):
    """The whole text of a text node's file."""

    def __init__(self, data):
        super().__init__(data)
        if self.text:
            self.values.append((0, len(self.text), self.text))
            self.places.append("text")


_KINDS = (
    ((".json",), JsonStrings),
    ((".tsv",), lambda data: DelimitedText(data, "\t")),
    ((".csv", ".fcsv", ".acsv"), lambda data: DelimitedText(data, ",")),
    ((".ctbl",), lambda data: DelimitedText(data, " ")),
    ((".txt", ".xml", ".md", ".html", ".tfm"), PlainText),  # a text node writes .txt, .xml or .json; ITK .tfm
    (vtkXml.SUFFIXES, vtkXml.VtkXmlFile),
    (legacyVtk.SUFFIXES, legacyVtk.LegacyVtkFile),
    (sqliteTables.SUFFIXES, sqliteTables.SqliteTables),
)


def isDataFile(name):
    """Whether a file name is one of the data files read here."""
    return name.lower().endswith(tuple(suffix for suffixes, _ in _KINDS for suffix in suffixes))


def readDataFile(name, data):
    """The surface of a data file's bytes, by its name."""
    lower = name.lower()
    for suffixes, kind in _KINDS:
        if lower.endswith(suffixes):
            return kind(data)
    raise DataFileError("not a data file")
