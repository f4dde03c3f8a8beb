"""saveScene: write a scene as Slicer's scene writer does, anonymized, with the write bracketed by SaveState."""

import contextlib
import logging
import os
import shutil
import tempfile

from .audit import appendAuditRecord, auditLogPath
from .fileNames import replaceInFileName
from .gcPause import cycleCollectionPaused
from .mrbStaging import StagingFolders
from .mrmlString import (
    MrmlStringError,
    NotServed,
    anonymizedText,
    checkName,
    sceneText,
    stringPathServes,
    writeAtomically,
)
from .planner import planChanges
from .policy import defaultPolicy
from .report import Report
from .saveHook import hookErrors, targetOfTheSave
from .saveOutputs import SaveOutputs
from .session import (
    DIRECTORY,
    MRB,
    MRML,
    AnonymizationError,
    AnonymizationSession,
    RestoreError,
    activeSession,
    rememberReport,
    savedWithoutStrip,
    sceneFileKind,
)
from .verify import VerificationError


class _SaveFailed(Exception):
    """The reason a save failed, for the log."""


@cycleCollectionPaused
def saveScene(scene, fileName, anonymize=True, policy=None, markSaved=True):
    """Write scene to fileName (.mrml, .mrb, or any other name: a directory bundle). Returns True on success.

    With anonymize, the scene holds no PHI while it is written and is restored afterwards; if it cannot be
    anonymized nothing is written. What was written is then searched for every value the scene was stripped of
    (verify.py) and cleaned, or removed and the save failed. Every failure is logged with its cause and returns
    False. markSaved=False: an .mrb save does not mark the data nodes as modified afterwards, as Slicer's scene
    writer does for a save of the working scene (a copy leaves their saved state to its caller).
    """
    fileName = os.path.abspath(os.fspath(fileName))
    kind = sceneFileKind(fileName)
    session = None
    shown = fileName  # the target as logged: with anonymize, PHI in the path itself is masked
    saved = restored = False
    try:
        _checkTarget(fileName, kind)
        if anonymize and activeSession(scene) is None and kind == MRML and stringPathServes(scene):
            shown = "the target"
            policy = policy or defaultPolicy()
            served = _saveMrmlByString(scene, fileName, policy)
            if served is not None:
                report, matcher = served
                shown, saved = replaceInFileName(matcher, fileName), True
                _audit(fileName, policy, report, matcher)
                return True
        if anonymize and activeSession(scene) is None:
            shown = "the target"
            candidate = AnonymizationSession(scene, policy, refuseFileRenames=(kind == MRML))
            try:
                candidate.strip()
            except AnonymizationError as error:
                raise _SaveFailed(f"anonymization failed, nothing was written: {error}") from None
            session = candidate
            matcher = session.matcher()
            shown = replaceInFileName(matcher, fileName)
            try:  # the name is written too (an MRB's folder and scene inside are named after it)
                checkName(fileName, matcher)
            except MrmlStringError as error:
                raise _SaveFailed(str(error)) from None
        _bracketedWrite(scene, fileName, kind, markSaved)
        saved = True
        if session is not None:
            _audit(fileName, session.policy, session.report, matcher)
    except _SaveFailed as failure:
        # Slicer's messages quote the paths it wrote to: a folder named after a patient is masked too.
        reason = replaceInFileName(session.matcher(), str(failure)) if session is not None else failure
        logging.error("Scene not saved to %s: %s", shown, reason)
    except OSError as error:
        logging.error("Scene not saved to %s: %s", shown, error.strerror or type(error).__name__)
    finally:
        try:
            if session is not None:
                session.restore()
            restored = True
        except RestoreError as error:
            logging.error("The live scene was not fully restored after saving to %s: %s", shown, error)
    return saved and restored


def _audit(fileName, policy, report, matcher):
    """The save's audit record; a log that cannot be written is said, the save stays done."""
    if not auditLogPath():
        return
    try:
        appendAuditRecord(fileName, policy, report, matcher)
    except OSError as error:
        logging.error("The audit record of a save could not be written: %s", error.strerror or type(error).__name__)


def _saveMrmlByString(scene, fileName, policy):
    """The .mrml written by string (mrmlString.py), bracketed by SaveState as a live save is; (Report, matcher), or
    None when the live design must save the scene (nothing written). A refused save leaves the scene's URL and root
    folder as they were."""
    url, root = scene.GetURL(), scene.GetRootDirectory()
    done = False
    try:
        with savedWithoutStrip(scene):
            with _saveBracket(scene, fileName):
                cleaned = _cleanedSceneText(scene, fileName, policy)
                writeAtomically(fileName, cleaned.text)
        done = True
    except NotServed as reason:
        logging.info("AnonymizeOnSave: the scene is saved by the live design (%s)", reason)
        return None
    finally:
        if not done:
            scene.SetURL(url)
            scene.SetRootDirectory(root)
    report = Report(cleaned.counts)
    report.verifications.append(cleaned.verification)  # searched in memory, before it was written
    rememberReport(scene, report)
    return report, cleaned.matcher


def _cleanedSceneText(scene, fileName, policy):
    from .sceneSites import entryCounts, sitesTheSceneFileLacks  # imports slicer and vtk

    messages = _messages()
    try:
        knownValues = planChanges(sitesTheSceneFileLacks(scene), policy).values
        committed, text = sceneText(scene, fileName, messages)
        _raiseOnErrors(committed, messages, "writing the scene")
        if not text:
            raise _SaveFailed("the writer reported success but wrote no scene file")
        return anonymizedText(text, fileName, policy, knownValues, entryCounts(scene))
    except MrmlStringError as error:
        raise _SaveFailed(str(error)) from None
    except (_SaveFailed, NotServed):
        raise
    except Exception as error:  # its text could quote a value: only its kind is said
        raise _SaveFailed(f"anonymization failed, nothing was written ({type(error).__name__})") from None


def _checkTarget(fileName, kind):
    try:
        fileName.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 (as os.listdir gives them): VTK would abort the process
        raise _SaveFailed("the file name is not valid text; choose another name") from None
    parent = os.path.dirname(fileName)
    if not os.path.isdir(parent):
        raise _SaveFailed(f"the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise _SaveFailed(f"the folder {parent} is not writable")
    if kind == DIRECTORY and os.path.exists(fileName):
        if not os.path.isdir(fileName):
            raise _SaveFailed("a file of that name exists; a directory bundle needs a directory")
        if os.listdir(fileName):
            raise _SaveFailed("the directory is not empty; choose an empty directory")


def _bracketedWrite(scene, fileName, kind, markSaved=True):
    """Write with StartState/EndState(SaveState) around it, so every save hook sees the save. What the write
    produced is checked; what a failed write left is removed, or searched and cleaned where it replaced an earlier
    file."""
    outputs = SaveOutputs(fileName)
    with _saveBracket(scene, fileName):
        try:
            if kind == MRB:
                _writeMrb(scene, fileName, markSaved)
            else:
                {MRML: _writeMrml, DIRECTORY: _writeDirectory}[kind](scene, fileName)
            written = os.path.join(fileName, os.path.basename(fileName) + ".mrml") if kind == DIRECTORY else fileName
            if not os.path.isfile(written) or os.path.getsize(written) == 0:
                raise _SaveFailed("the writer reported success but wrote no scene file")
            _verify(scene, outputs)
        except BaseException:
            outputs.removeFailed(activeSession(scene))
            raise


@contextlib.contextmanager
def _saveBracket(scene, fileName):
    """StartState/EndState(SaveState) around a write to fileName, so every save hook sees it; a hook that could not
    strip the scene refuses the write."""
    with targetOfTheSave(scene, fileName):
        scene.StartState(scene.SaveState)
    try:
        errors = hookErrors(scene)
        if errors:
            raise _SaveFailed(f"anonymization failed, nothing was written: {errors[0]}")
        yield
    finally:
        scene.EndState(scene.SaveState)


def _verify(scene, outputs):
    """Search what the write produced for the values the scene was stripped of (by us or by a save hook)."""
    session = activeSession(scene)
    if session is None:
        return
    try:
        found = outputs.check(session)
    except VerificationError as error:
        raise _SaveFailed(f"the written file was removed: {error}") from None
    if found:
        logging.warning("Patient data written at %s was cleaned in place", found[0])


def _messages():
    import slicer

    return slicer.vtkMRMLMessageCollection()


def _raiseOnErrors(ok, messages, what):
    import vtk

    if not ok or messages.GetNumberOfMessagesOfType(vtk.vtkCommand.ErrorEvent):
        detail = messages.GetAllMessagesAsString().strip().splitlines()
        raise _SaveFailed(f"{what} failed" + (f": {detail[0]}" if detail else ""))


def _writeMrml(scene, fileName):
    """Like qSlicerSceneWriter::writeToMRML (Commit derives the private data folder from the URL, so the file
    is written under its own name)."""
    scene.SetURL(fileName)
    scene.SetRootDirectory(os.path.dirname(fileName))
    messages = _messages()
    _raiseOnErrors(scene.Commit(None, messages), messages, "writing the scene")


def _writeMrb(scene, fileName, markSaved=True):
    """Like qSlicerSceneWriter::writeToMRB; the bundle is written in a temporary folder under its final name
    (the name of the scene inside comes from it) and moved into place."""
    parent = os.path.dirname(fileName)
    scene.SetURL(fileName)
    scene.SetRootDirectory(parent)
    workDirectory = tempfile.mkdtemp(prefix=".anonymizeonsave-", dir=parent)
    try:
        temporary = os.path.join(workDirectory, os.path.basename(fileName))
        messages = _messages()
        staging = StagingFolders(scene)
        try:
            _raiseOnErrors(scene.WriteToMRB(temporary, None, messages), messages, "writing the bundle")
        finally:
            staging.remove()
        if os.path.isfile(temporary):
            os.replace(temporary, fileName)
    finally:
        shutil.rmtree(workDirectory, ignore_errors=True)
    if markSaved:
        scene.SetStorableNodesModifiedSinceRead()


def _writeDirectory(scene, fileName):
    """Like qSlicerSceneWriter::writeToDirectory: an empty directory, created when needed."""
    os.makedirs(fileName, exist_ok=True)
    messages = _messages()
    _raiseOnErrors(scene.SaveSceneToSlicerDataBundleDirectory(fileName, None, messages), messages, "writing the bundle")
