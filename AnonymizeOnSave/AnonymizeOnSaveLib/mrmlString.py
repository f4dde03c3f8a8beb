"""An anonymized .mrml written without touching the live scene, and without a byte of PHI reaching the disk.

vtkMRMLScene::Commit writes the scene to a string (SaveToXMLString); the string is planned and cleaned as the file
tool cleans a .mrml (mrmlText.MrmlDocument, planner.planChanges: the same rules, pseudonyms and matcher as a live
strip), with the values the live scene holds outside the text (nodes not saved with the scene, the data nodes inside
sequences) searched for too, then searched in memory for every value, and only then written, under a temporary
name renamed into place. The output is the one the live design writes (tests compare them byte for byte).
The subject hierarchy's item tags of the last text are kept (mrmlText.ItemTags): a scene saved again reads, plans
and renders only the tags that changed; every byte is still searched (a piece identical to one the same values
found clean before is not searched twice).

It serves a headless save of a .mrml when nothing else is written beside it (Commit also saves the data of hidden
storable nodes into "<scene>_Private", vtkMRMLScene::SavePrivateStorableNodes, which a string Commit skips) and when
the text stands for the live scene: Slicer writes subject hierarchy attributes and node attribute names unescaped
("name^value|", "name:value;"), so a value holding "|" then "^", or a name holding "^", "|", ":" or ";", reads back
as other entries (told by the entries' count and their names' length, live and read); the live design saves such a
scene (NotServed).
"""

import os
import stat
from collections import namedtuple

from . import profile
from .mrmlText import ItemTags, MrmlDocument, MrmlSyntaxError
from .outputSearch import namePlaces, searchBytes
from .planner import planChanges
from .report import Report
from .sceneFiles import replaceWithTemporary
from .session import renamesRefused


class MrmlStringError(RuntimeError):
    """Nothing was written; the message names places and causes, never values."""


class NotServed(Exception):
    """The text does not stand for the live scene as it is: the live design must save it (nothing was written)."""


def stringPathServes(scene):
    """Whether Commit would write nothing but the .mrml: no hidden storable node saved with the scene."""
    for index in range(scene.GetNumberOfNodes()):
        node = scene.GetNthNode(index)
        if node.IsA("vtkMRMLStorableNode") and node.GetHideFromEditors() and node.GetSaveWithScene():
            return False
    return True


def sceneText(scene, fileName, messages):
    """The scene as Commit writes it to fileName (its URL and root folder set as for a file), as text ("" when
    Commit wrote none). The scene keeps no copy of the text, and its string-saving setting is as it was."""
    scene.SetURL(fileName)
    scene.SetRootDirectory(os.path.dirname(fileName))
    wasSavingToString = scene.GetSaveToXMLString()
    scene.SetSceneXMLString("")
    scene.SetSaveToXMLString(1)
    try:
        committed = scene.Commit(None, messages)
        return committed, scene.GetSceneXMLString()
    finally:
        scene.SetSaveToXMLString(wasSavingToString)
        scene.SetSceneXMLString("")


Cleaned = namedtuple("Cleaned", "text counts matcher verification")
"""A cleaned .mrml text: the Report counts of its changes, the matcher of its values, the Verification of its bytes
(what a save needs; the parsed document is not kept)."""
_lastCleaned = [None, None]  # what the last text cleaned was cleaned for, and its Cleaned
_itemTags = ItemTags()  # the item tags of the last text cleaned: a scene saved again plans only the changed ones


def anonymizedText(text, fileName, policy, knownValues=(), entryCounts=None):
    """The Cleaned text of a .mrml text to be written as fileName.

    knownValues: (original, replacement, category) of the values the live scene holds outside the text;
    entryCounts: how many attributes and UIDs its hierarchy items hold and how many attributes its nodes hold, with
    the characters of their names (sceneSites.entryCounts; NotServed when the text reads back otherwise, or cannot
    be read). Raises MrmlStringError when it cannot be
    written without PHI: a data file name holding a value (a .mrml cannot rename the files it refers to), the
    scene's own name holding one, or a value still found in the cleaned text. The same text cleaned last for the
    same policy and values is not cleaned again."""
    memo = (policy.fingerprint(), tuple(knownValues), entryCounts, text)
    if _lastCleaned[0] == memo:
        checkName(fileName, _lastCleaned[1].matcher)
        return _lastCleaned[1]
    _lastCleaned[:] = [None, None]
    try:
        document = MrmlDocument(text, _itemTags)
    except MrmlSyntaxError as error:  # (control characters Commit wrote as they are)
        raise NotServed(f"the scene text cannot be read back ({error})") from None
    if entryCounts is not None and document.entryCounts() != entryCounts:
        raise NotServed(
            "a value or a name holding a separator Slicer writes unescaped ('|' or '^' in an item's, ';' or ':' in a"
            " node's) reads back otherwise"
        )
    changes = planChanges(document.sites(policy=policy), policy, laterValues=knownValues)
    renamed = [change.site.place for change in changes if change.category == profile.FILE_NAMES]
    if renamed:
        raise MrmlStringError(renamesRefused(renamed))
    matcher = changes.matcher
    checkName(fileName, matcher)
    document.write(changes)
    cleaned = document.render()
    result = searchBytes(os.path.basename(fileName), cleaned.encode("utf-8"), changes.values, matcher)
    remaining = result.found + result.data
    if not remaining and policy.recognisers:  # what the recognisers find is planned again: nothing may be left
        remaining = [change.site.place for change in planChanges(MrmlDocument(cleaned).sites(), policy)]
    if remaining:
        raise MrmlStringError(f"patient data would remain at {remaining[0]}: nothing was written")
    _lastCleaned[:] = [memo, Cleaned(cleaned, Report.fromChanges(changes).counts, matcher, result)]
    return _lastCleaned[1]


def checkName(fileName, matcher):
    """The name's test of the output check (written, escaped, cut short), before anything is written: the one test
    of a scene file's name, for both designs."""
    if namePlaces(os.path.basename(fileName), matcher):
        raise MrmlStringError("the file name holds patient data; choose another name, nothing was written")


def writeAtomically(fileName, text):
    """text as UTF-8 in place of fileName, as Commit would write it: through a symbolic link to the file it names,
    with the permissions Commit's file gets (those of the file replaced, else what the umask leaves of rw-rw-rw-);
    under a temporary name renamed into place (sceneFiles.replaceWithTemporary), or, for a file with other hard links
    (which a rename would leave with the old content), over the file itself."""
    target = os.path.realpath(fileName)
    data = text.encode("utf-8")
    if os.path.isfile(target) and os.stat(target).st_nlink > 1:
        with open(target, "r+b") as stream:
            stream.write(data)
            stream.truncate()
        return
    with replaceWithTemporary(target) as temporary:
        with open(temporary, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, _modeFor(target))


def _modeFor(fileName):
    try:
        return stat.S_IMODE(os.stat(fileName).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
