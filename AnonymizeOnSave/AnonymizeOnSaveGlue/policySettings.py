"""The anonymize-on-save policy setting: Off, Ask or Always, lockable by an administrator; and the key."""

import os
import secrets

from AnonymizeOnSaveLib import Policy

OFF, ASK, ALWAYS = "Off", "Ask", "Always"
MODES = (OFF, ASK, ALWAYS)
PREFIX = "AnonymizeOnSave/"
MODE_KEY = PREFIX + "Policy"
FORCE_KEY = PREFIX + "ForcePolicy"  # set by an administrator in the shared settings file
CHECKED_KEY = PREFIX + "SaveDialogChecked"
CHECKED_MODE_KEY = PREFIX + "SaveDialogCheckedUnder"
KEY_KEY = PREFIX + "Key"
RETAIN_KEY = PREFIX + "Retain"
ENVIRONMENT_VARIABLE = "SLICER_ANONYMIZE_ON_SAVE"


def _text(value):
    return "" if value is None else str(value)


class PolicySettings:
    """Reads and writes the setting. userSettings and sharedSettings are QSettings-like (value/setValue)."""

    def __init__(self, userSettings, sharedSettings=None, environment=None):
        self.user = userSettings
        self.shared = sharedSettings
        self.environment = os.environ if environment is None else environment

    def lockReason(self):
        """Why the policy is forced to Always, or "" when it is not."""
        if self.environment.get(ENVIRONMENT_VARIABLE, "").strip().lower() == "always":
            return f"the environment variable {ENVIRONMENT_VARIABLE} is set to 'always'"
        if self.shared is not None and _text(self.shared.value(FORCE_KEY)).strip().lower() == "always":
            return "an administrator set it in the shared settings"
        return ""

    def isLocked(self):
        return bool(self.lockReason())

    def mode(self):
        if self.isLocked():
            return ALWAYS
        mode = _text(self.user.value(MODE_KEY))
        return mode if mode in MODES else ASK

    def setMode(self, mode):
        if mode not in MODES:
            raise ValueError(f"unknown policy {mode!r}")
        if self.isLocked() and mode != ALWAYS:
            raise PermissionError("the policy is locked to Always: " + self.lockReason())
        if mode != self.mode():
            self.user.remove(CHECKED_MODE_KEY)  # a new policy starts from its own default
        self.user.setValue(MODE_KEY, mode)

    def checkboxChecked(self):
        """The Save dialog box's state: the user's last choice under the current policy, else its default."""
        mode = self.mode()
        if mode == ALWAYS:
            return True
        if _text(self.user.value(CHECKED_MODE_KEY)) == mode:
            return _text(self.user.value(CHECKED_KEY)).lower() in ("true", "1")
        return mode == ASK

    def rememberCheckbox(self, checked):
        self.user.setValue(CHECKED_KEY, "true" if checked else "false")
        self.user.setValue(CHECKED_MODE_KEY, self.mode())

    def anonymizeByDefault(self):
        """Whether a save that does not say anything is anonymized (headless saves cannot ask)."""
        return self.mode() != OFF

    def key(self):
        """The per-installation key, generated on first use; kept in the settings, never in a scene."""
        key = _text(self.user.value(KEY_KEY))
        if not key:
            key = secrets.token_hex(32)
            self.user.setValue(KEY_KEY, key)
        return key

    def setKey(self, key):
        if not key or not key.strip():
            raise ValueError("the key must not be empty")
        self.user.setValue(KEY_KEY, key.strip())

    def retain(self):
        return [option for option in _text(self.user.value(RETAIN_KEY)).split(",") if option]

    def setRetain(self, options):
        Policy(key="check", retain=options)  # unknown options are an error
        self.user.setValue(RETAIN_KEY, ",".join(sorted(options)))

    def policy(self):
        return Policy(key=self.key(), retain=self.retain())
