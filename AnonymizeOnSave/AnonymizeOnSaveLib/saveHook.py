"""Anonymize every save of a scene by observing the scene's StartSaveEvent and EndSaveEvent.

Slicer declares these events but never emits them: they fire only for saves bracketed with
scene.StartState(scene.SaveState) / EndState, as saveScene here and the module's Save dialog and
slicer.util.saveScene wrappers do. VTK emits them for the outermost bracket only, so nesting is free.
"""

import contextlib
import logging
import os
import time

from .mrbStaging import StagingFolders
from .session import MRML, AnonymizationError, AnonymizationSession, RestoreError, activeSession, sceneFileKind
from .verify import VerificationError

_hooks = {}  # scene pointer -> hooks installed on it

_FIRST = 1000.0  # strip before any other observer sees the save start
_LAST = -1000.0  # restore after every other observer saw the save end


class SaveHook:
    """Strips PHI when a save starts and restores it when the save ends.

    enabled: when False the hook does nothing. policy: the Policy to apply (None: the default policy).
    target: the file the next save writes, when whoever brackets it knows (else the scene's URL is assumed): a
    .mrml target refuses to rename data files, as the .mrml cannot rename the files it refers to. When the save
    ends, before anything is restored, the target (or the file at the scene's URL, if the save wrote it) is
    verified (verify.py).
    lastError: the error of the last save's strip (the caller must then not write), of its verification (the output
    was removed) or of its restore.
    """

    def __init__(self, scene, policy=None):
        self.scene = scene
        self.policy = policy
        self.enabled = True
        self.target = None
        self.lastReport = None
        self.lastError = None
        self._session = None
        self._tags = [
            scene.AddObserver(scene.StartSaveEvent, self._onStartSave, _FIRST),
            scene.AddObserver(scene.EndSaveEvent, self._onEndSave, _LAST),
        ]
        _hooks.setdefault(scene.__this__, []).append(self)

    @property
    def isStripped(self):
        return self._session is not None

    def _onStartSave(self, caller=None, event=None):
        self.lastError = None
        if not self.enabled or activeSession(self.scene) is not None:
            return
        target = self.target or self.scene.GetURL() or ""
        session = AnonymizationSession(self.scene, self.policy, refuseFileRenames=sceneFileKind(target) == MRML)
        self._started = time.time()
        self._staging = StagingFolders(self.scene)
        try:
            self.lastReport = session.strip()
            self._session = session
        except AnonymizationError as error:
            self.lastError = error
            logging.error("AnonymizeOnSave: the scene was not anonymized, it must not be saved: %s", error)

    def _onEndSave(self, caller=None, event=None):
        session, self._session = self._session, None
        if session is None:
            return
        self._staging.remove()  # what a failed .mrb write left in the cache folder, never verified
        target = self.target or self._urlWrittenDuringTheSave()
        if target and os.path.isabs(target):
            try:
                session.verify(target)
            except VerificationError as error:
                self.lastError = error
                logging.error("AnonymizeOnSave: the saved scene was removed: %s", error)
        try:
            session.restore()
        except RestoreError as error:
            self.lastError = error
            logging.error("AnonymizeOnSave: %s", error)

    def _urlWrittenDuringTheSave(self):
        url = self.scene.GetURL()
        try:
            return url if url and os.path.getmtime(url) >= self._started - 1 else None
        except OSError:
            return None

    def remove(self):
        """Detach from the scene, restoring it first if a save is under way."""
        for tag in self._tags:
            self.scene.RemoveObserver(tag)
        self._tags = []
        self._onEndSave()
        hooks = _hooks.get(self.scene.__this__, [])
        if self in hooks:
            hooks.remove(self)


def installSaveHook(scene, policy=None):
    """Anonymize every bracketed save of scene; returns the SaveHook (call remove() to detach it)."""
    return SaveHook(scene, policy)


@contextlib.contextmanager
def targetOfTheSave(scene, fileName):
    """Tell the scene's hooks that the save bracketed within writes fileName (unless their bracket said already)."""
    hooks = [hook for hook in _hooks.get(scene.__this__, []) if hook.target is None]
    for hook in hooks:
        hook.target = fileName
    try:
        yield
    finally:
        for hook in hooks:
            hook.target = None


def hookErrors(scene):
    """The strip errors the scene's hooks hit at the start of the current save."""
    return [hook.lastError for hook in _hooks.get(scene.__this__, []) if hook.lastError is not None]
