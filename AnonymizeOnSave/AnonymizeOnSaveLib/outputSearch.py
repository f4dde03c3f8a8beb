"""The session's values searched in every byte of a file or folder, through every layer (used by the check after a
save, verify.py, and by the file tool to check what it wrote).

Searched: every file and folder name under the output, every zip entry's name, comment and extra fields (central
and local), the zip comment, nested bundles, the whole of every text file (scene XML, JSON, TSV, CSV, TXT, colour
tables...), every value and the rest of the text of models, closed-surface segmentations and SQLite tables,
decoded by their readers (formats/), the text of image and mesh files whose bodies are numbers
(formats/imageHeaders.py), and, in any other file, every run of text in its bytes and in every zlib or gzip
stream inside it (formats/rawBytes.py). Text is searched as Slicer writes it and decoded (XML entities, JSON \\u
escapes, %XX in file names). A file a reader cannot decode is a place found (unreadable), never clean.

Values people type into data (point labels, segment names, table cells, text, colour names: DATA Sites) are never
changed in the live nodes, so finding them here is expected: they are told apart from values the strip should have
replaced (found), which point to a surface this tool does not know.
"""

import io
import lzma
import os
import re
import sqlite3
import struct
import zlib
from collections import namedtuple
from urllib.parse import unquote

from .dataFiles import DataFileError, isDataFile, readDataFile
from .fileNames import decodeFileName, holdsValue, replaceInFileName
from .formats import FormatError, metaImageHeader
from .formats.imageHeaders import headerText
from .formats.rawBytes import rawText
from .mrmlText import MrmlDocument, MrmlSyntaxError, xmlDecode
from .nrrdHeader import NrrdHeader, NrrdHeaderError
from .phiText import PhiTextMatcher
from .planner import DATA
from .zipBundle import ZIP_ERRORS, BundleError, entryTexts, openBundle, readEntry, readEntryStart

TEXT_SUFFIXES = (
    *(".mrml", ".json", ".txt", ".tsv", ".csv", ".xml", ".ctbl", ".fcsv", ".acsv", ".html", ".md", ".tfm", ".obj"),
    *(".mtl", ".lut", ".glsl", ".vtkjs", ".py", ".ini"),
)
_DATA_HOLDERS = (".mrml", ".nrrd", ".nhdr", ".mha", ".mhd")  # files with values typed into data among others
_XML_NAMES = re.compile(r"</?[\w.:-]+|(?<![\w.:-])[\w.:-]+(?=\s*=\s*[\"'])")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_BACKSLASH_ESCAPE = re.compile(r"\\(.)", re.S)  # pairs, left to right: an escaped backslash then "n" is no break
_ESCAPED = {"n": "\n", "t": "\t", "r": "\r"}
_ESCAPING = (".json", ".nrrd", ".nhdr")  # files whose text escapes with a backslash


Verification = namedtuple("Verification", "found files bytes values data")
"""What a check searched: found, the places (masked) where a value the strip should have replaced was written
before cleaning; files, the files, entries and names searched; bytes, the bytes of text, headers and names
searched; values, how many values; data, the places where a value typed into data was found (and cleaned)."""


def _readable(text, isXml=False, escaped=False):
    """Text as a person would read it: entities, escapes and %XX decoded; XML element and attribute names dropped
    (they are Slicer's vocabulary, not values). escaped: a JSON file or a NRRD header, where a backslash escapes
    the next character ("\\n" a line break: left as written, its "n" would glue onto the next word)."""
    if isXml:
        text = _XML_NAMES.sub(" ", text)
    if "&" in text:
        text = xmlDecode(text)
    if "\\u" in text:
        text = _JSON_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)
    if escaped and "\\" in text:
        text = _BACKSLASH_ESCAPE.sub(lambda match: _ESCAPED.get(match.group(1), match.group(1)), text)
    # Twice: a scene file URL-encodes the escapes Slicer writes into file names ("%25ffc3"); then standard escapes.
    return unquote(decodeFileName(decodeFileName(text))) if "%" in text else text


READ_ERRORS = (DataFileError, FormatError, ValueError, struct.error, zlib.error, lzma.LZMAError, sqlite3.Error)


def fileText(name, readStart, readAll):
    """(" (header)", " (bytes)" or "", text) of a file that is neither a bundle nor a text file: every value and the
    rest of the text its reader decodes, the text of an image or mesh file whose body is numbers, or the text runs
    of its bytes. Raises one of READ_ERRORS when it cannot be decoded."""
    if isDataFile(name):
        return "", readDataFile(name, readAll()).searchedText()
    header = headerText(name, readStart, readAll)
    if header is not None:
        return " (header)", header
    return " (bytes)", rawText(readAll())


def _textOf(data):
    """A text file's text as whoever wrote it encoded it: UTF-8, else Latin-1; with the UTF-16 runs in it too
    when it holds NUL bytes (a file written as UTF-16 reads as nothing in UTF-8)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text + "\n" + rawText(data) if b"\0" in data else text


def _withoutData(name, text):
    """The text with every value typed into data blanked (a scene file or a NRRD header), or None when the text
    cannot be read as one."""
    try:
        if name.lower().endswith(".mrml"):
            surface = MrmlDocument(text)
        elif name.lower().endswith(metaImageHeader.SUFFIXES):
            surface = metaImageHeader.MetaImageHeader(text.encode("utf-8"))
        else:
            surface = NrrdHeader(text.encode("utf-8"))
    except (MrmlSyntaxError, NrrdHeaderError):
        return None
    for site in surface.sites():
        if site.kind == DATA:
            site.handle.write("")
    rendered = surface.render()
    return rendered if isinstance(rendered, str) else rendered.decode("utf-8")


class _Search:
    """Collects the places (masked with the matcher) where a value is found."""

    def __init__(self, matcher):
        self.matcher = matcher
        self.places = []
        self.dataPlaces = []
        self.files = 0
        self.bytes = 0

    def shown(self, place):
        """A place as it may be logged: decoded, with every known value replaced (one cut short in a clamped file
        name too)."""
        path, bracket, rest = place.partition(" (")
        return self.matcher.replace(_readable(replaceInFileName(self.matcher, path) + bracket + rest))

    def text(self, place, text, isXml=False, name=""):
        """Search a text; XML element and attribute names are dropped (a second pass) only when the text matches.
        name: the file's name, to tell values typed into data (all of a data file) from values found elsewhere."""
        self.bytes += len(text)
        escaped = name.endswith(_ESCAPING)
        readable = _readable(text, escaped=escaped)
        if self.matcher.contains(readable) and (not isXml or self.matcher.contains(_readable(text, True))):
            rest = "" if isDataFile(name) else _withoutData(name, text) if name.endswith(_DATA_HOLDERS) else text
            if rest is not None and not self.matcher.contains(_readable(rest, isXml, escaped)):
                self.dataPlaces.append(self.shown(place))
            else:
                self.places.append(self.shown(place))

    def name(self, place, name):
        self.files += 1
        self.bytes += len(name)
        if self.matcher.contains(_readable(name)) or holdsValue(self.matcher, name):
            self.places.append(self.shown(place) + " (name)")

    def content(self, place, name, readStart, readAll, stream=None):
        """readStart(size): the first size bytes; readAll(): the whole content; stream: the file itself, seekable
        (a bundle on disk is read where it is, not copied into memory)."""
        lower = name.lower()
        try:
            if readStart(4) == b"PK\x03\x04":
                self.bundle(place, stream or io.BytesIO(readAll()))
            elif lower.endswith(TEXT_SUFFIXES):
                self.text(place, _textOf(readAll()), lower.endswith((".mrml", ".xml")), lower)
            else:
                what, text = fileText(name, readStart, readAll)
                self.text(place + what, text, name=lower)
        except READ_ERRORS as error:
            reason = str(error) if isinstance(error, (DataFileError, FormatError)) else type(error).__name__
            self.places.append(f"{self.shown(place)} (unreadable: {reason})")

    def bundle(self, place, fileObject):
        try:
            with openBundle(fileObject) as archive:
                if archive.comment:
                    self.text(place + " (zip comment)", archive.comment.decode("utf-8", "replace"))
                for info in archive.infolist():
                    entry = f"{place}!{info.filename}"
                    self.name(entry, info.filename)
                    for what, data in entryTexts(fileObject, info):
                        self.text(f"{entry} ({what})", rawText(data))
                    self.content(
                        entry,
                        info.filename,
                        lambda size, info=info: readEntryStart(archive, info, size),
                        lambda info=info: readEntry(archive, info),
                    )
        except (BundleError, *ZIP_ERRORS) as error:
            self.places.append(f"{self.shown(place)} (unreadable: {type(error).__name__})")

    def path(self, path, shown):
        if os.path.isdir(path):
            for folder, folders, files in os.walk(path):
                folders.sort()
                for name in sorted(folders + files):
                    relative = os.path.relpath(os.path.join(folder, name), path)
                    self.name(f"{shown}/{relative}", relative)
                    if os.path.islink(os.path.join(folder, name)):  # its target's path is text written too
                        self.name(f"{shown}/{relative} (link target)", os.readlink(os.path.join(folder, name)))
                for name in sorted(files):
                    filePath = os.path.join(folder, name)
                    self.file(filePath, f"{shown}/{os.path.relpath(filePath, path)}")
        else:
            self.file(path, shown)

    def file(self, path, shown):
        try:
            stream = open(path, "rb")  # (closed below; a link to nothing cannot be opened)
        except OSError as error:
            self.places.append(f"{self.shown(shown)} (unreadable: {type(error).__name__})")
            return
        with stream:

            def readStart(size=-1):
                stream.seek(0)
                return stream.read(size)

            self.content(shown, os.path.basename(path), readStart, readStart, stream)


def companionPaths(path):
    """The files a writer puts beside path and reports as path alone: the blocks a multiblock .vtm (a
    closed-surface segmentation's .seg.vtm) names, which its writer wrote with it. Other files in their folder (a
    block an earlier save left) were not written by this save and are not returned."""
    if not path.lower().endswith(".vtm") or not os.path.isfile(path):
        return []
    with open(path, "rb") as stream:
        try:
            surface = readDataFile(path, stream.read())
        except READ_ERRORS:
            return []  # the .vtm itself is found unreadable by its own check
    folder = os.path.dirname(os.path.abspath(path))
    blocks = [os.path.normpath(os.path.join(folder, surface.values[index])) for index in sorted(surface.fileNames)]
    return [block for block in blocks if os.path.commonpath([block, folder]) == folder and os.path.isfile(block)]


def search(path, knownValues, matcher=None):
    """Search path (a file or a folder, its own name included) for knownValues (matcher: a PhiTextMatcher for them
    already built); returns a Verification."""
    matcher = matcher or PhiTextMatcher(knownValues)
    found = _Search(matcher)
    if matcher:
        shown = os.path.basename(path.rstrip(os.sep))
        found.name(shown, shown)
        found.path(path, shown)
    return Verification(found.places, found.files, found.bytes, len(knownValues), found.dataPlaces)


def namePlaces(name, matcher):
    """Where a file's name holds a value the matcher knows (written, escaped or cut short), as search finds it."""
    found = _Search(matcher)
    found.name(name, name)
    return found.places


def searchBytes(name, data, knownValues, matcher=None):
    """Search the bytes a file named name is about to be written with, as search reads a file written so."""
    matcher = matcher or PhiTextMatcher(knownValues)
    found = _Search(matcher)
    if matcher:
        found.name(name, name)
        found.content(name, name, lambda size: data[:size], lambda: data)
    return Verification(found.places, found.files, found.bytes, len(knownValues), found.dataPlaces)


def findValues(path, knownValues, matcher=None):
    """The places under path where any of knownValues is written."""
    result = search(path, knownValues, matcher)
    return result.found + result.data
