"""The backstop: after a scene file meant to be anonymized is written, scan it and clean or remove it.

Catches what the brackets cannot: a save path we do not bracket, another extension's writer, code calling the I/O
manager directly. Connected to qSlicerCoreIOManager::fileSaved, which fires inside the save, while the scene is
still stripped; files saved inside a bracket are therefore checked when the bracket ends (flush()).
"""

import os

from AnonymizeOnSaveLib import scenePhiMatcher
from AnonymizeOnSaveLib.sceneFiles import SceneFileError, cleanPath, scanPath
from AnonymizeOnSaveLib.session import activeSession

from .policySettings import ALWAYS


def isSceneFile(fileName):
    return fileName.lower().endswith((".mrml", ".mrb")) or os.path.isdir(fileName)


class PostSaveCheck:
    """notify(message) tells the user; messages name files and counts, never values."""

    def __init__(self, scene, settings, notify):
        self.scene, self.settings, self.notify = scene, settings, notify
        self.watching = False
        self.pending = []

    def watch(self):
        """Every scene file saved from now until flush() was meant to be anonymized."""
        self.watching = True

    def onFileSaved(self, properties):
        fileName = properties.get("fileName") if hasattr(properties, "get") else None
        if not fileName or not isSceneFile(str(fileName)):
            return
        if not self.watching and self.settings.mode() != ALWAYS:
            return
        self.pending.append(os.path.abspath(str(fileName)))
        if activeSession(self.scene) is None:
            self.flush()

    def flush(self):
        pending, self.pending, self.watching = self.pending, [], False
        for fileName in pending:
            self.check(fileName)

    def check(self, fileName):
        """Scan fileName for PHI and for the values the live scene holds; clean it in place, or remove it."""
        policy = self.settings.policy()
        matcher = scenePhiMatcher(self.scene, policy)
        shown = matcher.replace(fileName)  # messages are logged too: no patient value, not even in the path
        try:
            result = scanPath(fileName, policy, matcher=matcher)
            if not result:
                return True
            cleanPath(fileName, inPlace=True, policy=policy)
            if scanPath(fileName, policy, matcher=matcher):
                raise SceneFileError("patient data remained after cleaning")
        except SceneFileError as error:
            _remove(fileName)
            self.notify(f"{shown} was written with patient data and could not be cleaned ({error}); it was deleted.")
            return False
        self.notify(
            f"{shown} was written with {len(result.findings)} patient data value(s) by a save that was not "
            "anonymized; it has been cleaned in place."
        )
        return False


def _remove(path):
    import shutil

    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.remove(path)
