"""The header of a MetaImage file (.mha, .mhd; the .seq.mha a transform or image sequence is written as): every
line up to and including ElementDataFile, which must be the last. The format's own fields are kept; every other
line is data, key and value alike (a sequence writes a frame's fields under the node's name,
``Seq_Frame0000_<name>Transform = ...``, and its index values as ``Seq_Frame0000_Timestamp``), and
ElementDataFile names the detached body of a .mhd (a file name), or is LIST and the file names follow, one per
line. The body is never read."""

import re

from .. import profile
from ..planner import DATA, TEXT, Site
from ..policy import NO_PATIENT
from .surface import FormatError

SUFFIXES = (".mha", ".mhd")
MAX_HEADER_BYTES = 1 << 22  # what is read to find the header's end
_STRUCTURAL = frozenset(
    """ObjectType ObjectSubType NDims DimSize ElementType ElementSpacing ElementSize ElementByteOrderMSB BinaryData
    BinaryDataByteOrderMSB CompressedData CompressedDataSize Offset Position Origin TransformMatrix Rotation
    Orientation CenterOfRotation AnatomicalOrientation ElementNumberOfChannels ElementMin ElementMax HeaderSize
    Kinds""".split()
)
_DATA_FILE = re.compile(rb"(?m)^ElementDataFile *=[^\n]*(?:\n|$)")
_LINE = re.compile(r"([^=\r\n]*?) *= ?(.*)")


def splitHeader(data):
    """(header bytes, offset of the body) of a MetaImage file's first bytes (LIST: the file names that follow are
    the header's too, to the end)."""
    match = _DATA_FILE.search(data)
    if match is None:
        raise FormatError("a MetaImage header has no ElementDataFile line")
    if _LINE.fullmatch(match.group(0).decode("latin-1").strip()).group(2).strip().startswith("LIST"):
        return data, len(data)
    return data[: match.end()], match.end()


class _LineHandle:
    __slots__ = ("header", "index", "valueOnly")

    def __init__(self, header, index, valueOnly=False):
        self.header, self.index, self.valueOnly = header, index, valueOnly

    def read(self):
        line = self.header.lines[self.index]
        return _LINE.fullmatch(line).group(2) if self.valueOnly else line

    def write(self, value):
        value = " ".join((value or "").splitlines())
        if self.valueOnly:
            match = _LINE.fullmatch(self.header.lines[self.index])
            value = self.header.lines[self.index][: match.start(2)] + value
        self.header.lines[self.index] = value


class MetaImageHeader:
    def __init__(self, headerBytes):
        try:
            text = headerBytes.decode("utf-8")
        except UnicodeDecodeError:
            text = headerBytes.decode("latin-1")
        self.encoding = "utf-8" if text.encode("utf-8") == headerBytes else "latin-1"
        self.lines = text.split("\n")
        self.original = headerBytes

    def sites(self, place="", context=NO_PATIENT):
        sites, listed = [], False
        for index, line in enumerate(self.lines):
            match = _LINE.fullmatch(line.rstrip("\r"))
            key = match.group(1).strip() if match else None
            if key in _STRUCTURAL or not line.strip():
                continue
            where = f"{place}header line {index + 1}"
            if listed:  # after "ElementDataFile = LIST": one data file name per line
                handle = _LineHandle(self, index)
                sites.append(Site(TEXT, profile.FILE_NAMES, line, where, context, handle))
                continue
            if key == "ElementDataFile":
                listed = match.group(2).strip().startswith("LIST")
                if match.group(2).strip() != "LOCAL" and not listed:
                    handle = _LineHandle(self, index, valueOnly=True)
                    sites.append(Site(TEXT, profile.FILE_NAMES, handle.read(), where, context, handle))
                continue
            sites.append(Site(DATA, profile.DATA_TEXT, line, where, context, _LineHandle(self, index)))
        return sites

    def uncleanableText(self):
        """The lines no Site holds (the structural ones): the check after a save searches them too."""
        held = {site.handle.index for site in self.sites()}
        return "\n".join(line for index, line in enumerate(self.lines) if index not in held)

    def render(self):
        return "\n".join(self.lines).encode(self.encoding, "replace")
