"""How text is cut into tokens for matching, as people and software write it.

A token is a run of letters and digits in any script (every CJK or Hangul character a token of its own), folded:
case and accents dropped ("JOSÉ", "José", "jose" are one token), letters with no decomposition transliterated
(ø o, æ ae, ł l, ı i, ß ss), and the digraphs people type for umlauts and Nordic letters reduced the same way on
both sides inside a word ("Mueller" and "Müller" are "muller", "Soerensen" and "Sørensen" "sorensen", "Aaberg"
"aberg"; "Doe" stays "doe").
Before cutting, HTML and XML character references are decoded ("M&uuml;ller") and invisible characters (soft
hyphen, zero-width space and joiners, word joiner, byte-order mark) removed, keeping where each character came from.

The fine cut splits what people and software glue together: case changes ("TinyPatientCT", "MullerCT"), letters
and digits ("smith2024", "MRN40718253", "04T08"), a DICOM date-time into its date and time ("20240229134501"),
ordinal suffixes ("4th", "1er"), and leading zeros ("0113619" in a UID arc written with one).
"""

import html
import math
import re
import unicodedata

CJK = "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_TOKEN = re.compile(rf"[{CJK}]|(?:(?![{CJK}])[^\W_]|[\u0300-\u036f])+")
_ASCII_TOKEN = re.compile(r"[A-Za-z0-9]+")  # the same tokens in ASCII text
# ASCII text split into those tokens without a regular expression: every other character becomes a space (three
# times faster on a scene file).
_ASCII_SEPARATORS = str.maketrans({chr(code): " " for code in range(128) if not chr(code).isalnum()})
_DIGRAPHS = re.compile(r"(?:a[ae]+|[ou]e+)(?=[a-z])")  # inside a word: "Doe" and "Rae" keep their e
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_NEEDS_NORMALIZING = re.compile(rf"&[#A-Za-z]|[{_INVISIBLE}]")
# Where the fine cut may split: a case change (an upper-case ASCII letter after any other letter, or the last capital
# of a run before a lower-case letter: "PETCTQuixworth"), a letter of any script against a digit ("José2024",
# "МРТ19450302"), a long digit run, a zero-led UID arc.
_GLUED = re.compile(r"[^\W\d_A-Z][A-Z]|[A-Z][A-Z][a-z]|[^\W\d_][0-9]|[0-9][^\W\d_]|[0-9]{10}|\.0[0-9]")
_ORDINALS = frozenset(("st", "nd", "rd", "th", "er", "re", "e", "eme", "o", "a", "te", "ste"))
STAR = "(star)"  # how DICOMScalarVolumePlugin.cleanNodeName writes a "*" into a node name: a separator
_UNDECOMPOSED = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "đ": "d", "Đ": "d"})
_UNDECOMPOSED.update(str.maketrans({"ł": "l", "Ł": "l", "þ": "th", "Þ": "th", "ı": "i"}))


def _digraphsReduced(lowered):
    """A lower-case ASCII text with the digraphs of its tokens reduced as fold reduces them: the tokens holding a
    digraph followed by a letter are found with str.find (a long text, such as a scene file, has few, and a regular
    expression would visit every character) and only they are rewritten."""
    found = set()
    for digraph in ("aa", "ae", "oe", "ue"):
        position = lowered.find(digraph)
        while position >= 0:
            end = position + 2
            if end < len(lowered) and lowered[end].isalpha():  # "true", "doe": a digraph ending a word stays
                start = position
                while start and lowered[start - 1].isalnum():
                    start -= 1
                while end < len(lowered) and lowered[end].isalnum():
                    end += 1
                found.add((start, end))
            position = lowered.find(digraph, end)
    if not found:
        return lowered
    pieces, position = [], 0
    for start, end in sorted(found):
        pieces += [lowered[position:start], _reduced(lowered[start:end])]
        position = end
    pieces.append(lowered[position:])
    return "".join(pieces)


def _reduced(folded):
    return _DIGRAPHS.sub(lambda match: match.group(0)[0], folded)


def fold(token):
    """A token without case or accents, transliterated ("Müller", "MUELLER" -> "muller"; "ß" -> "ss")."""
    if token.isascii():
        return _reduced(token.lower())
    decomposed = unicodedata.normalize("NFKD", token.translate(_UNDECOMPOSED))
    return _reduced("".join(c for c in decomposed if not unicodedata.combining(c) and c not in _INVISIBLE).casefold())


def tokens(text):
    """The folded tokens of a text (the coarse cut)."""
    if STAR in text:
        text = text.replace(STAR, " ")
    if text.isascii() and "&" not in text:
        return _digraphsReduced(text.lower()).translate(_ASCII_SEPARATORS).split()
    text, _ = normalized(text)
    return [fold(token) for token in _TOKEN.findall(text)]


def normalized(text):
    """(text with character references decoded and invisible characters removed, origin): origin[i] is where
    character i of the new text starts in text, with one more entry for its end; None when nothing changed."""
    if not _NEEDS_NORMALIZING.search(text):
        return text, None
    pieces, origin, position = [], [], 0
    for match in re.finditer(rf"{_REFERENCE.pattern}|[{_INVISIBLE}]", text):
        pieces.append(text[position : match.start()])
        origin.extend(range(position, match.start()))
        if match.group(0)[0] == "&":
            decoded = html.unescape(match.group(0))
            pieces.append(decoded)
            origin.extend([match.start()] * len(decoded))
        position = match.end()
    pieces.append(text[position:])
    origin.extend(range(position, len(text) + 1))
    return "".join(pieces), origin


def spans(text):
    """(start, end) of every coarse token of an already normalized text."""
    pattern = _ASCII_TOKEN if text.isascii() else _TOKEN
    return [match.span() for match in pattern.finditer(text) if text[match.start() - 1 : match.end() + 1] != STAR]


def isGlued(text):
    """Whether the fine cut may find more than the coarse one."""
    return _GLUED.search(text) is not None


_ROUGH_FINE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


_GLUED_TOKEN = re.compile(r"[a-z][A-Z]|[A-Z][A-Z][a-z]|[A-Za-z][0-9]|[0-9][A-Za-z]|[0-9]{10}|^0[0-9]")


def asciiTokens(text):
    """The coarse tokens of a text as written (case kept), its ASCII letters and digits only."""
    return text.translate(_ASCII_SEPARATORS).split() if text.isascii() else _ASCII_TOKEN.findall(text)


# Each pattern starts with a literal, which the regular expression engine finds fast in a long text.
_VOCABULARY = (re.compile(r"DICOM(?:Hierarchy)?\.(\w+)"), re.compile(r"PatientHierarchy\.(\w+)"))
_NODE_ID = re.compile(r"vtkMRML[A-Za-z]*Node(?:[0-9]*|[A-Za-z]*)")  # a class name, then a number or a name


def fineCandidates(written, text="", keywords=frozenset()):
    """Every folded fine token the distinct glued tokens of an ASCII text (written: its asciiTokens) split into,
    made in a few passes over joined text. Slicer's node IDs (vtkMRMLScalarVolumeNode12, vtkMRMLColorTableNodeGrey)
    and the DICOM keywords naming item attributes in text (DICOM.SeriesDescription: one of keywords) are its own
    words, never a value glued to another; any other word after "DICOM." or "vtkMRML" is cut ("DICOM.MRN40718253")."""
    vocabulary = {word for pattern in _VOCABULARY for word in pattern.findall(text)}.intersection(keywords)
    glued = [
        token
        for token in set(written).difference(vocabulary)
        if (_splitsDigits(token) if token.isdigit() else _GLUED_TOKEN.search(token) and not _NODE_ID.fullmatch(token))
    ]
    pieces = set(_reduced(" ".join(_ROUGH_FINE.findall(" ".join(glued))).lower()).split())
    candidates = {piece.lstrip("0") or "0" if piece[0] == "0" else piece for piece in pieces}
    for token in glued:
        if token.isdigit() and len(token) >= 12:  # a date-time's date
            candidates.update(folded for *_, folded in _digits(0, len(token), token))
    return candidates


def _splitsDigits(digits):
    """Whether the fine cut changes a run of digits: a leading zero, or a date-time (not a UID's 39-digit arc: a new
    UID has one, and a hierarchy thousands)."""
    return (digits[0] == "0" and len(digits) > 1) or (12 <= len(digits) <= 21 and _isDate(digits[:8]))


_FAST_DATE_TIME = re.compile(r"\b((?:1[89]|2[01])[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]))([0-9]{4,13})\b")
_FAST_ORDINAL = re.compile(rf"\b([0-9]+) (?:{'|'.join(sorted(_ORDINALS, key=len, reverse=True))})\b")
_FAST_ZEROS = re.compile(r"\b0+(?=[0-9])")


def fineFolded(text):
    """The folded fine tokens of an ASCII text, made in passes over the whole text (no loop over its tokens): at
    least every token fineSpans makes, to decide whether the fine cut matches before making it exactly."""
    joined = " ".join(_ROUGH_FINE.findall(text))
    joined = _FAST_DATE_TIME.sub(r"\1 \2", joined)
    joined = _FAST_ORDINAL.sub(r"\1", _FAST_ZEROS.sub("", joined.lower()))
    return _reduced(joined).split()


def fineSpans(text, coarse):
    """(start, end, folded) of every fine token of the coarse tokens (spans) of a normalized text."""
    fine = []
    for start, end in coarse:
        pieces = _pieces(text, start, end) if _GLUED.search(text, start, end) else [(start, end)]
        for index, (pieceStart, pieceEnd) in enumerate(pieces):
            piece = text[pieceStart:pieceEnd]
            if not piece.isdigit():
                fine.append((pieceStart, pieceEnd, fold(piece)))
                continue
            following = text[pieces[index + 1][0] : pieces[index + 1][1]] if index + 1 < len(pieces) else ""
            if following.lower() in _ORDINALS:  # "4th", "1er": the number stays, its suffix goes
                pieces[index + 1] = (pieceEnd, pieceEnd)
            fine += _digits(pieceStart, pieceEnd, piece)
    return [token for token in fine if token[2]]


def _pieces(text, start, end):
    """Where a token splits: between letters and digits, before an upper-case letter after a lower-case one, and
    before the last of a run of capitals followed by a lower-case letter ("CTScan": CT, Scan)."""
    cuts = [start]
    for position in range(start + 1, end):
        before, here = text[position - 1], text[position]
        after = text[position + 1] if position + 1 < end else ""
        if (
            before.isdigit() != here.isdigit()
            or (before.islower() and here.isupper())
            or (before.isupper() and here.isupper() and after.islower())
        ):
            cuts.append(position)
    cuts.append(end)
    return [(cuts[index], cuts[index + 1]) for index in range(len(cuts) - 1)]


def _digits(start, end, digits):
    """A digit run as fine tokens: a date-time cut into its date and time; leading zeros dropped."""
    if 12 <= len(digits) <= 21 and _isDate(digits[:8]):
        return [(start, start + 8, digits[:8]), (start + 8, end, digits[8:].lstrip("0") or "0")]
    return [(start, end, digits.lstrip("0") or "0")]


def _isDate(digits):
    return "1800" <= digits[:4] <= "2199" and "01" <= digits[4:6] <= "12" and "01" <= digits[6:8] <= "31"


_SPACE = re.compile(r"\s")


def windows(text, size, count):
    """(start, end) of overlapping pieces of a text, each cut at a newline the text after it chooses (an edit moves
    only the cuts near it: the other pieces are the same text as before) about size characters apart, or at white
    space after 4 x size. Each begins at the word holding the count-th token before the end of the one before, so
    whatever spans at most count tokens (however many words of punctuation lie between them) lies whole in one
    piece. Tokens are counted as written (before references are decoded or invisible characters dropped, which only
    join tokens): never fewer."""
    start = 0
    lines = text.count("\n") or 1
    odds = 1 << max(0, round(math.log2(max(1.0, size * lines / max(1, len(text))))))  # about size apart
    while True:
        cut = _nextCut(text, start, size, odds)
        while cut is not None:
            following = _tokensBack(text, start, cut, count)
            if following > start:
                break
            cut = _nextCut(text, cut, size, odds)  # too few tokens to overlap: a longer piece
        if cut is None:
            yield start, len(text)
            return
        yield start, cut
        start = following


def _nextCut(text, start, size, odds):
    """Where a piece from start may end: a newline at least size / 8 on whose next 32 characters hash to a multiple
    of odds (in this process), else the first white space 4 x size on; None when the text ends first."""
    position, limit = start + 1 + size // 8, start + 1 + 4 * size
    while True:
        newline = text.find("\n", position, limit)
        if newline < 0:
            space = _SPACE.search(text, min(len(text), max(position, limit)))
            return space.start() if space else None
        if hash(text[newline + 1 : newline + 33]) % odds == 0:
            return newline
        position = newline + 1


def _tokensBack(text, start, end, count):
    """Where the word holding the count-th token before end begins, searching no further back than start."""
    reach = 64 * count
    while True:
        first = max(start, end - reach)
        found = [match.start() for match in _TOKEN.finditer(text, first, end)]
        if len(found) > count or first == start:  # (the first one found may be cut short by first)
            break
        reach *= 2
    if len(found) < count:
        return start
    position, reach = found[-count], 256
    while True:  # back to the white space before its word
        first = max(start, position - reach)
        spaces = [match.end() for match in _SPACE.finditer(text, first, position)]
        if spaces or first == start:
            return spaces[-1] if spaces else start
        reach *= 2
