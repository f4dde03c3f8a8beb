"""The anonymize-on-save policy setting, lockable by an administrator, and the pseudonymization key.

Two modes, named for what they do:
- SHARED_COPIES_ONLY (the default): working saves stay plain, so a scene reloaded later keeps its link to the DICOM
  database. Anonymized files come from "Save anonymized copy for sharing...", from ticking the Save dialog's box
  for one save (it starts unticked every time), or from a script asking for it (slicer.util.saveScene(...,
  {"anonymize": True})). Other extensions' scripted saves are never anonymized behind their back.
- EVERY_SAVE: every scene save is anonymized (the box is ticked and disabled); for sites where no file with patient
  data may leave Slicer. An administrator can lock it.
"""

import os
import secrets

from AnonymizeOnSaveLib import Policy, PolicyError

SHARED_COPIES_ONLY, EVERY_SAVE = "SharedCopiesOnly", "EverySave"
MODES = (SHARED_COPIES_ONLY, EVERY_SAVE)
_FORMER_MODES = {"Off": SHARED_COPIES_ONLY, "Ask": SHARED_COPIES_ONLY, "Always": EVERY_SAVE}
PREFIX = "AnonymizeOnSave/"
MODE_KEY = PREFIX + "Policy"
FORCE_KEY = PREFIX + "ForcePolicy"  # set by an administrator in the shared settings file
KEY_KEY = PREFIX + "Key"
RETAIN_KEY = PREFIX + "Retain"
RECOGNISERS_KEY = PREFIX + "Recognisers"  # any date, UID, e-mail address and phone number (recognisers.py)
RECOGNISERS = {"SharedCopies": None, "EverySave": True, "Never": False}  # None: on for shared copies only
ENVIRONMENT_VARIABLE = "SLICER_ANONYMIZE_ON_SAVE"
_LOCK_VALUES = ("always", EVERY_SAVE.lower())


def _text(value):
    return "" if value is None else str(value)


def _options(value):
    """A comma list as QSettings reads it back: a string, or (unquoted in an INI file) a list of strings."""
    if isinstance(value, (list, tuple)):
        return [str(option).strip() for option in value if str(option).strip()]
    return [option.strip() for option in _text(value).split(",") if option.strip()]


class PolicySettings:
    """Reads and writes the setting. userSettings and sharedSettings are QSettings-like (value/setValue)."""

    def __init__(self, userSettings, sharedSettings=None, environment=None):
        self.user = userSettings
        self.shared = sharedSettings
        self.environment = os.environ if environment is None else environment

    def lockReason(self):
        """Why every save must be anonymized, or "" when nothing forces it."""
        if self.environment.get(ENVIRONMENT_VARIABLE, "").strip().lower() in _LOCK_VALUES:
            return f"the environment variable {ENVIRONMENT_VARIABLE} is set to '{EVERY_SAVE}'"
        if self.shared is not None and _text(self.shared.value(FORCE_KEY)).strip().lower() in _LOCK_VALUES:
            return "an administrator set it in the shared settings"
        return ""

    def isLocked(self):
        return bool(self.lockReason())

    def mode(self):
        if self.isLocked():
            return EVERY_SAVE
        mode = _text(self.user.value(MODE_KEY))
        mode = _FORMER_MODES.get(mode, mode)
        return mode if mode in MODES else SHARED_COPIES_ONLY

    def setMode(self, mode):
        if mode not in MODES:
            raise ValueError(f"unknown policy {mode!r}")
        if self.isLocked() and mode != EVERY_SAVE:
            raise PermissionError("every save must be anonymized: " + self.lockReason())
        self.user.setValue(MODE_KEY, mode)

    def anonymizeByDefault(self):
        """Whether a save that does not ask for anything is anonymized: only under EVERY_SAVE."""
        return self.mode() == EVERY_SAVE

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
        return _options(self.user.value(RETAIN_KEY))

    def setRetain(self, options):
        Policy(key="check", retain=options)  # unknown options are an error
        self.user.setValue(RETAIN_KEY, ",".join(sorted(options)))

    def recognisers(self):
        """Where the recognisers run: "SharedCopies" (the default: shared copies, scan and clean), "EverySave" (every
        anonymized save too) or "Never"."""
        value = _text(self.user.value(RECOGNISERS_KEY)) or "SharedCopies"
        if value not in RECOGNISERS:
            raise PolicyError(f"the setting {RECOGNISERS_KEY} must be one of {', '.join(RECOGNISERS)}")
        return value

    def setRecognisers(self, value):
        if value not in RECOGNISERS:
            raise ValueError(f"unknown recognisers setting {value!r}")
        self.user.setValue(RECOGNISERS_KEY, value)

    def policy(self):
        """The Policy of the settings; PolicyError names the setting that cannot be read (never its value)."""
        recognisers = RECOGNISERS[self.recognisers()]
        try:
            return Policy(key=self.key(), retain=self.retain(), recognisers=recognisers)
        except PolicyError as error:
            raise PolicyError(f"the setting {RETAIN_KEY} cannot be used: {error}") from None
