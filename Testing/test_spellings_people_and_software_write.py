"""The spellings of a loaded patient's values that people and software write, each found and replaced with only the
value's characters changed: Slicer's Save dialog file names with non-ASCII letters dropped, transliterations,
values glued to other words or digits, invisible characters and HTML entities inside words, dates as ISO and DICOM
date-times, with ordinals and in other languages, birth dates stored day-first, IDs with separators added or glued
to a prefix, UIDs written with a leading zero, a phone number or e-mail address from a comment typed alone."""

import pytest

from AnonymizeOnSaveLib import profile
from AnonymizeOnSaveLib.phiText import PhiTextMatcher

NAME = "ANON^PSEUDO"
PATIENT = [
    ("Müller^Jörg", NAME, profile.NAMES),
    ("Sørensen^Åse", "ANON^SECOND", profile.NAMES),
    ("Doe^John", "ANON^THIRD", profile.NAMES),
    ("19610304", "[date]", profile.DATES),
    ("40718253", "ANONID", profile.IDENTIFIERS),
    ("1.2.840.113619.2.55.3.604688", "2.25.1", "uids"),
    ("Call +49 30 1234567 or jm@example.org before transfer", "", profile.COMMENTS),
]
MATCHER = PhiTextMatcher(PATIENT)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # Slicer's Save dialog drops every non-ASCII letter from the file names it proposes.
        ("Mller Jrg CT.nrrd", "ANON^PSEUDO CT.nrrd"),
        ("Srensen se.nrrd", "ANON^SECOND.nrrd"),
        # Transliterations.
        ("MUELLER JOERG", NAME),
        ("Soerensen, Aase", "ANON^SECOND"),
        ("Report for Jörg Mueller", "Report for ANON^PSEUDO"),
        # Glued to other words or digits.
        ("MullerCT", "ANON^PSEUDOCT"),
        ("TinyMuellerCT", "TinyANON^PSEUDOCT"),
        ("muller2024", "ANON^PSEUDO2024"),
        ("DoeJohn_seg", "ANON^THIRD_seg"),
        # Invisible characters and entities inside words.
        ("Mül\u00adler", NAME),
        ("Mül\u200bler", NAME),
        ("M&uuml;ller", NAME),
        ("M&#252;ller J&ouml;rg", NAME),
        # Dates.
        ("1961-03-04T08:30", "[date]T08:30"),
        ("scan 19610304083000", "scan [date]083000"),
        ("4th March 1961", "[date]"),
        ("March 4th, 1961", "[date]"),
        ("4. März 1961", "[date]"),
        ("4 mars 1961", "[date]"),
        ("4 de marzo de 1961", "4 de marzo de 1961"),  # a phrase, not a date format
        ("04.03.1961", "[date]"),
        # IDs.
        ("MRN 4071-8253", "MRN ANONID"),
        ("MRN40718253", "MRNANONID"),
        ("4071 8253", "ANONID"),
        # UIDs with a leading-zero arc.
        ("uid 1.2.840.0113619.2.55.3.604688", "uid 2.25.1"),
        # A part of a comment typed alone.
        ("phone +49 30 1234567", "phone +[comment]"),
        ("mail jm@example.org", "mail [comment]"),
    ],
)
def test_a_spelling_is_found_and_only_the_value_replaced(typed, expected):
    assert MATCHER.replace(typed) == expected
    assert MATCHER.contains(typed) == (typed != expected)


def test_a_birth_date_stored_day_first_against_the_dicom_format_is_still_found():
    matcher = PhiTextMatcher([("04031961", "[date]", profile.DATES)])
    assert matcher.replace("born 1961-03-04") == "born [date]"
    assert matcher.replace("born 4 March 1961") == "born [date]"


@pytest.mark.parametrize(
    "text",
    ["Doe", "Liver segment 2024", "Mullins and Jorgensen", "Version 1.2.840", "Volume 12.5 ml", "John Smith"],
)
def test_words_that_only_look_alike_are_left_alone(text):
    matcher = PhiTextMatcher([("Muller^Jorg", NAME, profile.NAMES), ("19610304", "", profile.DATES)])
    assert matcher.replace(text) == text
