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
import hashlib
import itertools
import re

from . import profile
from .textTokens import (
    CJK,
    STAR,
    asciiTokens,
    fineCandidates,
    fineFolded,
    fineSpans,
    fold,
    isGlued,
    normalized,
    spans,
    tokens,
    windows,
)

MIN_CHARACTERS = 4
MIN_FAMILY_NAME = 2
MIN_GIVEN_NAME = 3
MAX_REMEMBERED = 256  # the longest text whose matches a matcher remembers, and how many texts it remembers
MAX_REMEMBERED_TEXTS = 1 << 16
# A long text is searched in overlapping pieces of about this many characters (the same matches: see contains), so
# that a piece a quick test cannot clear is cut finely alone, not the whole text with it.
SEARCHED_PIECE = 1 << 18
MAX_CLEAN_PIECES = 1 << 12
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

_IS_CJK = re.compile(rf"[{CJK}]")
_LETTERS_OR_DIGITS = re.compile(r"[0-9]+|[^0-9]+")
_DOTTED_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]{5,}[0-9]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_FREE_TEXT_CATEGORIES = (
    profile.COMMENTS,
    profile.DESCRIPTIONS,
    profile.INSTITUTION,
    profile.CONTACT,
    profile.OTHER_DICOM,
)
_KEYWORDS = frozenset(profile.RULES)  # the DICOM keywords Slicer names attributes with ("DICOM.<keyword>")
_OWN_PREFIXES = frozenset(("anon",))  # folded: pseudonyms.PSEUDONYM_NAME_PATTERN and PSEUDONYM_ID_PATTERN begin so
MIN_JOINED_ID = 6  # an ID at least this long is also found written with separators added ("4071-8253")
_PARTICLES = "van von der den de del della di da du la le las los dos das do ten ter bin ben ibn al el abu st saint mac"
PARTICLES = frozenset(map(fold, _PARTICLES.split()))
# Words Slicer itself writes into every scene (view, layout and hierarchy level names, node kinds, the words of its
# attribute names: fileName, DICOM.FrameOfReferenceUID, singletonTag) and this tool writes (Anonymized study, YES,
# the Basic Profile marker): a family or given name that is one of them identifies no one alone, and matching it
# would rename Slicer's own views or fail every save (Frame^Janet, a DICOM.PatientName "No name" or "ANONYMIZED").
SLICER_WORDS = frozenset(
    map(
        fold,
        """red green yellow orange view views slice scene patient study series folder subject hierarchy selection
    interaction crosshair layout default camera color colour model volume segment segmentation table text markups
    transform sequence browser display storage node label axial sagittal coronal grey gray white black none
    name data time date level frame reference base class scalar version geometry description singleton profile
    file type value parent attribute uid instance content anonymized anonymous anonymize yes basic method identity
    removed""".split(),
    )
)
# Month names as people write them in the major European languages (folded), full and abbreviated.
MONTH_NAMES = """january february march april may june july august september october november december
jan feb mar apr may jun jul aug sep oct nov dec
januar februar marz april mai juni juli august september oktober november dezember
jan feb mrz apr mai jun jul aug sept okt nov dez
janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre
janv fevr mars avr mai juin juil aout sept oct nov dec
enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
ene feb mar abr may jun jul ago set oct nov dic
gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre
gen feb mar apr mag giu lug ago set ott nov dic
januari februari maart april mei juni juli augustus september oktober november december
jan feb mrt apr mei jun jul aug sep okt nov dec
janeiro fevereiro marco abril maio junho julho agosto setembro outubro novembro dezembro
jan fev mar abr mai jun jul ago set out nov dez
januar februar marts april maj juni juli august september oktober november december
januari februari mars april maj juni juli augusti september oktober november december"""
_MONTHS = [sorted({fold(line.split()[month]) for line in MONTH_NAMES.splitlines()}) for month in range(12)]


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
        familyAlone = any(_mayStandAlone(word, MIN_FAMILY_NAME) for word in family)
        for count in range(len(present), 1, -1):
            for order in itertools.permutations(present, count):  # (a middle name first: when the family name
                if order[0] is not middle or count == len(present) or not familyAlone:  # is not searched alone)
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
    year, month, day = _dateParts(digits)
    if year is None:
        return [(digits,)]
    keys = [(digits,), (year + month + day,), (day + month + year,), (month + day + year,)]
    for m, d in {(month, day), (month.lstrip("0"), day.lstrip("0"))}:
        keys += [(year, m, d), (d, m, year), (m, d, year), (year, "年", m, "月", d, "日")]  # (2004年1月19日)
    for name in _MONTHS[int(month) - 1]:
        for d in {day, day.lstrip("0")}:
            keys += [(d, name, year), (name, d, year), (d + name + year,), (year, name, d)]
            keys += [(d, "of", name, year), (name, "the", d, year)]  # "19th of January 2004", "January the 19th"
    return keys


def _dateParts(digits):
    """(year, month, day) of a DA value; also of one stored day-first or month-first against the format (DDMMYYYY,
    MMDDYYYY) when it cannot be read as YYYYMMDD. (None, None, None) when it is no date."""
    for year, month, day in ((digits[:4], digits[4:6], digits[6:]), (digits[4:], digits[2:4], digits[:2])):
        if "1800" <= year <= "2199" and "01" <= month <= "12" and "01" <= day <= "31":
            return year, month, day
    year, month, day = digits[4:], digits[:2], digits[2:4]
    if "1800" <= year <= "2199" and "01" <= month <= "12" and "01" <= day <= "31":
        return year, month, day
    return None, None, None


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


@functools.lru_cache(maxsize=1 << 16)
def valueKeys(value, category):
    """The token runs under which a value of this category may be written: also with every non-ASCII letter dropped,
    as Slicer's Save dialog writes file names ("Mller" for "Müller"), and, of a comment or other free text, each phone
    number and e-mail address in it alone. Remembered: a scene saved under another key has the same values."""
    return tuple(_valueKeys(value, category))


def _valueKeys(value, category):
    keys = _keys(value, category)
    if not value.isascii():
        dropped = "".join(character for character in value if character.isascii())
        if any(character.isalnum() for character in dropped):
            keys += [key for key in _keys(dropped, category) if key not in keys]
    if category in _FREE_TEXT_CATEGORIES:
        for fragment in _PHONE.findall(value) + _EMAIL.findall(value):
            parts = tuple(tokens(fragment))
            if parts != tuple(tokens(value)):
                keys += [key for key in _joined(parts) if _longEnough(key)]
    return keys


def _keys(value, category):
    """The keys of a value, without those holding nothing but the prefix every pseudonym of this tool carries (a
    value "ANON", another tool's output, would be found in every ANON^... this tool writes)."""
    return [key for key in _allKeys(value, category) if not set(key) <= _OWN_PREFIXES]


def _allKeys(value, category):
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
    words, name particles and single characters (indices, coordinates, "2" in every UID) are everywhere."""
    common = token in SLICER_WORDS or token in PARTICLES
    return (len(token) > 1, not common, any(c.isdigit() for c in token), len(token))


class PhiTextMatcher:
    """Replaces every known PHI value found in a text by that value's replacement."""

    def __init__(self, pairs=()):
        """pairs: iterable of (original, replacement, category); an empty replacement gets its category's stand-in."""
        self._replacements = {}  # key (tuple of folded tokens) -> replacement text
        self._categories = {}  # key -> the category of the value it was made for (the first one)
        self._anchors = {}  # the key's rarest-looking token -> [(key, index of that token in the key)]
        self._joinable = set()  # long IDs, also found written across several tokens
        self._joinPrefixes = set()  # every proper prefix of a joinable ID
        self._keysByToken = {}  # token -> the keys holding it
        self._seen = set()
        self._uids = {}  # a UID, its arcs without leading zeros -> its replacement (matched whole, not by tokens)
        self._fewestArcs = 64  # the fewest arcs of a known UID
        self._uidAnchors = set()  # each known UID's longest inner arc: a text without any holds no known UID
        self._ownTexts = set()  # what this tool writes (markers), besides the replacements
        self._own = None  # the tokens, as written, of every replacement and own text (made when first needed)
        self._known = {}  # a short text already searched -> its replacements (a hierarchy repeats its names)
        self._clean = set()  # digests of the pieces of long texts searched and found clean (a file saved again)
        self._reach = 1  # the most tokens a match can span (a key's, or a long ID's written one character a token)
        self.add(pairs)

    def add(self, pairs):
        """Search for more values too (the first replacement given for a spelling wins)."""
        for original, replacement, category in pairs:
            if (original, category) in self._seen:
                continue
            self._seen.add((original, category))
            self._known, self._clean = {}, set()
            if category == profile.UIDS and "." in original and _DOTTED_NUMBER.fullmatch(original):
                self._own = None
                uid = canonicalUid(original)
                self._uids.setdefault(uid, replacement or DEFAULT_STAND_IN)
                self._fewestArcs = min(self._fewestArcs, original.count(".") + 1)
                arcs = uid.split(".")
                self._uidAnchors.add(max(arcs[1:-1] or arcs, key=len))  # inner: never glued to letters
                continue
            for key in valueKeys(original, category):
                if key not in self._replacements:
                    self._own = None
                    self._replacements[key] = replacement or STAND_INS.get(category, DEFAULT_STAND_IN)
                    self._categories[key] = category
                    self._reach = max(self._reach, len(key), len(key[0]) if category == profile.IDENTIFIERS else 1)
                    anchor = 0 if len(key) == 1 else key.index(max(key, key=_rarity))
                    self._anchors.setdefault(key[anchor], []).append((key, anchor))
                    for token in set(key):
                        self._keysByToken.setdefault(token, []).append(key)
                    if category == profile.IDENTIFIERS and len(key) == 1 and len(key[0]) >= MIN_JOINED_ID:
                        self._joinable.add(key[0])  # written in groups of three characters or more
                        self._joinPrefixes.update(key[0][:length] for length in range(3, len(key[0])))
        self._anchorSet = frozenset(self._anchors)

    def __bool__(self):
        return bool(self._replacements or self._uids)

    def addOwnText(self, texts):
        """Texts this tool writes that hold no value (the de-identification markers): their glued tokens are not cut
        finer in search of a value."""
        self._ownTexts.update(texts)
        self._own, self._known, self._clean = None, {}, set()

    def _ownTokens(self):
        """The tokens, as written, of every replacement and own text: a token that is one of them is this tool's
        output whole (ANONJ3A3JNMY3Y), and its pieces ("3") are no value's."""
        if self._own is None:
            replacements = {*self._replacements.values(), *self._uids.values(), *self._ownTexts}
            self._own = set(asciiTokens(" ".join(replacements)))
        return self._own

    def copy(self):
        """A matcher that finds the same values, which values added to it leave this one without."""
        twin = PhiTextMatcher.__new__(PhiTextMatcher)
        twin._replacements, twin._seen, twin._uids = self._replacements.copy(), self._seen.copy(), self._uids.copy()
        twin._categories = self._categories.copy()
        twin._fewestArcs, twin._uidAnchors = self._fewestArcs, self._uidAnchors.copy()
        twin._anchors = {token: list(keys) for token, keys in self._anchors.items()}
        twin._keysByToken = {token: list(keys) for token, keys in self._keysByToken.items()}
        twin._joinable, twin._joinPrefixes = self._joinable.copy(), self._joinPrefixes.copy()
        twin._anchorSet, twin._ownTexts, twin._own = self._anchorSet, self._ownTexts.copy(), self._own
        twin._known, twin._clean = self._known, self._clean  # shared until either adds values (then its own)
        twin._reach = self._reach
        return twin

    def _matches(self, folded, joined=True, distinct=None):
        """(first token, end token, key) of every known value in a list of folded tokens, with joined a long ID
        written across several of them included. distinct: the set of those tokens, when the caller has it."""
        found = []
        distinct = set(folded) if distinct is None else distinct
        present = self._anchorSet.intersection(distinct)
        hits = itertools.compress(range(len(folded)), map(present.__contains__, folded)) if present else ()
        for index in hits:  # (found without a Python loop over every token)
            for key, anchor in self._anchors[folded[index]]:
                start = index - anchor
                if start >= 0 and tuple(folded[start : start + len(key)]) == key:
                    found.append((start, start + len(key), key))
        if joined and self._joinable:
            found += self._joinedMatches(folded, distinct)
        return found

    def _joinedMatches(self, folded, distinct):
        found, prefixes = [], self._joinPrefixes
        if prefixes.isdisjoint(distinct):
            return found
        for start, token in enumerate(folded):
            joined, end = token, start + 1
            while joined in prefixes and end < len(folded):
                joined += folded[end]
                end += 1
                if joined in self._joinable:
                    found.append((start, end, (joined,)))
        return found

    def _found(self, text, fineChecked=False):
        """(start, end, key) of every match in text, by character of the text, in the coarse and the fine cut
        (fineChecked: the caller already found that the fine cut may match), known UIDs included (key (UID_KEY,
        the UID))."""
        normal, origin = normalized(text)
        coarse = spans(normal)
        folded = [fold(normal[a:b]) for a, b in coarse]
        distinct = set(folded)
        found = [
            (coarse[start][0], coarse[end - 1][1], key) for start, end, key in self._matches(folded, True, distinct)
        ]
        if self._uids and self._mayHoldUid(distinct, normal):
            found += self._uidMatches(normal)
        if isGlued(normal) and (fineChecked or self._fineMayMatch(normal, distinct)):
            fine = fineSpans(normal, coarse)
            pieces = [token for *_, token in fine]  # (an ID both glued and with separators is not joined here)
            found += [(fine[start][0], fine[end - 1][1], key) for start, end, key in self._matches(pieces, False)]
        return [(origin[start], origin[end], key) for start, end, key in found] if origin else found

    def _uidMatches(self, normal):
        """(start, end, (UID_KEY, UID)) of every known UID in a normalized text: with leading zeros in its arcs, glued
        to letters ("UID1.2.840..."), or at the start or end of a longer dotted number."""
        if not self._uids or "." not in normal:
            return []
        found, uids, fewest = [], self._uids, self._fewestArcs
        for match in _dottedRuns(fewest).finditer(normal):
            run = match.group(0)
            uid = canonicalUid(run)
            if uid in uids:
                found.append((match.start(), match.end(), (UID_KEY, uid)))
                continue
            if run.count(".") < fewest:
                continue
            arcs = run.split(".")
            starts = [match.start()]
            for arc in arcs[:-1]:
                starts.append(starts[-1] + len(arc) + 1)
            for first, last in _arcRuns(len(arcs), fewest):  # its prefixes and suffixes, longest first
                uid = canonicalUid(".".join(arcs[first:last]))
                if uid in uids:
                    found.append((starts[first], starts[last - 1] + len(arcs[last - 1]), (UID_KEY, uid)))
                    break
        return found

    def _mayHoldUid(self, distinct, text):
        """Whether a text (the set of its folded tokens) may hold a known UID: some UID's anchor arc is one of its
        tokens, also written with leading zeros."""
        if not self._uidAnchors.isdisjoint(distinct):
            return True
        return ".0" in text and not self._uidAnchors.isdisjoint(_ZERO_LED_ARC.findall(text))

    def contains(self, text):
        """Whether text holds a known value. A long text is searched in pieces (textTokens.windows) that overlap by
        more tokens than a match can span: each match lies whole in one."""
        if not text or not (self._anchorSet or self._uids):
            return False
        if len(text) <= MAX_REMEMBERED:
            return bool(self.replacements(text))
        if len(text) > 2 * SEARCHED_PIECE:
            return any(
                self._pieceContains(text[start:end]) for start, end in windows(text, SEARCHED_PIECE, self._reach + 1)
            )
        return self._containsWhole(text)

    def _pieceContains(self, piece):
        """Whether a piece of a long text holds a known value; a piece this matcher's values found clean before (the
        same text, by its BLAKE2 digest) is not searched again."""
        digest = hashlib.blake2b(piece.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        if digest in self._clean:
            return False
        if self._containsWhole(piece):
            return True
        if len(self._clean) >= MAX_CLEAN_PIECES:
            self._clean.clear()
        self._clean.add(digest)
        return False

    def _containsWhole(self, text):
        folded = tokens(text)
        distinct = set(folded)
        if self._uids and self._mayHoldUid(distinct, text) and self._uidMatches(normalized(text)[0]):
            return True
        if not self._anchorSet:
            return False
        if self._matches(folded, True, distinct):
            return True
        if not isGlued(text):
            return False
        if text.isascii() and "&" not in text and STAR not in text:  # already normalized: no loop over its tokens
            return self._fineMayMatch(text, distinct) and bool(self._found(text, fineChecked=True))
        return bool(self._found(text))

    def _fineMayMatch(self, normal, coarse):
        """Whether the fine cut of a normalized text may find what the coarse one (the set of its folded tokens) did
        not: for ASCII text, a test on its distinct tokens, then a pass over joined text; other scripts make the
        cut."""
        if not normal.isascii():
            return True
        return self._mayMatchFine(normal, coarse) and bool(self._matches(fineFolded(normal), False))

    def _mayMatchFine(self, text, coarse):
        """Whether the fine cut of an ASCII text may match where the coarse one (the set of its folded tokens) did
        not: some key holding a piece the fine cut splits off a glued token (even one also written alone elsewhere:
        the "3" of "3rd Jan 2020" beside "3 items") has every one of its tokens in the text (a test on distinct
        tokens; a letter split off alone, an initial glued to a name, is not looked for; the tool's own pseudonyms
        and markers are not cut)."""
        written = set(asciiTokens(text)).difference(self._ownTokens())
        pieces = {piece for piece in fineCandidates(written, text, _KEYWORDS) if len(piece) > 1 or piece.isdigit()}
        present = coarse | pieces
        return any(
            all(token in present for token in key) for piece in pieces for key in self._keysByToken.get(piece, ())
        )

    def findKeys(self, text):
        """The distinct keys found in text (for messages: callers name places, never values)."""
        return {key for _, _, key in self._found(text)} if text else set()

    def findCategories(self, text):
        """The categories of the values found in text (a coded string that is a description's words is a term, a
        name or an ID in it is not)."""
        return {profile.UIDS if key[0] is UID_KEY else self._categories[key] for key in self.findKeys(text)}

    def replacements(self, text):
        """(start, end, replacement) of every PHI value in text, by character, last first. Of overlapping matches
        the longest wins; a match spans from its first token's first character to its last token's last one."""
        if len(text) > MAX_REMEMBERED:
            return self._chosen(text)
        known = self._known.get(text)
        if known is None:
            if len(self._known) >= MAX_REMEMBERED_TEXTS:
                self._known = {}
            known = self._known[text] = tuple(self._chosen(text))
        return list(known)

    def _chosen(self, text):
        if not text or not (self._anchorSet or self._uids):
            return []
        found = self._found(text)
        if not found:
            return []
        chosen, taken = [], bytearray(len(text) + 1)  # taken: the characters a chosen match covers
        for start, end, key in sorted(found, key=lambda match: (match[0] - match[1], match[0])):
            if not any(taken[start:end]):
                replacement = self._uids[key[1]] if key[0] is UID_KEY else self._replacements[key]
                chosen.append((start, end, replacement))
                taken[start:end] = b"\x01" * (end - start)
        return sorted(chosen, reverse=True)

    def truncatedTail(self, text):
        """(start, replacement) when text ends inside a known value, its last token cut short (Slicer cuts long
        file names: vtkMRMLStorageNode::ClampFileName): the earliest start of the tokens that begin a key with the
        cut token a proper prefix of the key's next one (at least MIN_TRUNCATED characters when it stands alone).
        None when the text ends at a separator or no key begins so."""
        cutUid = _CUT_UID.search(text)
        if cutUid and len(cutUid.group(0)) >= MIN_UID_CUT:
            prefix = canonicalUid(cutUid.group(0).rstrip("."))
            for uid, replacement in self._uids.items():
                if len(uid) > len(prefix) and uid.startswith(prefix):
                    return cutUid.start(), replacement
        found = spans(text)
        if not found or found[-1][1] != len(text):
            return None
        folded = [fold(text[start:end]) for start, end in found]
        last, best = folded[-1], None
        for key, replacement in self._replacements.items():
            for count in range(min(len(key), len(folded))):
                cut = key[count]
                if len(cut) > len(last) and cut.startswith(last) and (count or len(last) >= MIN_TRUNCATED):
                    if tuple(folded[len(folded) - 1 - count : -1]) == key[:count]:
                        start = found[len(found) - 1 - count][0]
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


UID_KEY = "\0uid"  # the first item of the key of a UID match (a UID is matched whole, not by tokens)
# Where a run of dotted numbers may begin: after no digit and no digit and dot (also after "RS.", as exporters write)
_RUN_START = r"(?<![0-9])(?<![0-9]\.)"
_CUT_UID = re.compile(_RUN_START + r"[0-9]+(?:\.[0-9]+)+\.?$")
_LEADING_ZERO = re.compile(r"(?:^|\.)0[0-9]")
_ZERO_LED_ARC = re.compile(r"\.0+([1-9][0-9]*)")  # an inner arc written with leading zeros: its number
MIN_UID_CUT = 10  # the characters a UID cut short by a file name's length limit keeps, to be recognised


@functools.lru_cache(maxsize=64)
def _dottedRuns(fewest):
    """Whole runs of dotted numbers of at least fewest arcs (a run with fewer holds no known UID), also after a word
    and a dot, as exporters name files ("RS.<UID>.dcm")."""
    return re.compile(_RUN_START + rf"[0-9]+(?:\.[0-9]+){{{max(fewest - 1, 1)},}}(?![0-9]|\.[0-9])")


def _arcRuns(count, fewest):
    """(first, last) arc ranges of a dotted number to look up after all of it: each prefix and each suffix of at
    least fewest arcs (no known UID has fewer), longest first (a known UID extended by an instance number,
    "<series UID>.7", is found in it)."""
    for length in range(count - 1, fewest - 1, -1):
        yield 0, length
        yield count - length, count


def canonicalUid(written):
    """A UID as its arcs' numbers ("1.2.0840" and "1.2.840" are one UID)."""
    if not _LEADING_ZERO.search(written):
        return written
    return ".".join(arc.lstrip("0") or "0" for arc in written.split("."))


_built = []  # (values, own texts, the matcher built for them: never handed out) of the last few matcherFor calls
_BUILT_KEPT = 3  # a save plans the values the scene file lacks and the file's own: both are kept


def matcherFor(pairs, ownTexts=()):
    """A new PhiTextMatcher for these (original, replacement, category) and own texts (addOwnText); when they are
    those of a recent call (a scene saved again), a copy of the matcher built then: the keys of every spelling of
    every value are not made again, and the texts it searched are remembered."""
    pairs, ownTexts = tuple(pairs), tuple(ownTexts)
    for index, (values, texts, matcher) in enumerate(_built):
        if len(values) == len(pairs) and texts == ownTexts and values == pairs:
            _built.append(_built.pop(index))
            return matcher.copy()
    matcher = PhiTextMatcher(pairs)
    matcher.addOwnText(ownTexts)
    _built.append((pairs, ownTexts, matcher))
    del _built[:-_BUILT_KEPT]
    return matcher.copy()
