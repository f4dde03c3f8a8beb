"""The header of a .nrrd / .seq.nrrd file as PHI Sites; the body is never read or changed.

Since Slicer 5.10 the node attributes of each item of a volume or transform sequence are written as
``axis <n> item <index> <attribute>:=<value>`` lines; other ``key:=value`` lines are the node's own fields: segment
names, IDs and tags (``Segment0_Name``), sequence index values, which are data (DATA Sites). Of the format's own
fields, the ones that hold text a person chose are data too: ``labels`` and ``units`` (a sequence's index name and
unit), ``content``, ``space units``, and comment lines; ``data file`` names a detached body (a file name).
"""

import re

from . import profile
from .planner import ATTRIBUTE, DATA, TEXT, Site
from .policy import NO_PATIENT

MAX_HEADER_BYTES = 1 << 20
_ITEM_KEY = re.compile(r"axis [0-9]+ item [0-9]+ (.+)")
_ESCAPE = re.compile(r"\\(.)", re.S)
_UNESCAPED = {"n": "\n", "\\": "\\"}


class NrrdHeaderError(ValueError):
    """Not a NRRD header we can read."""


def splitHeader(data):
    """(header bytes including the blank line, offset of the body) of a NRRD file's first bytes."""
    if not data.startswith(b"NRRD"):
        raise NrrdHeaderError("not a NRRD file")
    end = data.find(b"\n\n")
    crlf = data.find(b"\r\n\r\n")
    if crlf != -1 and (end == -1 or crlf < end):
        end, length = crlf, 4
    else:
        length = 2
    if end == -1:
        if len(data) > MAX_HEADER_BYTES:
            raise NrrdHeaderError("the NRRD header has no end")
        return data, len(data)  # a header-only (detached) file
    return data[: end + length], end + length


class _LineHandle:
    __slots__ = ("header", "index")

    def __init__(self, header, index):
        self.header, self.index = header, index

    def read(self):
        line = self.header.lines[self.index]
        return None if line is None else unescape(line.partition(":=")[2])

    def write(self, value):
        if value is None:
            self.header.lines[self.index] = None
        else:
            self.header.lines[self.index] = self.header.lines[self.index].partition(":=")[0] + ":=" + escape(value)


class _FieldHandle:
    """The text of a field line after its prefix ("labels: ", "# ")."""

    __slots__ = ("header", "index", "prefix")

    def __init__(self, header, index, prefix):
        self.header, self.index, self.prefix = header, index, prefix

    def read(self):
        return self.header.lines[self.index][len(self.prefix) :]

    def write(self, value):
        self.header.lines[self.index] = self.prefix + " ".join((value or "").splitlines())


_TEXT_FIELD = re.compile(r"(labels|units|content|space units|data file|datafile): ?|# ?")


def unescape(value):
    """A key/value pair's value as it was typed: NRRD (teem) writes a line break as "\\n" and a backslash as "\\\\";
    any other backslash stays as written."""
    if "\\" not in value:
        return value
    return _ESCAPE.sub(lambda match: _UNESCAPED.get(match.group(1), match.group(0)), value)


def escape(value):
    """A value as NRRD writes it (unescape's inverse)."""
    return value.replace("\\", "\\\\").replace("\n", "\\n")


class NrrdHeader:
    """The key/value lines of a NRRD header, changed in place."""

    def __init__(self, headerBytes):
        try:
            text = headerBytes.decode("utf-8")
        except UnicodeDecodeError:
            raise NrrdHeaderError("the NRRD header is not UTF-8 text") from None
        # Each line keeps its own ending: a header edited on Windows may mix CRLF and LF lines.
        lines = text.split("\n")
        self.endings = [("\r" if line.endswith("\r") else "") + "\n" for line in lines]
        self.endings[-1] = self.endings[-1][:-1]  # the text's last line has no line break after it
        self.lines = [line[:-1] if line.endswith("\r") else line for line in lines]

    def sites(self, place="", context=NO_PATIENT):
        sites = []
        for index, line in enumerate(self.lines):
            field = _TEXT_FIELD.match(line) if line is not None and ":=" not in line else None
            if field and line[field.end() :]:
                handle, where = (
                    _FieldHandle(self, index, field.group(0)),
                    f"{place}header field {field.group(1) or '#'}",
                )
                if field.group(1) in ("data file", "datafile"):
                    sites.append(Site(TEXT, profile.FILE_NAMES, handle.read(), where, context, handle))
                else:
                    sites.append(Site(DATA, profile.DATA_TEXT, handle.read(), where, context, handle))
                continue
            if line is None or ":=" not in line or line.startswith("#"):
                continue
            key, _, written = line.partition(":=")
            value = unescape(written)
            match = _ITEM_KEY.fullmatch(key)
            name = match.group(1) if match else key
            handle = _LineHandle(self, index)
            if match or name.startswith(profile.DICOM_PREFIX):
                sites.append(Site(ATTRIBUTE, name, value, f"{place}header key {key}", context, handle))
            else:
                sites.append(Site(DATA, profile.DATA_TEXT, value, f"{place}header key {key}", context, handle))
        return sites

    def uncleanableText(self):
        """The header's text no Site holds (the fields other than the text fields, the keys of key:=value lines):
        the check after a save searches it too, and no Site can clean it."""
        pieces = []
        for line in self.lines:
            field = _TEXT_FIELD.match(line) if line is not None and ":=" not in line else None
            if line is None or (field and line[field.end() :]):
                continue
            pieces.append(line.partition(":=")[0] if ":=" in line and not line.startswith("#") else line)
        return "\n".join(pieces)

    def render(self):
        return "".join(line + end for line, end in zip(self.lines, self.endings) if line is not None).encode("utf-8")
