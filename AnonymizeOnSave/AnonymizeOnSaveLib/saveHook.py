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
from .saveOutputs import SaveOutputs, sceneOutputs
from .session import (
    MRML,
    AnonymizationError,
    AnonymizationSession,
    RestoreError,
    activeSession,
    isSavedWithoutStrip,
    sceneFileKind,
)
from .verify import VerificationError

_hooks = {}  # scene pointer -> hooks installed on it

_FIRST = 1000.0  # strip before any other observer sees the save start
_LAST = -1000.0  # restore after every other observer saw the save end


class SaveHook:
    """Strips PHI when a save starts and restores it when the save ends.

    enabled: when False the hook does nothing. policy: the Policy to apply (None: the default policy).
    refusal: when set (a message), every save the hook sees is refused with it (a policy that cannot be read).
    target: the file the next save writes, when whoever brackets it knows (else the scene's URL is assumed): a
    .mrml target refuses to rename data files, as the .mrml cannot rename the files it refers to, except those of
    writtenStorageNodeIDs (storage nodes whose data the save itself writes under the new names). When the save
    ends, before anything is restored, what it wrote of the target (saveOutputs.py) is verified and its thumbnail
    made neutral; a file the save did not write is never touched.
    lastError: the error of the last save's strip (the caller must then not write), of its verification (the output
    was removed) or of its restore.
    """

    def __init__(self, scene, policy=None):
        self.scene = scene
        self.policy = policy
        self.refusal = None
        self.enabled = True
        self.target = None
        self.writtenStorageNodeIDs = frozenset()
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
        if not self.enabled or activeSession(self.scene) is not None or isSavedWithoutStrip(self.scene):
            return
        if self.refusal:
            self.lastError = AnonymizationError(self.refusal)
            logging.error("AnonymizeOnSave: the scene must not be saved: %s", self.refusal)
            return
        target = self.target or self.scene.GetURL() or ""
        session = AnonymizationSession(
            self.scene,
            self.policy,
            refuseFileRenames=sceneFileKind(target) == MRML,
            writtenStorageNodeIDs=self.writtenStorageNodeIDs,
        )
        self._started = time.time()
        self._staging = StagingFolders(self.scene)
        self._outputs = SaveOutputs(os.path.abspath(target)) if os.path.isabs(target) else None
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
        outputs = self._writtenOutputs()
        try:
            if outputs is not None:
                outputs.check(session, reported=session.verified)
        except VerificationError as error:
            self.lastError = error
            logging.error("AnonymizeOnSave: the saved scene was removed: %s", error)
        try:
            session.restore()
        except RestoreError as error:
            self.lastError = error
            logging.error("AnonymizeOnSave: %s", error)

    def _writtenOutputs(self):
        """The outputs to check: the target's as they were when the save started; when nobody named the target and
        the writer moved the scene's URL to a file it wrote (SetURL before Commit), that file's, as of the start;
        None when there is no file to check."""
        url = self.scene.GetURL()
        if self.target or not url or (self._outputs is not None and self._outputs.fileName == os.path.abspath(url)):
            return self._outputs
        return _OutputsSince(os.path.abspath(url), self._started)

    def remove(self):
        """Detach from the scene, restoring it first if a save is under way."""
        for tag in self._tags:
            self.scene.RemoveObserver(tag)
        self._tags = []
        self._onEndSave()
        hooks = _hooks.get(self.scene.__this__, [])
        if self in hooks:
            hooks.remove(self)


class _OutputsSince(SaveOutputs):
    """The outputs of a save whose target was learnt only after it ran: what was modified since it started."""

    def __init__(self, fileName, started):
        self.fileName = fileName
        self.before = {path: None for path in sceneOutputs(fileName)}
        self.entries = {}
        self.started = started

    def _changed(self, path):
        try:
            return os.path.getmtime(path) >= self.started - 1
        except OSError:
            return False


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
