"""Scan and clean scene files that were already saved or shared, with the standard library only.

Formats: .mrml; .mrb bundles (zip), including nested bundles such as .seq.mrb; directory bundles; the headers
of .nrrd/.seq.nrrd and MetaImage (.mha/.seq.mha) files; and, inside a bundle, the data files people type into
(dataFiles.py: markups, tables, colour tables, text, models and closed-surface segmentations in VTK formats,
SQLite tables). Every scene, header, data file and nested bundle of a file is planned at once with the same
policy and planner as a live save, so pseudonyms agree everywhere and a cleaned plain save matches an anonymized
one. Scanning is a dry run of cleaning: a value is PHI when cleaning would change it. Voxel data is never read:
it is copied byte for byte (zip entries without recompressing). Output goes to a temporary name and is renamed
into place, so a failure leaves no partial output.
"""

import codecs
import contextlib
import functools
import io
import os
import posixpath
import re
import shutil
import tempfile
from collections import namedtuple

from . import profile
from .dataFiles import isDataFile, readDataFile
from .fileNames import holdsValue, replaceInFileName
from .formats import metaImageHeader
from .formats.rawBytes import rawText
from .gcPause import cycleCollectionPaused
from .mrmlText import MrmlDocument, MrmlSyntaxError
from .nrrdHeader import MAX_HEADER_BYTES, NrrdHeader, NrrdHeaderError, splitHeader
from .outputSearch import READ_ERRORS, fileText, search
from .planner import decideRules, planChanges
from .policy import NO_PATIENT, defaultPolicy
from .report import Report
from .zipBundle import (
    UNICODE_COMMENT,
    UNICODE_PATH,
    ZIP_ERRORS,
    BundleError,
    BundleWriter,
    commentText,
    decodeComment,
    entryTexts,
    escapesBundle,
    extraFields,
    joinExtraFields,
    normalizedMember,
    openBundle,
    readEntry,
    readEntryStart,
    withNewStart,
)

Finding = namedtuple("Finding", "file place category")
"""A PHI value found: the file, where in it (values and PHI in names masked) and its category."""


class SceneFileError(Exception):
    """A scene file that cannot be scanned or cleaned; the message is one line and holds no PHI. matcher: the values
    the file was found to hold, when it was read that far (to mask its path where the error is shown)."""

    def __init__(self, message, matcher=None):
        super().__init__(message)
        self.matcher = matcher


class ScanResult:
    def __init__(self, findings, report, matcher=None, missing=()):
        self.findings = findings
        self.report = report
        self.matcher = matcher  # the values found, to mask paths shown with them
        self.missing = list(missing)  # files the scene refers to that it does not hold (names masked)

    def __bool__(self):
        return bool(self.findings)


class CleanResult:
    def __init__(self, output, report, matcher=None, missing=()):
        self.output = output
        self.report = report
        self.matcher = matcher
        self.missing = list(missing)


def _kind(name):
    lower = name.lower()
    if lower.endswith(".mrml"):
        return "mrml"
    if lower.endswith((".nrrd", ".nhdr", *metaImageHeader.SUFFIXES)):
        return "header"
    if lower.endswith(".mrb"):
        return "bundle"
    return "data" if isDataFile(lower) else "other"


# --- members: the files of a bundle, whatever holds them ----------------------------------------------------


class _ZipMembers:
    def __init__(self, fileObject):
        self.fileObject = fileObject
        self.archive = openBundle(fileObject)
        self.infos = {info.filename: info for info in self.archive.infolist()}

    def names(self):
        return list(self.infos)

    def read(self, name):
        return readEntry(self.archive, self.infos[name])

    def readStart(self, name, size):
        return readEntryStart(self.archive, self.infos[name], size)


class _DirectoryMembers:
    def __init__(self, root):
        self.root = os.path.realpath(root)
        self._names = []
        for folder, folders, files in os.walk(self.root):
            folders.sort()
            for fileName in sorted(files) + [f for f in folders if os.path.islink(os.path.join(folder, f))]:
                path = os.path.join(folder, fileName)
                if os.path.islink(path):
                    target = os.path.realpath(path)
                    if os.path.commonpath([target, self.root]) != self.root:
                        raise BundleError("a symbolic link in the bundle points outside it")
                self._names.append(os.path.relpath(path, self.root).replace(os.sep, "/"))

    def names(self):
        return list(self._names)

    def path(self, name):
        return os.path.join(self.root, *name.split("/"))

    def read(self, name):
        with open(self.path(name), "rb") as stream:
            return stream.read()

    def readStart(self, name, size):
        with open(self.path(name), "rb") as stream:
            return stream.read(size)


# --- the plan -----------------------------------------------------------------------------------------------


class _Plan:
    """What a bundle (or a single file) holds, and its sites."""

    def __init__(self, members, prefix):
        self.members = members
        self.prefix = prefix  # where this bundle sits, for places: "" or "inner.seq.mrb!"
        self.documents = {}  # member name -> MrmlDocument
        self.headers = {}  # member name -> (NrrdHeader, original header bytes, body offset)
        self.dataFiles = {}  # member name -> its dataFiles surface
        self.nested = {}  # member name -> _Plan
        self.searchedOnly = {}  # member name -> its text no Site holds (a value there cannot be cleaned)
        self.sites = []

    def collect(self, outerContext=NO_PATIENT):
        names = self.members.names()
        for name in names:
            if _kind(name) == "mrml":
                text, encoding = _decode(self.members.read(name))
                self.documents[name] = MrmlDocument(text)
                self.documents[name].encoding = encoding
        contexts = self._storageContexts()
        for name in names:
            if isinstance(self.members, _DirectoryMembers) and os.path.isdir(self.members.path(name)):
                continue  # a link to a folder of the bundle (checked on listing): written as a link, its files walked
            kind = _kind(name)
            context = contexts.get(name, outerContext)
            place = f"{self.prefix}{name}: "
            if kind == "mrml":
                sites = self.documents[name].sites(place)
                self.sites.extend(_withContext(sites, outerContext))
            elif kind == "header":
                header, headerBytes, bodyOffset = _readHeader(name, self.members.readStart)
                self.headers[name] = (header, headerBytes, bodyOffset)
                self.sites.extend(header.sites(place, context))
                self.searchedOnly[name] = header.uncleanableText()
            elif kind == "data":
                self.dataFiles[name] = readDataFile(name, self.members.read(name))
                self.sites.extend(self.dataFiles[name].sites(place, context))
                self.searchedOnly[name] = self.dataFiles[name].uncleanableText()
            elif kind == "other":
                readStart = functools.partial(self.members.readStart, name)
                self.searchedOnly[name] = fileText(name, readStart, functools.partial(self.members.read, name))[1]
            elif kind == "bundle":
                nested = _Plan(_ZipMembers(io.BytesIO(self.members.read(name))), f"{self.prefix}{name}!")
                nested.collect(context)
                self.nested[name] = nested
                self.sites.extend(nested.sites)

    def _storageContexts(self):
        """member name -> the patient context of the node whose storage node refers to it."""
        contexts = {}
        for documentName, document in self.documents.items():
            folder = posixpath.dirname(documentName)
            for storageId, _, fileName in document.storageFileNames():
                nodeId = document.nodeReferencing(storageId)
                if nodeId is not None and not escapesBundle(fileName):
                    contexts[normalizedMember(folder, fileName)] = document.contextOfNode(nodeId)
        return contexts

    def missingFiles(self, matcher):
        """The files this bundle's scenes refer to that it does not hold (a lone .mrml: that are not on disk beside
        it), their names masked: a reader of the scene, or of its cleaned copy, would not find their data."""
        held = set(self.members.names())
        missing = []
        for documentName, document in self.documents.items():
            folder = posixpath.dirname(documentName)
            for _, _, fileName in document.storageFileNames():
                if not fileName or "://" in fileName:
                    continue
                if isinstance(self.members, _SingleFile):
                    present = os.path.exists(os.path.join(self.members.root, fileName))
                else:
                    present = not escapesBundle(fileName) and normalizedMember(folder, fileName) in held
                if not present:
                    missing.append(f"{self.prefix}{replaceInFileName(matcher, fileName)}")
        for nested in self.nested.values():
            missing += nested.missingFiles(matcher)
        return sorted(set(missing))

    def renames(self, matcher):
        """member name -> its name without PHI, for the members whose name holds some."""
        renamed = {name: replaceInFileName(matcher, name) for name in self.members.names()}
        return {name: new for name, new in renamed.items() if new != name}


def _readHeader(name, readStart):
    """(header surface, its bytes, offset of the body) of a NRRD or MetaImage file."""
    if name.lower().endswith(metaImageHeader.SUFFIXES):
        headerBytes, bodyOffset = metaImageHeader.splitHeader(readStart(name, metaImageHeader.MAX_HEADER_BYTES))
        return metaImageHeader.MetaImageHeader(headerBytes), headerBytes, bodyOffset
    headerBytes, bodyOffset = splitHeader(readStart(name, MAX_HEADER_BYTES + 4))
    return NrrdHeader(headerBytes), headerBytes, bodyOffset


def _withContext(sites, context):
    """Sites of a nested scene belong to the patient of the node that holds it."""
    if context is not NO_PATIENT:
        for site in sites:
            if site.context is NO_PATIENT:
                site.context = context
    return sites


_DECLARED_ENCODING = re.compile(r"""<\?xml[^>]*encoding\s*=\s*["']([^"']+)""")


_SINGLE_BYTE = ("iso-8859-1", "iso8859-1", "latin-1", "latin1", "windows-1252", "cp1252")


def _codecName(name):
    """An encoding's name for a message only when Python knows it as one (a file's other words may be a value)."""
    try:
        codecs.lookup(name)
    except LookupError:
        return ""
    return f" ({name})"


def _decode(data):
    """(text, encoding) of a scene file. UTF-8 as Slicer writes it now; a declared ISO-8859-1 (Slicer 4 wrote that
    declaration on every scene) or Windows-1252 file read as UTF-8 when its bytes are UTF-8 (they usually are: ASCII,
    or UTF-8 under the old declaration), else in its declared encoding, and written back in it. UTF-16 and any other
    declaration are refused, never read as if they were empty of PHI."""
    declared = _DECLARED_ENCODING.match(data[:200].decode("ascii", "replace"))
    declaredName = declared.group(1).lower().replace("_", "-") if declared else "utf-8"
    if b"\0" in data:
        raise SceneFileError("a scene file holds NUL bytes: UTF-16 or binary, not the UTF-8 or Latin-1 Slicer writes")
    if declaredName not in ("utf-8", "utf8", "us-ascii", "ascii", *_SINGLE_BYTE):
        raise SceneFileError(f"a scene file declares an encoding this tool does not read{_codecName(declaredName)}")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        if declaredName not in _SINGLE_BYTE:
            raise SceneFileError("a scene file is not UTF-8 text although it declares it") from None
    encoding = "cp1252" if declaredName in ("windows-1252", "cp1252") else "latin-1"
    return data.decode(encoding, "replace" if encoding == "cp1252" else "strict"), encoding


def _open(path, dataFile=False):
    """The plan of a scene file or directory bundle (or, with dataFile, of a data file a save wrote beside its
    scene: alone, its values are known only from that scene)."""
    if not os.path.lexists(path):
        raise SceneFileError("no such file or directory")
    if os.path.isdir(path):
        plan = _Plan(_DirectoryMembers(path), "")
    else:
        kind = _kind(path)
        if kind == "bundle":
            stream = open(path, "rb")  # closed by _close
            try:
                plan = _Plan(_ZipMembers(stream), "")
            except BaseException:
                stream.close()
                raise
        elif kind in ("mrml", "header") or (kind == "data" and dataFile):
            folder, name = os.path.split(os.path.abspath(path))
            plan = _Plan(_SingleFile(folder, name), "")
        else:
            raise SceneFileError("not a scene file (.mrml, .mrb, .nrrd, .seq.nrrd or a bundle directory)")
    try:
        plan.collect()
    except BaseException:
        _close(plan)
        raise
    return plan


class _SingleFile(_DirectoryMembers):
    def __init__(self, folder, name):
        self.root = folder
        self._names = [name]


def _close(plan):
    if isinstance(plan.members, _ZipMembers):
        plan.members.fileObject.close()


def _errors():
    return (BundleError, MrmlSyntaxError, NrrdHeaderError, *READ_ERRORS, *ZIP_ERRORS)


def _message(error):
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return str(error)


def _opened(path, dataFile=False):
    """_open, its errors as SceneFileError."""
    try:
        return _open(path, dataFile)
    except SceneFileError:
        raise
    except _errors() as error:
        raise SceneFileError(_message(error)) from None


def _planChanges(path, policy, knownValues=(), laterValues=()):
    plan = _opened(path, dataFile=bool(knownValues))
    changes = planChanges(plan.sites, policy or defaultPolicy(), knownValues, laterValues)
    return plan, changes, changes.matcher


def valuesOf(path, policy=None):
    """(original, replacement, category) of every value the rules replace in a scene file (the values its text is
    searched for; UIDs in text are replaced wherever they are)."""
    plan = _opened(path)
    try:
        return tuple(decideRules(plan.sites, policy or defaultPolicy()).found)
    except _errors() as error:
        raise SceneFileError(_message(error)) from None
    finally:
        _close(plan)


# --- scanning -----------------------------------------------------------------------------------------------


@cycleCollectionPaused
def scanPath(path, policy=None, matcher=None, progress=None):
    """The PHI a scene file holds: every value cleaning would change, and every file name holding PHI.

    matcher: optional values known from elsewhere (a live scene) searched in the scene XML and headers too.
    """
    plan, changes, found = _planChanges(path, policy)
    try:
        findings = [
            Finding(path, found.replace(change.site.place), change.category)
            for change in changes
            if change.category != profile.MARKERS
        ]
        findings += _renameFindings(plan, found, path) + _uncleanableFindings(plan, found, path)
        if matcher:
            findings += _knownValueFindings(plan, matcher, found, path)
        if progress:
            progress(1.0)
        return ScanResult(findings, Report.fromChanges(changes), found, plan.missingFiles(found))
    except _errors() as error:
        raise SceneFileError(_message(error), found) from None
    finally:
        _close(plan)


def _uncleanableFindings(plan, matcher, path):
    """Findings for values in text no Site holds (a file format with no reader, 8-bit arrays of a model...)."""
    findings = [
        Finding(path, f"{plan.prefix}{replaceInFileName(matcher, name)} (cannot be cleaned)", profile.FREE_TEXT)
        for name, text in plan.searchedOnly.items()
        if matcher.contains(text)
    ]
    for nested in plan.nested.values():
        findings += _uncleanableFindings(nested, matcher, path)
    return findings


def _renameFindings(plan, matcher, path):
    findings = [
        Finding(path, f"{plan.prefix}{new} (entry name)", profile.FILE_NAMES) for new in plan.renames(matcher).values()
    ]
    if isinstance(plan.members, _DirectoryMembers):  # a link's target is written as a path: cleaned by clean
        for name in plan.members.names():
            member = plan.members.path(name)
            if os.path.islink(member) and holdsValue(matcher, os.readlink(member)):
                findings.append(Finding(path, f"{replaceInFileName(matcher, name)} (link target)", profile.FILE_NAMES))
    if isinstance(plan.members, _ZipMembers) and matcher.contains(commentText(plan.members.archive)):
        findings.append(Finding(path, f"{plan.prefix}(zip comment)", profile.FREE_TEXT))
    if isinstance(plan.members, _ZipMembers):
        for name, info in plan.members.infos.items():
            for what, data in entryTexts(plan.members.fileObject, info):
                if matcher.contains(rawText(data)):
                    shown = replaceInFileName(matcher, name)
                    findings.append(Finding(path, f"{plan.prefix}{shown} ({what})", profile.FREE_TEXT))
    for nested in plan.nested.values():
        findings += _renameFindings(nested, matcher, path)
    return findings


def _knownValueFindings(plan, matcher, found, path):
    """Where a value known from elsewhere is, that the file's own values (found) do not cover."""
    findings = []
    for name, document in plan.documents.items():
        if matcher.contains(found.replace(document.render())):
            findings.append(Finding(path, found.replace(f"{plan.prefix}{name}"), "knownValue"))
    for name, (header, _, _) in plan.headers.items():
        if matcher.contains(found.replace(header.render().decode("utf-8", "replace"))):
            findings.append(Finding(path, found.replace(f"{plan.prefix}{name}"), "knownValue"))
    for name, surface in plan.dataFiles.items():
        if matcher.contains(found.replace(surface.searchedText())):
            findings.append(Finding(path, found.replace(f"{plan.prefix}{name}"), "knownValue"))
    for nested in plan.nested.values():
        findings += _knownValueFindings(nested, matcher, found, path)
    return findings


# --- cleaning -----------------------------------------------------------------------------------------------


@cycleCollectionPaused
def cleanPath(src, dst=None, inPlace=False, policy=None, progress=None, knownValues=(), laterValues=()):
    """Write src without PHI to dst (or over src with inPlace), atomically. Returns a CleanResult.

    knownValues: (original, replacement, category) of values known from elsewhere (the live scene that wrote the
    file), replaced wherever the file's text holds them; laterValues: the same, taken after the file's own (the
    other scenes of a share)."""
    if inPlace == (dst is not None):
        raise SceneFileError("give either a destination or in-place, not both or neither")
    target = os.path.abspath(src if inPlace else dst)
    if not inPlace and os.path.lexists(target):
        raise SceneFileError("the destination exists; choose a new name")
    if not os.path.isdir(os.path.dirname(target)):
        raise SceneFileError("the destination folder does not exist")
    plan, changes, matcher = _planChanges(src, policy, knownValues, laterValues)
    try:
        missing = plan.missingFiles(matcher)
        for change in changes:
            change.site.handle.write(change.value)
        with replaceWithTemporary(target) as temporary:
            if isinstance(plan.members, _ZipMembers):
                with open(temporary, "wb") as output:
                    _writeZip(plan, matcher, output)
            elif isinstance(plan.members, _SingleFile):
                _writeSingle(plan, matcher, temporary)
            else:
                _writeDirectory(plan, matcher, temporary)
            _checkWritten(temporary, target, changes.values, matcher)
    except SceneFileError as error:
        raise SceneFileError(str(error), matcher) from None
    except _errors() as error:
        raise SceneFileError(_message(error), matcher) from None
    finally:
        _close(plan)
    if progress:
        progress(1.0)
    return CleanResult(target, Report.fromChanges(changes), matcher, missing)


def _checkWritten(temporary, target, values, matcher):
    """What cleaning wrote is searched in every byte; a value left where no Site reaches fails the clean (nothing
    is written), naming the place."""
    result = search(temporary, values, matcher)
    remaining = result.found + result.data
    if remaining:
        shown = remaining[0].replace(os.path.basename(temporary), os.path.basename(target), 1)
        raise SceneFileError(f"patient data would remain at {shown}: this tool cannot clean it there")


def _temporaryName(target):
    """A new name beside target, with its extension (what is written there is read as what target will be)."""
    suffix = ".partial" + os.path.splitext(target)[1]
    handle, path = tempfile.mkstemp(prefix=".anonymizeonsave-", suffix=suffix, dir=os.path.dirname(target))
    os.close(handle)
    os.remove(path)
    return path


def _replace(temporary, target):
    if os.path.isdir(temporary) and os.path.isdir(target):
        backup = _temporaryName(target)
        os.rename(target, backup)
        os.rename(temporary, target)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        os.replace(temporary, target)


@contextlib.contextmanager
def replaceWithTemporary(target):
    """Yields a temporary name beside target; what is written there replaces target when the block ends, and is
    removed when it raises (target then stays as it was)."""
    temporary = _temporaryName(target)
    try:
        yield temporary
        _replace(temporary, target)
    except BaseException:
        removePath(temporary)
        raise


def removePath(path):
    """Remove a file or a folder (a symbolic link itself, not what it points to); nothing when there is none."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


def _newContent(plan, name, matcher):
    """The new bytes of a member as an iterable of chunks, or None when it is unchanged."""
    if name in plan.documents:
        document = plan.documents[name]
        rendered = document.render()
        encoding = getattr(document, "encoding", "utf-8")
        return None if rendered == document.text else [rendered.encode(encoding, "xmlcharrefreplace")]
    if name in plan.headers:
        header, original, bodyOffset = plan.headers[name]
        rendered = header.render()
        return None if rendered == original else _headerAndBody(plan, name, rendered, bodyOffset)
    if name in plan.dataFiles:
        surface = plan.dataFiles[name]
        return [surface.render()] if surface.changed else None
    if name in plan.nested and _bundleChanges(plan.nested[name], matcher):
        output = io.BytesIO()
        _writeZip(plan.nested[name], matcher, output)
        return [output.getvalue()]
    return None


def _entryCleaner(matcher):
    """The BundleWriter entryCleaner: an entry's comment cleaned; its extra fields without a Unicode Path or
    Comment that no longer says what the entry does, and without any field holding a value."""

    def clean(info, name):
        comment = decodeComment(info.comment)
        cleanComment = matcher.replace(comment)
        fields = []
        for fieldId, data in extraFields(info.extra):
            stale = (fieldId == UNICODE_PATH and name != info.filename) or (
                fieldId == UNICODE_COMMENT and cleanComment != comment
            )
            if not stale and not matcher.contains(rawText(data)):
                fields.append((fieldId, data))
        newComment = info.comment if cleanComment == comment else cleanComment.encode("utf-8")
        return joinExtraFields(fields), newComment or b""

    return clean


def _bundleChanges(plan, matcher):
    """Whether cleaning changes a bundle: its comment, an entry's name, comment, extra fields or content (else it
    is copied byte for byte, as every other entry without PHI)."""
    comment = commentText(plan.members.archive)
    if matcher.replace(comment) != comment:
        return True
    cleaner = _entryCleaner(matcher)
    for name, info in plan.members.infos.items():
        if replaceInFileName(matcher, name) != name:
            return True
        if cleaner(info, name) != (info.extra, info.comment or b""):
            return True
        if any(matcher.contains(rawText(data)) for _, data in entryTexts(plan.members.fileObject, info)):
            return True
        if name in plan.headers:
            header, original, _ = plan.headers[name]
            if header.render() != original:
                return True
        elif _newContent(plan, name, matcher) is not None:
            return True
    return False


def _headerAndBody(plan, name, header, bodyOffset):
    """A data file of a folder with a new header (zip entries go through BundleWriter.replaceStart)."""
    return withNewStart(header, open(plan.members.path(name), "rb"), bodyOffset)


def _writeZip(plan, matcher, output):
    members = plan.members
    comment = commentText(members.archive)
    cleanComment = matcher.replace(comment)
    newComment = None if cleanComment == comment else cleanComment.encode("utf-8")
    writer = BundleWriter(members.archive, members.fileObject, output, newComment, _entryCleaner(matcher))
    for name, info in members.infos.items():
        newName = replaceInFileName(matcher, name)
        if name in plan.headers:
            header, original, _ = plan.headers[name]
            rendered = header.render()
            if rendered != original:  # the body is kept: copied as it is, or stored once inflated
                writer.replaceStart(info, newName, rendered, original)
                continue
        content = _newContent(plan, name, matcher)
        if content is not None:
            writer.write(info, newName, content)
        else:
            writer.copy(info, newName)
    writer.finish()


def _writeSingle(plan, matcher, temporary):
    (name,) = plan.members.names()
    content = _newContent(plan, name, matcher)
    if content is None:
        shutil.copy2(plan.members.path(name), temporary)
        return
    with open(temporary, "wb") as output:
        for chunk in content:
            output.write(chunk)


def _writeDirectory(plan, matcher, temporary):
    os.mkdir(temporary)
    for name in plan.members.names():
        source = plan.members.path(name)
        destination = os.path.join(temporary, *replaceInFileName(matcher, name).split("/"))
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        if os.path.islink(source):  # to the same member, cleaned, relative: never back into the input
            target = os.path.relpath(os.path.realpath(source), plan.members.root).replace(os.sep, "/")
            newTarget = os.path.join(temporary, *replaceInFileName(matcher, target).split("/"))
            if os.path.isdir(source):  # (a folder with no file in it is no member: made here)
                os.makedirs(newTarget, exist_ok=True)
            os.symlink(os.path.relpath(newTarget, os.path.dirname(destination)), destination)
            continue
        content = _newContent(plan, name, matcher)
        if content is None:
            shutil.copy2(source, destination)
        else:
            with open(destination, "wb") as output:
                for chunk in content:
                    output.write(chunk)
            shutil.copystat(source, destination)
