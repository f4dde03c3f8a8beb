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
_ANCHOR = 6  # values are indexed by their last letters and digits: UIDs share roots, not endings


def _isPart(character):
    return character.isascii() and character.isalnum()


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
        self._replacements = {}  # normalized variant -> replacement
        self._anchors = {}  # last letters of a normalized variant -> normalized variants
        for original, replacement, category in pairs:
            if len(_normalized(original)) < MIN_ALPHANUMERICS:
                continue
            for tokens in _variants(original, category):
                key = "".join(tokens).lower()
                if key not in self._replacements:
                    self._replacements[key] = replacement or REMOVED_PLACEHOLDER
                    self._anchors.setdefault(key[-_ANCHOR:], []).append(key)
        self._anchorLengths = sorted({len(anchor) for anchor in self._anchors})

    def __bool__(self):
        return bool(self._replacements)

    def _occurrences(self, normalized):
        """(start, end) of every known value in a normalized text."""
        found = []
        for end in range(1, len(normalized) + 1):
            for length in self._anchorLengths:
                if length > end:
                    break
                for key in self._anchors.get(normalized[end - length : end], ()):
                    if len(key) <= end and normalized.startswith(key, end - len(key)):
                        found.append((end - len(key), end, key))
        return found

    def contains(self, text):
        return bool(text) and bool(self._anchors) and bool(self._occurrences(_normalized(text)))

    def replace(self, text):
        """text with every PHI value replaced; text itself when it holds none.

        Separators are ignored while matching, so a match spans from its first to its last letter or digit in
        the original text; of overlapping matches the longest wins.
        """
        if not text or not self._anchors:
            return text
        positions = [index for index, character in enumerate(text) if _isPart(character)]
        normalized = "".join(text[index] for index in positions).lower()
        chosen = []
        for start, end, key in sorted(self._occurrences(normalized), key=lambda o: (o[0] - o[1], o[0])):
            if all(end <= other[0] or start >= other[1] for other in chosen):
                chosen.append((start, end, key))
        for start, end, key in sorted(chosen, reverse=True):
            text = text[: positions[start]] + self._replacements[key] + text[positions[end - 1] + 1 :]
        return text
