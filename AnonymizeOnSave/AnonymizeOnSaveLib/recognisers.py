"""Recognisers for what no attribute of the scene holds: any date, any DICOM UID, e-mail addresses and phone numbers
typed into free text or data (PS3.15 and HIPAA Safe Harbor remove every date but the year, and every UID,
whoever typed it). On when the policy says so (Policy(recognisers=True): the default of shared copies, `scan` and
`clean`).

- dates: ISO dates and date-times (1961-03-04, 1961-03-04T08:30), DICOM DA and DT (19610304, 19610304083000),
  day-first and month-first numeric dates (04.03.1961, 4/3/1961, 03/04/1961), and dates written with a month name
  in the major European languages, with or without an ordinal (4th March 1961, March 4, 1961, 4. März 1961,
  4 de marzo de 1961). A date becomes "[date]", or, under longitudinalDates, the date shifted by the patient's
  offset (ISO, or DA when it was written as DA). Years alone, times, version numbers, sizes and measurements are
  not dates.
- UIDs: a root arc 0-2 and at least four arcs, 10 to 64 characters (PS3.5 9.1; leading zeros tolerated and read
  as the arc's number): replaced by the keyed UID, as every UID the scene holds.
- e-mail addresses become "[email]"; phone numbers (international with + or 00, or national with a leading 0, or
  North American, 8 digits or more) "[phone]".
- labelled values: an identifier written after its label ("MRN 40718253", "Accession #: A1234", "Patient ID=77")
  and every cell of a table column named for one ("MRN", "Accession number", "DOB", "Patient name", any DICOM
  keyword of a patient identifying attribute: profile.keywordForLabel) get that attribute's rule, whatever their
  form, and are then searched everywhere else like the values the scene holds.
"""

import re
import unicodedata

from . import profile
from .phiText import DEFAULT_STAND_IN, MONTH_NAMES, STAND_INS

_DATE_RULE = profile.RULES["StudyDate"]
_UID_RULE = profile.RULES["StudyInstanceUID"]
_MONTH_NUMBER = {name: index + 1 for line in MONTH_NAMES.splitlines() for index, name in enumerate(line.split())}
_MONTH = "|".join(sorted(_MONTH_NUMBER, key=len, reverse=True))
_ORDINAL = r"(?:st|nd|rd|th|er|e|o|\.)?"
_DATES = [
    # ISO date, date-time
    ("ymd", re.compile(r"(?<![\w.])(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?![\w])")),
    # DICOM DA / DT (not an arc of a dotted number)
    ("da", re.compile(r"(?<![\w.])(\d{4})(\d{2})(\d{2})(?:\d{4,6}(?:\.\d{1,6})?)?(?![\w]|\.\d)")),
    # 04.03.1961, 4-3-1961: day first
    ("dmy", re.compile(r"(?<![\w.])(\d{1,2})[.-](\d{1,2})[.-](\d{4})(?![\w]|\.\d)")),
    # 03/04/1961: month first (as North America writes it), day first when the first number cannot be a month
    ("slash", re.compile(r"(?<![\w./])(\d{1,2})/(\d{1,2})/(\d{4})(?![\w/])")),
    # 4th March 1961, 4. März 1961, 4 de marzo de 1961
    ("dMy", re.compile(rf"(?<![\w.])(\d{{1,2}}){_ORDINAL}\s+(?:de\s+)?({_MONTH})\.?,?\s+(?:de\s+)?(\d{{4}})(?!\w)")),
    # March 4th, 1961
    ("Mdy", re.compile(rf"(?<![\w.])({_MONTH})\.?\s+(\d{{1,2}}){_ORDINAL},?\s+(\d{{4}})(?!\w)")),
]
_UID = re.compile(r"(?<![\w.])[0-2](?:\.[0-9]+){3,}(?![\w]|\.[0-9])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_PHONES = (
    re.compile(r"(?<![\w+.,-])(?:\+|00)[1-9][0-9]{0,2}(?:[ .-]?\(0\))?(?:[ .-]?[0-9]{1,5}){2,5}(?![\w.]|,\d)"),
    re.compile(r"(?<![\w.,/+-])\(?0[1-9][0-9]{0,4}\)?[ /-][0-9]{2,8}(?:[ -][0-9]{2,5}){0,3}(?![\w.,/])"),
    re.compile(r"(?<![\w.,/+-])\(?[2-9][0-9]{2}\)?[ .-][0-9]{3}[ .-][0-9]{4}(?![\w.,/])"),
)
MIN_PHONE_DIGITS = 8
# A label and the identifier after it: the label as people write it (its words decide the keyword), then ":", "#",
# "=" (or "#:") or spaces, then a word of 3 or more letters and digits holding a digit, or groups of digits.
_LABELLED_ID = re.compile(
    r"(?<![\w])(MRN|medical\s+record(?:\s+(?:number|no\.?))?|patient\s*(?:id|number|no\.?)|hospital\s+(?:number|no\.?)"
    r"|accession(?:\s*(?:number|no\.?|nr\.?))?|acc\.?\s*(?:no\.?|nr\.?)|NHS\s+(?:number|no\.?)|SSN)"
    r"(\s*[:#=]{1,3}\s*|\s+)(\d{2,}(?: \d{2,})+|(?=[\w/-]*\d)[A-Za-z0-9][\w/-]*[A-Za-z0-9])(?![\w])",
    re.IGNORECASE,
)


def _folded(text):
    """text without accents, character for character (None when that would change its length)."""
    folded = "".join(
        unicodedata.normalize("NFKD", character)[0] if character.isalpha() else character for character in text
    ).lower()
    return folded if len(folded) == len(text) else None


def _date(kind, groups):
    """(year, month, day) as numbers, or None when the groups are no date."""
    if kind in ("ymd", "da"):
        year, month, day = groups
    elif kind == "dmy":
        day, month, year = groups
    elif kind == "slash":
        month, day, year = groups if int(groups[0]) <= 12 else (groups[1], groups[0], groups[2])
    elif kind == "dMy":
        day, month, year = groups[0], _MONTH_NUMBER[groups[1]], groups[2]
    else:
        month, day, year = _MONTH_NUMBER[groups[0]], groups[1], groups[2]
    year, month, day = int(year), int(month), int(day)
    return (year, month, day) if 1850 <= year <= 2150 and 1 <= month <= 12 and 1 <= day <= 31 else None


def _matches(text):
    """(start, end, kind, groups) of every date, e-mail address and phone number, first found first kept."""
    found, folded = [], _folded(text) if not text.isascii() else text.lower()
    for kind, pattern in _DATES:
        searched = folded if kind in ("dMy", "Mdy") else text
        if searched is None:
            continue
        found += [(match.start(), match.end(), kind, match.groups()) for match in pattern.finditer(searched)]
    found += [(match.start(), match.end(), "email", ()) for match in _EMAIL.finditer(text)]
    for pattern in _PHONES:
        found += [
            (match.start(), match.end(), "phone", ())
            for match in pattern.finditer(text)
            if sum(character.isdigit() for character in match.group()) >= MIN_PHONE_DIGITS
        ]
    return found


def recognise(text, policy, context, replaced=None):
    """text with every date, UID, e-mail address and phone number in it replaced (see the module's docstring);
    each (original, replacement, category) is appended to replaced."""
    if not text or not any(character.isdigit() or character == "@" for character in text):
        return text
    text = _LABELLED_ID.sub(lambda match: _labelledId(match, policy, context, replaced), text)
    text = _UID.sub(lambda match: _uid(match.group(0), policy, context, replaced), text)
    chosen, taken = [], bytearray(len(text) + 1)
    for start, end, kind, groups in _matches(text):
        if any(taken[start:end]):
            continue
        if kind in ("email", "phone"):
            chosen.append((start, end, f"[{kind}]"))
        else:
            date = _date(kind, groups)
            if date is None:
                continue
            chosen.append((start, end, _newDate(date, kind, policy, context)))
        taken[start:end] = b"\x01" * (end - start)
    for start, end, new in sorted(chosen, reverse=True):
        if replaced is not None:
            replaced.append((text[start:end], new, profile.CONTACT if new in ("[email]", "[phone]") else profile.DATES))
        text = text[:start] + new + text[end:]
    return text


def _newDate(date, kind, policy, context):
    shifted = policy.applyRule(_DATE_RULE, "{:04d}{:02d}{:02d}".format(*date), context)
    if not shifted:
        return "[date]"
    return shifted if kind == "da" else f"{shifted[:4]}-{shifted[4:6]}-{shifted[6:]}"


def _uid(written, policy, context, replaced):
    if not 10 <= len(written) <= 64:
        return written
    uid = ".".join(str(int(arc)) for arc in written.split("."))
    new = policy.applyRule(_UID_RULE, uid, context)
    if replaced is not None and new != written:
        replaced.append((written, new, profile.UIDS))
    return new


def labelledValue(keyword, value, policy, context, replaced=None):
    """A value written under a label naming a DICOM attribute (a table cell under "MRN"), as that attribute's rule
    makes it (a stand-in where the rule empties it); (original, replacement, category) appended to replaced."""
    rule = profile.RULES[keyword]
    new = policy.applyRule(rule, value.strip(), context)
    if new == value.strip():
        return value
    new = new or STAND_INS.get(rule.category, DEFAULT_STAND_IN)
    if replaced is not None:
        replaced.append((value.strip(), new, rule.category))
    return new


def labelledIds(text, policy, context, replaced):
    """Appends (original, replacement, category) of every identifier written after its label in text."""
    if text and any(character.isdigit() for character in text):
        _LABELLED_ID.sub(lambda match: _labelledId(match, policy, context, replaced), text)


def _labelledId(match, policy, context, replaced):
    label, separator, value = match.groups()
    keyword = profile.keywordForLabel(label)
    if keyword is None or len(value) < 3:
        return match.group(0)
    return f"{label}{separator}{labelledValue(keyword, value, policy, context, replaced)}"
