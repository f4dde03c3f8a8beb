"""An anonymized .mrml written without touching the live scene, and without a byte of PHI reaching the disk.

vtkMRMLScene::Commit writes the scene to a string (SaveToXMLString); the string is planned and cleaned as the file
tool cleans a .mrml (mrmlText.MrmlDocument, planner.planChanges: the same rules, pseudonyms and matcher as a live
strip), searched in memory for every value it was cleaned of, and only then written, under a temporary name renamed
into place. The output is the one the live design writes (tests compare them byte for byte).

It serves a headless save of a .mrml when nothing else is written beside it: Commit also saves the data of hidden
storable nodes into "<scene>_Private" (vtkMRMLScene::SavePrivateStorableNodes), which a string Commit skips, so a
scene holding such nodes is saved by the live design (session.py).
"""

import os
import stat
import tempfile

from . import profile
from .fileNames import decodeFileName
from .mrmlText import MrmlDocument
from .outputSearch import searchBytes
from .planner import planChanges


class MrmlStringError(RuntimeError):
    """Nothing was written; the message names places and causes, never values."""


def stringPathServes(scene):
    """Whether Commit would write nothing but the .mrml: no hidden storable node saved with the scene."""
    for index in range(scene.GetNumberOfNodes()):
        node = scene.GetNthNode(index)
        if node.IsA("vtkMRMLStorableNode") and node.GetHideFromEditors() and node.GetSaveWithScene():
            return False
    return True


def sceneText(scene, fileName, messages):
    """The scene as Commit writes it to fileName (its URL and root folder set as for a file), as text ("" when
    Commit wrote none: the string of an earlier Commit is cleared first)."""
    scene.SetURL(fileName)
    scene.SetRootDirectory(os.path.dirname(fileName))
    scene.SetSceneXMLString("")
    scene.SetSaveToXMLString(1)
    try:
        committed = scene.Commit(None, messages)
    finally:
        scene.SetSaveToXMLString(0)
    return committed, scene.GetSceneXMLString()


_lastCleaned = [None, None]  # (policy fingerprint, text) of the last text cleaned, and (cleaned, changes, result)


def anonymizedText(text, fileName, policy):
    """(the cleaned text, its changes, the Verification of its bytes) of a .mrml text to be written as fileName.
    Raises MrmlStringError when it cannot be written without PHI: a data file name holding a value (a .mrml cannot
    rename the files it refers to), the scene's own name holding one, or a value still found in the cleaned
    text. The same text cleaned last under the same policy (a scene saved again unchanged) is not cleaned again."""
    memo = (policy.fingerprint(), text)
    if _lastCleaned[0] == memo:
        cleaned, changes, result = _lastCleaned[1]
        _checkName(fileName, changes.matcher)
        return cleaned, changes, result
    _lastCleaned[:] = [None, None]
    document = MrmlDocument(text)
    changes = planChanges(document.sites(), policy)
    renamed = [change.site.place for change in changes if change.category == profile.FILE_NAMES]
    if renamed:
        raise MrmlStringError(
            f"{len(renamed)} data file name(s) the scene refers to hold PHI (first: {renamed[0]}); "
            "a .mrml save cannot rename data files: save as .mrb or a directory bundle, or rename the files"
        )
    matcher = changes.matcher
    _checkName(fileName, matcher)
    for change in changes:
        change.site.handle.write(change.value)
    cleaned = document.render()
    result = searchBytes(os.path.basename(fileName), cleaned.encode("utf-8"), changes.values, matcher)
    remaining = result.found + result.data
    if not remaining and policy.recognisers:  # what the recognisers find is planned again: nothing may be left
        remaining = [change.site.place for change in planChanges(MrmlDocument(cleaned).sites(), policy)]
    if remaining:
        raise MrmlStringError(f"patient data would remain at {remaining[0]}: nothing was written")
    _lastCleaned[:] = [memo, (cleaned, changes, result)]
    return cleaned, changes, result


def _checkName(fileName, matcher):
    if matcher.contains(decodeFileName(os.path.basename(fileName))):
        raise MrmlStringError("the file name holds patient data; choose another name, nothing was written")


def writeAtomically(fileName, text):
    """text as UTF-8 under a temporary name beside fileName, renamed into place (removed if anything fails), with
    the permissions Commit's file gets: those of the file it replaces, else what the umask leaves of rw-rw-rw-."""
    folder = os.path.dirname(fileName)
    handle, temporary = tempfile.mkstemp(prefix=".anonymizeonsave-", suffix=".partial.mrml", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8"))
        os.chmod(temporary, _modeFor(fileName))
        os.replace(temporary, fileName)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _modeFor(fileName):
    try:
        return stat.S_IMODE(os.stat(fileName).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
