"""Verification of every file a save writes, connected to qSlicerCoreIOManager::fileSaved.

Slicer emits fileSaved(properties) after each file a save writes (the Save dialog's data files, then the scene),
while the bracket still holds the scene stripped: each one is searched for the session's values (the library's
verify step) and cleaned in place, or deleted. A scene file written by a path nobody bracketed (another extension's
writer, code calling the I/O manager directly, a slicer.util.saveScene reference taken before the module installed
its wrapper) is scanned for the live scene's values and cleaned in place, or deleted, when its properties ask for
"anonymize" or under Every save. Messages name files (masked) and counts, never values; inside a bracket they wait
until it ends, so that no modal box opens in the middle of the dialog's save.
"""

import os

from slicer.i18n import tr as _

from AnonymizeOnSaveLib import PolicyError, scenePhiMatcher
from AnonymizeOnSaveLib.fileNames import replaceInFileName
from AnonymizeOnSaveLib.sceneFiles import SceneFileError, cleanPath, removePath, scanPath
from AnonymizeOnSaveLib.session import activeSession
from AnonymizeOnSaveLib.verify import VerificationError

from .policySettings import EVERY_SAVE


def isSceneFile(fileName):
    return fileName.lower().endswith((".mrml", ".mrb")) or os.path.isdir(fileName)


class PostSaveCheck:
    """notify(message) tells the user."""

    def __init__(self, scene, settings, notify):
        self.scene, self.settings, self.notify = scene, settings, notify
        self.watching = False
        self.messages = []

    def watch(self):
        """Hold messages until flush(): a bracketed save is under way."""
        self.watching = True

    def flush(self):
        messages, self.messages, self.watching = self.messages, [], False
        for message in messages:
            self.notify(message)

    def _say(self, message):
        if self.watching:
            self.messages.append(message)
        else:
            self.notify(message)

    def onFileSaved(self, properties):
        properties = properties if hasattr(properties, "get") else {}
        fileName = properties.get("fileName")
        if not fileName:
            return
        fileName = os.path.abspath(str(fileName))
        session = activeSession(self.scene)
        if session is not None:
            self.verify(fileName, session)
        elif isSceneFile(fileName) and (properties.get("anonymize") or self.settings.mode() == EVERY_SAVE):
            self.check(fileName)

    def verify(self, fileName, session):
        """A file written while the scene was stripped: search it for the values the session replaced."""
        shown = replaceInFileName(session.matcher(), fileName)
        try:
            found = session.verify(fileName)
        except VerificationError as error:
            self._say(_("{file} was deleted: {cause}.").format(file=shown, cause=error))
            return False
        if found:
            self._say(
                _("{file} held patient data at {place}; it has been cleaned in place.").format(
                    file=shown, place=found[0]
                )
            )
        return not found

    def check(self, fileName):
        """Scan fileName for PHI and for the values the live scene holds; clean it in place, or remove it (also
        when the settings cannot be read: then it cannot be checked)."""
        try:
            policy = self.settings.policy()
        except PolicyError as error:
            removePath(fileName)
            shown = replaceInFileName(scenePhiMatcher(self.scene), fileName)
            self._say(_("{file} was deleted: it had to be anonymized, but {cause}.").format(file=shown, cause=error))
            return False
        matcher = scenePhiMatcher(self.scene, policy)
        shown = replaceInFileName(matcher, fileName)  # messages are logged too: no patient value, not even in the path
        try:
            result = scanPath(fileName, policy, matcher=matcher)
            if not result:
                return True
            cleanPath(fileName, inPlace=True, policy=policy)
            if scanPath(fileName, policy, matcher=matcher):
                raise SceneFileError("patient data remained after cleaning")
        except SceneFileError as error:
            removePath(fileName)
            self._say(
                _("{file} was written with patient data and could not be cleaned ({cause}); it was deleted.").format(
                    file=shown, cause=error
                )
            )
            return False
        self._say(
            _(
                "{file} was written with {count} patient data value(s) by a save that was not anonymized; it has been "
                "cleaned in place."
            ).format(file=shown, count=len(result.findings))
        )
        return False
