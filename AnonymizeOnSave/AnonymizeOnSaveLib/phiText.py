"""Finding PHI values inside free text: node and item names, descriptions, file names, other attributes.

A user may name a volume "MRN123 arterial" or a folder "Doe John". Values are matched case-insensitively and
regardless of the separators between their parts (``DOE^JOHN`` matches "Doe John", "john_doe", "DOEJOHN"),
dates also as YYYY-MM-DD and DD.MM.YYYY. Values with fewer than MIN_ALPHANUMERICS letters and digits are not
searched: they would match everywhere and identify no one.
"""

import re

from . import profile

MIN_ALPHANUMERICS = 4
REMOVED_PLACEHOLDER = "removed"
_PART = re.compile(r"[A-Za-z0-9]+")
_ANCHOR_LENGTH = 4


def _normalized(text):
    return "".join(_PART.findall(text)).lower()


def _variants(value, category):
    """The token sequences under which value may appear in free text."""
    tokens = _PART.findall(value)
    variants = [tokens]
    if category == profile.NAMES and len(tokens) > 1:
        variants.append(tokens[1:] + tokens[:1])  # "John Doe" for DOE^JOHN
    if category == profile.DATES and len(tokens) == 1 and re.fullmatch(r"[0-9]{8}", tokens[0]):
        year, month, day = tokens[0][:4], tokens[0][4:6], tokens[0][6:]
        variants = [[year, month, day], [day, month, year], [month, day, year]]
    return variants


class PhiTextMatcher:
    """Replaces every known PHI value found in a text by that value's replacement."""

    def __init__(self, pairs):
        """pairs: iterable of (original, replacement, category); a replacement of None or "" is a placeholder."""
        self._patterns = {}  # normalized variant -> (compiled pattern, replacement)
        self._anchors = {}  # first letters of a normalized variant -> normalized variants
        for original, replacement, category in pairs:
            if len(_normalized(original)) < MIN_ALPHANUMERICS:
                continue
            for tokens in _variants(original, category):
                key = "".join(tokens).lower()
                if key in self._patterns:
                    continue
                # Separators may stand anywhere between the letters, exactly as _normalized ignores them.
                pattern = re.compile(r"[^A-Za-z0-9]*".join(key), re.IGNORECASE)
                self._patterns[key] = (pattern, replacement or REMOVED_PLACEHOLDER)
                self._anchors.setdefault(key[:_ANCHOR_LENGTH], set()).add(key)
        # Longest first, so that a value containing another is replaced whole.
        self._order = sorted(self._patterns, key=len, reverse=True)

    def __bool__(self):
        return bool(self._patterns)

    def _candidates(self, text):
        normalized = _normalized(text)
        found = set()
        for start in range(len(normalized) - _ANCHOR_LENGTH + 1):
            for key in self._anchors.get(normalized[start : start + _ANCHOR_LENGTH], ()):
                if normalized.startswith(key, start):
                    found.add(key)
        return found

    def contains(self, text):
        return bool(text) and bool(self._candidates(text))

    def replace(self, text):
        """text with every PHI value replaced; text itself when it holds none."""
        if not text or not self._patterns:
            return text
        candidates = self._candidates(text)
        for key in self._order:
            if key in candidates:
                pattern, replacement = self._patterns[key]
                text = pattern.sub(lambda _match, r=replacement: r, text)
        return text
