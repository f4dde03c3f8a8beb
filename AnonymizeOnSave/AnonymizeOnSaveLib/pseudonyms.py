"""Keyed pseudonyms: the same value and key always give the same replacement, another key another one.

Everything is derived with HMAC-SHA256, so a pseudonym cannot be reversed by hashing guessed names or IDs.
Pseudonyms are recognisable (names ``ANON^<code>``, IDs ``ANON<code>``, UIDs carry a keyed check), which makes
anonymizing an anonymized value a no-op.
"""

import datetime
import hmac
import re

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CODE_LENGTH = 10
PSEUDONYM_NAME_PATTERN = re.compile(r"ANON\^[0-9A-HJKMNP-TV-Z]{" + str(CODE_LENGTH) + "}")
PSEUDONYM_ID_PATTERN = re.compile(r"ANON[0-9A-HJKMNP-TV-Z]{" + str(CODE_LENGTH) + "}")
UID_ROOT = "2.25."
_UID_PATTERN = re.compile(r"2\.25\.(0|[1-9][0-9]{0,38})")
_MAX_SHIFT_DAYS = 3650
_CACHE_SIZE = 1 << 18  # replacements remembered per key: a save of a large hierarchy derives each value once
_CACHED_KEYS = 4  # keys whose UIDs are remembered across Pseudonymizers (Slicer makes a Policy per save)
_uidCaches = {}  # key fingerprint -> {original UID: new UID}, the most recently used key last


def _uidCacheFor(fingerprint):
    """The UIDs derived under a key so far, shared by every Pseudonymizer of that key (derived values only: a pure
    function of the key and the value)."""
    cache = _uidCaches.pop(fingerprint, None)
    if cache is None:
        cache = {}
        while len(_uidCaches) >= _CACHED_KEYS:
            _uidCaches.pop(next(iter(_uidCaches)))
    _uidCaches[fingerprint] = cache
    return cache


def isPseudonymName(value):
    return PSEUDONYM_NAME_PATTERN.fullmatch(value) is not None


def isPseudonymId(value):
    return PSEUDONYM_ID_PATTERN.fullmatch(value) is not None


def isUuidDerivedUid(value):
    """True for a UID of the 2.25.<128-bit integer> form, ours or anybody's."""
    match = _UID_PATTERN.fullmatch(value)
    return match is not None and int(match.group(1)) < 2**128


class Pseudonymizer:
    """Derives every replacement value from one secret key."""

    def __init__(self, key):
        if not isinstance(key, bytes) or not key:
            raise ValueError("a pseudonymization key must be non-empty bytes")
        self._key = key
        self._keyed = hmac.new(key, digestmod="sha256")  # copied for each digest: the key is not padded again
        self._fingerprint = self._digest("key-fingerprint", "")
        self._uids = _uidCacheFor(self._fingerprint)

    def __getstate__(self):  # (sent to worker processes: an HMAC object cannot be pickled, the key can)
        return {name: value for name, value in self.__dict__.items() if name != "_keyed"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._keyed = hmac.new(self._key, digestmod="sha256")

    def _digest(self, purpose, value):
        return self._mac(purpose.encode() + b"\0" + value.encode("utf-8"))

    def _mac(self, message):
        """HMAC-SHA256 of message under the key."""
        mac = self._keyed.copy()
        mac.update(message)
        return mac.digest()

    def _code(self, purpose, value):
        number = int.from_bytes(self._digest(purpose, value)[:8], "big")
        return "".join(_ALPHABET[(number >> (5 * i)) & 31] for i in range(CODE_LENGTH))

    def fingerprint(self):
        """A digest naming the key whole, to tell keys apart in memory (never shown: keyId is the short one)."""
        return self._fingerprint

    def keyId(self):
        """A short fingerprint naming the key without revealing it."""
        return self._digest("key-id", "").hex()[:8]

    def personName(self, value, patientKey=""):
        """ANON^<code> for the patient identified by patientKey (its ID; value itself when there is none).
        A value that already is a pseudonym name stays."""
        if isPseudonymName(value):
            return value
        return "ANON^" + self._code("patient", patientKey or value)

    def identifier(self, value):
        if isPseudonymId(value):
            return value
        return "ANON" + self._code("id", value.strip())

    def uid(self, value):
        """A valid 2.25.<integer> UID of at most 44 characters; 96 bits of it come from the value, 32 check the key."""
        new = self._uids.get(value)
        if new is None:
            new = value if self.isOwnUid(value) else self._newUid(value)
            if len(self._uids) >= _CACHE_SIZE:
                self._uids.clear()
            self._uids[value] = new
        return new

    def _newUid(self, value):
        body = self._digest("uid", value.strip())[:12]
        return UID_ROOT + str(int.from_bytes(body + self._uidCheck(body), "big"))

    def _uidCheck(self, body):
        return self._mac(b"uid-check\0" + body)[:4]

    def isOwnUid(self, value):
        """True when value is a UID this key produced."""
        match = _UID_PATTERN.fullmatch(value)
        if match is None or int(match.group(1)) >= 2**128:
            return False
        raw = int(match.group(1)).to_bytes(16, "big")
        return hmac.compare_digest(raw[12:], self._uidCheck(raw[:12]))

    def dateShiftDays(self, patientKey):
        """A keyed per-patient shift, 1 to 3650 days into the past."""
        number = int.from_bytes(self._digest("date-shift", patientKey)[:4], "big")
        return -(1 + number % _MAX_SHIFT_DAYS)

    def shiftDate(self, value, patientKey):
        """The DICOM date (YYYYMMDD) moved by the patient's shift; None when value is not a valid date."""
        text = value.strip()
        if not re.fullmatch(r"[0-9]{8}", text):
            return None
        try:
            date = datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            shifted = date + datetime.timedelta(days=self.dateShiftDays(patientKey))
        except (ValueError, OverflowError):
            return None
        return shifted.strftime("%Y%m%d") if shifted.year >= 1000 else None
