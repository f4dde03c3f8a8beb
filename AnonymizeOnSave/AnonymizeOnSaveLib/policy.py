"""The policy decides what every PHI value becomes. It is the one place the per-value rule lives."""

import json
import os
import re
import secrets
from collections import namedtuple

from . import profile
from .pseudonyms import Pseudonymizer, isUuidDerivedUid

KEY_ENVIRONMENT_VARIABLE = "ANONYMIZE_ON_SAVE_KEY"
PROFILE_NAME = "basic"
_METHOD_PREFIX = "AnonymizeOnSave PS3.15 Basic Profile"
_METHOD_PATTERN = re.compile(re.escape(_METHOD_PREFIX) + r"(?: retain=([A-Za-z,]+))?")


class PolicyError(ValueError):
    """A policy that cannot be built as asked (unknown option, bad JSON, bad key)."""


class PatientContext(namedtuple("PatientContext", "key deidentifiedOptions")):
    """What a value's patient tells the policy.

    key: the patient's original ID ("" when the value belongs to no patient); it keys the date shift and the
    pseudonym name. deidentifiedOptions: None, or the retain options the patient's de-identification marker
    declares, for values that were already anonymized by this tool.
    """


NO_PATIENT = PatientContext("", None)


def sceneContext(patientContexts):
    """The context of values outside any patient: when every DICOM patient of the scene declares the same
    de-identification, those values were de-identified with them."""
    declared = {context.deidentifiedOptions for context in patientContexts}
    if len(declared) == 1 and None not in declared:
        return PatientContext("", declared.pop())
    return NO_PATIENT


_defaultPolicy = None


class Policy:
    """PS3.15 basic profile with retain options and a secret key for consistent pseudonyms.

    key: bytes or str (a str is used as its UTF-8 bytes). None takes the environment variable
    ANONYMIZE_ON_SAVE_KEY, else a random key for this process only (pseudonyms then differ between runs;
    the Slicer module passes a per-installation key kept in its settings). recognisers: also replace any date, UID,
    e-mail address and phone number found in free text and data (recognisers.py); None leaves it to the caller:
    on for shared copies, scan and clean, off for saves.
    """

    def __init__(self, key=None, retain=(), recognisers=None):
        if isinstance(retain, str):
            retain = (retain,)
        unknown = sorted(set(retain) - set(profile.RETAIN_OPTIONS))
        if unknown:
            raise PolicyError(
                "unknown retain option(s): {}; known: {}".format(", ".join(unknown), ", ".join(profile.RETAIN_OPTIONS))
            )
        if recognisers not in (None, True, False):
            raise PolicyError("'recognisers' must be true or false")
        self.recognisers = recognisers  # None: the caller's default (on for shared copies, scan and clean)
        self.retain = frozenset(retain)
        self._retainOrder = sorted(self.retain)
        if key is None:
            key = os.environ.get(KEY_ENVIRONMENT_VARIABLE) or None
        self.keyIsEphemeral = key is None
        if key is None:
            key = secrets.token_bytes(32)
        elif isinstance(key, str):
            key = key.encode("utf-8")
        if not isinstance(key, bytes) or not key:
            raise PolicyError("the key must be a non-empty str or bytes")
        self._key = key
        self.pseudonyms = Pseudonymizer(key)

    def __repr__(self):
        return f"Policy(retain={sorted(self.retain)}, keyId={self.keyId()})"

    def withRecognisers(self, default=True):
        """This policy (same key) with recognisers set to default when it leaves them to its caller."""
        if self.recognisers is not None:
            return self
        policy = Policy(key=self._key, retain=self.retain, recognisers=default)
        policy.keyIsEphemeral = self.keyIsEphemeral
        return policy

    def fingerprint(self):
        """What decides every replacement this policy makes: the key (by digest), the retain options and the
        recognisers. Two policies with the same fingerprint clean a text the same way."""
        return self.pseudonyms.fingerprint(), self.retain, self.recognisers

    def keyLength(self):
        return len(self._key)

    def keyId(self):
        return self.pseudonyms.keyId()

    # --- serialization -------------------------------------------------------------------------------------

    def toJSON(self, includeKey=False):
        """The policy as JSON. The key is left out unless asked for; keyId names it without revealing it."""
        data = {"profile": PROFILE_NAME, "retain": sorted(self.retain), "keyId": self.keyId()}
        if self.recognisers is not None:
            data["recognisers"] = self.recognisers
        if includeKey:
            data["key"] = self._key.hex()
        return json.dumps(data, sort_keys=True)

    @classmethod
    def fromJSON(cls, text):
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as error:
            raise PolicyError(f"policy is not valid JSON: {error}") from None
        if not isinstance(data, dict):
            raise PolicyError("policy JSON must be an object")
        unknown = sorted(set(data) - {"profile", "retain", "key", "keyId", "recognisers"})
        if unknown:
            raise PolicyError("unknown policy field(s): " + ", ".join(unknown))
        if data.get("profile", PROFILE_NAME) != PROFILE_NAME:
            raise PolicyError(f"unknown profile; only {PROFILE_NAME!r} is supported")
        retain = data.get("retain", [])
        if not isinstance(retain, list) or not all(isinstance(option, str) for option in retain):
            raise PolicyError("'retain' must be a list of option names")
        key = data.get("key")
        if key is not None:
            try:
                key = bytes.fromhex(key)
            except (TypeError, ValueError):
                raise PolicyError("'key' must be a hex string") from None
        policy = cls(key=key, retain=retain, recognisers=data.get("recognisers"))
        if key is not None and "keyId" in data and data["keyId"] != policy.keyId():
            raise PolicyError("'keyId' does not match 'key'")
        return policy

    # --- markers ---------------------------------------------------------------------------------------------

    def deidentificationMethod(self):
        """The value of DICOM.DeidentificationMethod, naming the profile and its options."""
        if not self.retain:
            return _METHOD_PREFIX
        return "{} retain={}".format(_METHOD_PREFIX, ",".join(sorted(self.retain)))

    def markerValues(self):
        return {profile.PATIENT_IDENTITY_REMOVED: "YES", profile.DEIDENTIFICATION_METHOD: self.deidentificationMethod()}

    @staticmethod
    def declaredOptions(identityRemoved, method):
        """The retain options a patient's markers declare, or None when the patient is not marked by this tool."""
        if identityRemoved != "YES" or not method:
            return None
        match = _METHOD_PATTERN.fullmatch(method)
        if match is None:
            return None
        options = frozenset(filter(None, (match.group(1) or "").split(",")))
        return options if options <= set(profile.RETAIN_OPTIONS) else None

    # --- values ----------------------------------------------------------------------------------------------

    def actionFor(self, rule):
        for option in self._retainOrder:
            if option in rule.retained:
                return rule.retained[option]
        return rule.action

    def anonymizeAttribute(self, name, value, context=NO_PATIENT):
        """The new value of a DICOM.* attribute; None means remove it. Other attributes are returned as they are."""
        rule = profile.ruleForAttribute(name)
        return value if rule is None else self.applyRule(rule, value, context)

    def anonymizeItemUid(self, uidName, value, context=NO_PATIENT, isPatientItem=False):
        return self.applyRule(profile.ruleForItemUid(uidName, isPatientItem), value, context)

    def applyRule(self, rule, value, context=NO_PATIENT):
        """The value the rule's action makes of value; None means remove. Empty values are never PHI."""
        if value == "":
            return value
        action = self.actionFor(rule)
        if action == profile.KEEP:
            return value
        if action == profile.REMOVE:
            return None
        if action == profile.EMPTY:
            return ""
        if action == profile.PSEUDONYM_NAME:
            return self.pseudonyms.personName(value, context.key)
        if action == profile.PSEUDONYM_ID:
            return self.pseudonyms.identifier(value)
        if action == profile.UID:
            return self._uid(value, context)
        if action == profile.UID_LIST:
            return " ".join(self._uid(token, context) if token else token for token in value.split(" "))
        if action == profile.SHIFT_DATE:
            if context.deidentifiedOptions is not None and profile.LONGITUDINAL_DATES in context.deidentifiedOptions:
                return value  # already shifted when this patient was de-identified
            return self.pseudonyms.shiftDate(value, context.key) or ""
        raise PolicyError(f"unknown action {action!r}")

    def _uid(self, value, context):
        if context.deidentifiedOptions is not None and isUuidDerivedUid(value):
            return value  # replaced when this patient was de-identified, possibly under another key
        return self.pseudonyms.uid(value)


def defaultPolicy():
    """The policy used when none is given: the basic profile, with one key for the whole process."""
    global _defaultPolicy
    if _defaultPolicy is None:
        _defaultPolicy = Policy()
    return _defaultPolicy
