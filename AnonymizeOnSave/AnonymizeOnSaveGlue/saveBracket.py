"""Bracketing a save with StartState/EndState(SaveState), so that the save hook strips and restores around it."""

from AnonymizeOnSaveLib import AnonymizationError


class SaveBracket:
    """One anonymized save: begin() strips (or raises AnonymizationError, the scene untouched), end() restores.

    hook: the scene's SaveHook; it is enabled only inside the bracket (it stays enabled under Always).
    postSaveCheck: verifies each file saved inside the bracket; its messages wait until the bracket ends.
    target: the scene file the save writes, as far as the caller knows it (its kind decides the .mrml rule).
    writtenStorageNodeIDs: the storage nodes whose data files the save writes itself (they may be renamed).
    """

    def __init__(self, scene, hook, policy, postSaveCheck=None, target=None, writtenStorageNodeIDs=()):
        self.scene, self.hook, self.policy, self.postSaveCheck = scene, hook, policy, postSaveCheck
        self.target = target
        self.writtenStorageNodeIDs = frozenset(writtenStorageNodeIDs)
        self.active = False
        self._wasEnabled = None

    def begin(self):
        self._wasEnabled = self.hook.enabled
        self.hook.enabled = True
        self.hook.policy = self.policy
        self.hook.target = self.target
        self.hook.writtenStorageNodeIDs = self.writtenStorageNodeIDs
        self.hook.lastError = None
        if self.postSaveCheck is not None:
            self.postSaveCheck.watch()
        self.scene.StartState(self.scene.SaveState)
        self.active = True
        error = self.hook.lastError
        if error is not None:
            self.end()
            raise AnonymizationError(str(error))

    def end(self):
        if not self.active:
            return
        self.active = False
        self.scene.EndState(self.scene.SaveState)
        self.hook.enabled = self._wasEnabled
        self.hook.target = None
        self.hook.writtenStorageNodeIDs = frozenset()
        if self.postSaveCheck is not None:
            self.postSaveCheck.flush()
