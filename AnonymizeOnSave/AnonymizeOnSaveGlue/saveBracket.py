"""Bracketing a save with StartState/EndState(SaveState), so that the save hook strips and restores around it."""

from AnonymizeOnSaveLib import AnonymizationError


class SaveBracket:
    """One anonymized save: begin() strips (or raises AnonymizationError, the scene untouched), end() restores.

    hook: the scene's SaveHook; it is enabled only inside the bracket (it stays enabled under Always).
    postSaveCheck: told to watch the files saved inside the bracket, and to check them once the scene is restored.
    """

    def __init__(self, scene, hook, policy, postSaveCheck=None):
        self.scene, self.hook, self.policy, self.postSaveCheck = scene, hook, policy, postSaveCheck
        self.active = False
        self._wasEnabled = None

    def begin(self):
        self._wasEnabled = self.hook.enabled
        self.hook.enabled = True
        self.hook.policy = self.policy
        self.hook.lastError = None
        self.scene.StartState(self.scene.SaveState)
        self.active = True
        error = self.hook.lastError
        if error is not None:
            self.end()
            raise AnonymizationError(str(error))
        if self.postSaveCheck is not None:
            self.postSaveCheck.watch()

    def end(self):
        if not self.active:
            return
        self.active = False
        self.scene.EndState(self.scene.SaveState)
        self.hook.enabled = self._wasEnabled
        if self.postSaveCheck is not None and self.postSaveCheck.watching:
            self.postSaveCheck.flush()
