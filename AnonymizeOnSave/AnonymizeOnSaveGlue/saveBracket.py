"""Bracketing a save with StartState/EndState(SaveState), so that the save hook strips and restores around it."""

from AnonymizeOnSaveLib import AnonymizationError


class SaveBracket:
    """One anonymized save: begin() strips (or raises AnonymizationError, the scene untouched), end() restores.

    hook: the scene's SaveHook; it is enabled only inside the bracket (it stays enabled under Always).
    afterSave: called with no argument once the scene is restored (the post-save check).
    """

    def __init__(self, scene, hook, policy, afterSave=None):
        self.scene, self.hook, self.policy, self.afterSave = scene, hook, policy, afterSave
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
            self.end(runAfterSave=False)
            raise AnonymizationError(str(error))

    def end(self, runAfterSave=True):
        if not self.active:
            return
        self.active = False
        self.scene.EndState(self.scene.SaveState)
        self.hook.enabled = self._wasEnabled
        if runAfterSave and self.afterSave is not None:
            self.afterSave()
