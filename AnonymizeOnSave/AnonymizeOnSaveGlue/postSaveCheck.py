"""Verification of every file a save writes, connected to qSlicerCoreIOManager::fileSaved.

Slicer emits fileSaved after each file a save writes (the Save dialog's data files, then the scene), while the
bracket still holds the scene stripped: each one is searched for the session's values (the library's verify step)
and cleaned in place, or deleted. Under Every save, a scene file written by a path nobody bracketed (another
extension's writer, code calling the I/O manager directly) is scanned for the live scene's values and cleaned.
Messages name files (masked) and counts, never values; inside a bracket they wait until it ends, so that no modal
box opens in the middle of the dialog's save.
"""

import os

from AnonymizeOnSaveLib import scenePhiMatcher
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
        fileName = properties.get("fileName") if hasattr(properties, "get") else None
        if not fileName:
            return
        fileName = os.path.abspath(str(fileName))
        session = activeSession(self.scene)
        if session is not None:
            self.verify(fileName, session)
        elif self.settings.mode() == EVERY_SAVE and isSceneFile(fileName):
            self.check(fileName)

    def verify(self, fileName, session):
        """A file written while the scene was stripped: search it for the values the session replaced."""
        shown = replaceInFileName(session.matcher(), fileName)
        try:
            found = session.verify(fileName)
        except VerificationError as error:
            self._say(f"{shown} was deleted: {error}.")
            return False
        if found:
            self._say(f"{shown} held patient data at {found[0]}; it has been cleaned in place.")
        return not found

    def check(self, fileName):
        """Scan fileName for PHI and for the values the live scene holds; clean it in place, or remove it."""
        policy = self.settings.policy()
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
            self._say(f"{shown} was written with patient data and could not be cleaned ({error}); it was deleted.")
            return False
        self._say(
            f"{shown} was written with {len(result.findings)} patient data value(s) by a save that was not "
            "anonymized; it has been cleaned in place."
        )
        return False
