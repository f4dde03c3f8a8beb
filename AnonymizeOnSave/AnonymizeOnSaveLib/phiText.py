"""Finding PHI values inside free text: node and item names, descriptions, file names, other attributes, files.

Text is cut into tokens (runs of letters and digits in any script; every CJK or Hangul character is a token of its
own, since those scripts write names without spaces) and each token is folded (case and accents: "JOSÉ", "José" and
"jose" are one token). A value matches a run of whole tokens, whatever separators stand between them, so
``DOE^JOHN`` matches "john_doe" and "Doe, John", but "Li" never matches "Liver". Each kind of value is searched
under the spellings people use:

- person names by their DICOM components and ``=`` groups, in any order, with or without the middle name, and each
  family name (at least 2 characters) or given name (at least 3) on its own; name particles ("van", "de") and words
  Slicer writes in every scene ("Green", the slice view) never match alone; a compound family name ("O'Brien",
  "Müller-Lüdenscheidt") is also found written as one word;
- dates (YYYYMMDD) as year-month-day, day-month-year or month-day-year, padded or not, with English month names;
- times (HHMMSS.frac) with or without the fraction and with separators; IDs also with their separators dropped;
- any other value (descriptions, comments, UIDs) as a phrase of its tokens.

Values shorter than MIN_CHARACTERS letters and digits (2 CJK characters) are not searched: they identify no one.
"""

import functools
import itertools
import re
import unicodedata

from . import profile

MIN_CHARACTERS = 4
MIN_FAMILY_NAME = 2
MIN_GIVEN_NAME = 3
MIN_TRUNCATED = 3  # the characters a value cut short by a file name's length limit keeps, to be recognised alone
# What a matched value becomes when its own replacement is empty: readable, and never misleading.
STAND_INS = {
    profile.DESCRIPTIONS: "[description]",
    profile.DATES: "[date]",
    profile.TIMES: "[time]",
    profile.COMMENTS: "[comment]",
    profile.NAMES: "[name]",
    profile.OTHER_NAMES: "[name]",
    profile.INSTITUTION: "[institution]",
    profile.IDENTIFIERS: "[ID]",
}
DEFAULT_STAND_IN = "[removed]"

_CJK = "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_]|[\u0300-\u036f])+")
_ASCII_TOKEN = re.compile(r"[A-Za-z0-9]+")  # the same tokens in ASCII text, found several times faster
_IS_CJK = re.compile(rf"[{_CJK}]")
_LETTERS_OR_DIGITS = re.compile(r"[0-9]+|[^0-9]+")
_DOTTED_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_STAR = "(star)"  # how DICOMScalarVolumePlugin.cleanNodeName writes a "*" into a node name: a separator
_UNDECOMPOSED = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "đ": "d", "Đ": "d"})
_UNDECOMPOSED.update(str.maketrans({"ł": "l", "Ł": "l", "þ": "th", "Þ": "th", "ı": "i"}))
PARTICLES = frozenset(
    "van von der den de del della di da du la le las los dos das do ten ter bin ben ibn al el abu st saint mac".split()
)
# Words Slicer itself writes into every scene (view, layout and hierarchy level names, node kinds): a family or given
# name that is one of them identifies no one alone, and matching it would rename Slicer's own views.
SLICER_WORDS = frozenset(
    """red green yellow orange view views slice scene patient study series folder subject hierarchy selection
    interaction crosshair layout default camera color colour model volume segment segmentation table text markups
    transform sequence browser display storage node label axial sagittal coronal grey gray white black none""".split()
)
_MONTHS = (
    "january february march april may june july august september october november december".split(),
    "jan feb mar apr may jun jul aug sep oct nov dec".split(),
)


def fold(token):
    """A token without case or accents ("Müller" -> "muller", "ß" -> "ss")."""
    if token.isascii():
        return token.lower()
    decomposed = unicodedata.normalize("NFKD", token.translate(_UNDECOMPOSED))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def tokens(text):
    """The folded tokens of a text."""
    if _STAR in text:
        text = text.replace(_STAR, " ")
    if text.isascii():
        return _ASCII_TOKEN.findall(text.lower())
    return [fold(token) for token in _TOKEN.findall(text)]


def _isCjk(key):
    return any(_IS_CJK.match(token) for token in key)


def _longEnough(key):
    return sum(map(len, key)) >= MIN_CHARACTERS or (len(key) >= 2 and _isCjk(key))


# --- the spellings of a value --------------------------------------------------------------------------------


def _joined(parts):
    """A name component as typed with its separators and as one word ("O'Brien": o brien, obrien)."""
    return [parts, ("".join(parts),)] if len(parts) > 1 and not _isCjk(parts) else [parts]


def _mayStandAlone(word, minimum):
    """A name part searched on its own: long enough, not a particle nor a word of Slicer's, not one CJK character
    (a CJK name part is its whole run)."""
    return len(word) >= minimum and word not in PARTICLES and word not in SLICER_WORDS and not _IS_CJK.match(word)


def _personNameKeys(value):
    """(keys, solo keys): whole-name spellings, and the family and given names that may stand alone."""
    keys, solo = [], []
    for group in value.split("="):
        components = [*group.split("^"), "", "", ""][:3]
        family, given, middle = (tuple(tokens(component)) for component in components)
        present = [part for part in (family, given, middle) if part]
        for count in range(len(present), 1, -1):
            for order in itertools.permutations(present, count):
                if order[0] is not middle or count == len(present):
                    for spelled in itertools.product(*(_joined(part) for part in order)):
                        keys.append(sum(spelled, ()))
        if family and given and not _isCjk(family + given):
            keys += [("".join(family + given),), ("".join(given + family),), (given[0][0], *family)]
        for part in (family, given):
            if len(part) > 1:  # "van der Berg", "O Brien": the whole part; a single word is a solo key below
                keys += _joined(part)
        solo += [(word,) for word in family if _mayStandAlone(word, MIN_FAMILY_NAME)]
        solo += [(word,) for word in given if _mayStandAlone(word, MIN_GIVEN_NAME)]
    return keys, solo


def _dateKeys(value):
    digits = "".join(tokens(value))
    if not re.fullmatch(r"[0-9]{8}", digits):
        return [tuple(tokens(value))]
    year, month, day = digits[:4], digits[4:6], digits[6:]
    if not ("01" <= month <= "12" and "01" <= day <= "31"):
        return [(digits,)]
    keys = [(digits,), (day + month + year,), (month + day + year,)]
    for m, d in {(month, day), (month.lstrip("0"), day.lstrip("0"))}:
        keys += [(year, m, d), (d, m, year), (m, d, year)]
    for names in _MONTHS:
        name = names[int(month) - 1]
        for d in {day, day.lstrip("0")}:
            keys += [(d, name, year), (name, d, year), (d + name + year,), (year, name, d)]
    return keys


def _timeKeys(value):
    parts = tokens(value)
    keys = [tuple(parts)]
    if parts and re.fullmatch(r"[0-9]{6}", parts[0]):
        hhmmss = parts[0]
        keys += [
            (hhmmss,),
            (hhmmss[:2], hhmmss[2:4], hhmmss[4:]),
            (hhmmss[:2].lstrip("0") or "0", hhmmss[2:4], hhmmss[4:]),
        ]
    return keys


def valueKeys(value, category):
    """The token runs under which a value of this category may be written."""
    solo = []
    if category in profile.PERSON_NAME_CATEGORIES:
        keys, solo = _personNameKeys(value)
    elif category == profile.DATES:
        keys = _dateKeys(value)
    elif category == profile.TIMES:
        keys = _timeKeys(value)
    elif category == profile.IDENTIFIERS:
        parts = tuple(tokens(value))
        split = tuple(piece for part in parts for piece in _LETTERS_OR_DIGITS.findall(part))
        keys = [*_joined(parts), split]  # "MRN0042" is also written "MRN-0042"
    else:  # a UID's tokens are its arcs: split without the tokenizer (a large scene holds tens of thousands)
        keys = [tuple(value.split(".") if _DOTTED_NUMBER.fullmatch(value) else tokens(value))]
    return [key for key in keys if key and _longEnough(key)] + solo


# --- the matcher -------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 16)
def _rarity(token):
    """How rare a token is likely to be in a scene, to index a key by it: digits and length help; Slicer's own
    words and name particles are everywhere."""
    common = token in SLICER_WORDS or token in PARTICLES
    return (not common, any(c.isdigit() for c in token), len(token))


class PhiTextMatcher:
    """Replaces every known PHI value found in a text by that value's replacement."""

    def __init__(self, pairs=()):
        """pairs: iterable of (original, replacement, category); an empty replacement gets its category's stand-in."""
        self._replacements = {}  # key (tuple of folded tokens) -> replacement text
        self._anchors = {}  # the key's rarest-looking token -> [(key, index of that token in the key)]
        self._seen = set()
        self.add(pairs)

    def add(self, pairs):
        """Search for more values too (the first replacement given for a spelling wins)."""
        for original, replacement, category in pairs:
            if (original, category) in self._seen:
                continue
            self._seen.add((original, category))
            for key in valueKeys(original, category):
                if key not in self._replacements:
                    self._replacements[key] = replacement or STAND_INS.get(category, DEFAULT_STAND_IN)
                    anchor = 0 if len(key) == 1 else key.index(max(key, key=_rarity))
                    self._anchors.setdefault(key[anchor], []).append((key, anchor))
        self._anchorSet = frozenset(self._anchors)

    def __bool__(self):
        return bool(self._replacements)

    def _matches(self, folded):
        """(first token, end token, key) of every known value in a list of folded tokens."""
        present = self._anchorSet.intersection(folded)
        if not present:
            return []
        found = []
        for index, token in enumerate(folded):
            if token in present:
                for key, anchor in self._anchors[token]:
                    start = index - anchor
                    if start >= 0 and tuple(folded[start : start + len(key)]) == key:
                        found.append((start, start + len(key), key))
        return found

    def contains(self, text):
        return bool(text) and bool(self._anchorSet) and bool(self._matches(tokens(text)))

    def findKeys(self, text):
        """The distinct keys found in text (for messages: callers name places, never values)."""
        return {key for _, _, key in self._matches(tokens(text))} if text else set()

    def replacements(self, text):
        """(start, end, replacement) of every PHI value in text, by character, last first. Of overlapping matches
        the longest wins; a match spans from its first token's first character to its last token's last one."""
        if not text or not self._anchorSet:
            return []
        tokenPattern = _ASCII_TOKEN if text.isascii() else _TOKEN
        spans = [
            (match.start(), match.end())
            for match in tokenPattern.finditer(text)
            if text[match.start() - 1 : match.end() + 1] != _STAR
        ]
        folded = [fold(text[start:end]) for start, end in spans]
        chosen, taken = [], bytearray(len(folded))  # taken: the tokens a chosen match covers
        for start, end, key in sorted(self._matches(folded), key=lambda m: (m[0] - m[1], m[0])):
            if not any(taken[start:end]):
                chosen.append((start, end, key))
                taken[start:end] = b"\x01" * (end - start)
        return [
            (spans[start][0], spans[end - 1][1], self._replacements[key])
            for start, end, key in sorted(chosen, reverse=True)
        ]

    def truncatedTail(self, text):
        """(start, replacement) when text ends inside a known value, its last token cut short (Slicer cuts long
        file names: vtkMRMLStorageNode::ClampFileName): the earliest start of the tokens that begin a key with the
        cut token a proper prefix of the key's next one (at least MIN_TRUNCATED characters when it stands alone).
        None when the text ends at a separator or no key begins so."""
        tokenPattern = _ASCII_TOKEN if text.isascii() else _TOKEN
        spans = [match.span() for match in tokenPattern.finditer(text)]
        if not spans or spans[-1][1] != len(text):
            return None
        folded = [fold(text[start:end]) for start, end in spans]
        last, best = folded[-1], None
        for key, replacement in self._replacements.items():
            for count in range(min(len(key), len(folded))):
                cut = key[count]
                if len(cut) > len(last) and cut.startswith(last) and (count or len(last) >= MIN_TRUNCATED):
                    if tuple(folded[len(folded) - 1 - count : -1]) == key[:count]:
                        start = spans[len(spans) - 1 - count][0]
                        best = min(best or (start, replacement), (start, replacement))
        return best

    def replace(self, text):
        """text with every PHI value replaced; text itself when it holds none."""
        found = self.replacements(text)
        if not found:
            return text
        pieces, position = [], len(text)
        for start, end, replacement in found:  # last first: the text is assembled once, whatever the matches
            pieces += [text[end:position], replacement]
            position = start
        pieces.append(text[:position])
        return "".join(reversed(pieces))
