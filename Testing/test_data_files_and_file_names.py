"""The readers of data files and of Slicer's file-name escapes: values read as Slicer wrote them, only the matched
part replaced, every other byte kept."""

import json

import pytest
from hospitalScenes import slicerPercentEncode
from hypothesis import given
from hypothesis import strategies as st

from AnonymizeOnSaveLib.dataFiles import DataFileError, readDataFile
from AnonymizeOnSaveLib.fileNames import decodeFileName, replaceInFileName
from AnonymizeOnSaveLib.phiText import PhiTextMatcher
from AnonymizeOnSaveLib.profile import IDENTIFIERS, NAMES

MATCHER = PhiTextMatcher([("Müller^José", "ANON^X1", NAMES), ("MRN-0042", "ANON42", IDENTIFIERS)])


def _clean(name, data):
    surface = readDataFile(name, data)
    for site in surface.sites():
        new = MATCHER.replace(site.value)
        if new != site.value:
            site.handle.write(new)
    return surface.render() if surface.changed else data


# Slicer writes characters below U+0010 with one digit ("%f") and keeps "%" itself, so "%f" and a typed "%3a" read
# as escapes: names never hold those; any other text comes back.
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="%", min_codepoint=0x10), min_size=1))
def test_slicers_escapes_decode_to_the_name_they_encode(text):
    assert decodeFileName(slicerPercentEncode(text)) == text
    assert replaceInFileName(PhiTextMatcher(), slicerPercentEncode(text)) == slicerPercentEncode(text)


def test_a_name_is_cleaned_in_its_escapes_and_a_cut_character_is_kept():
    name = slicerPercentEncode("José Müller: liver") + "%ffc3"  # Slicer cut the name inside a character
    assert replaceInFileName(MATCHER, name) == "ANON^X1%3a liver%ffc3"
    assert decodeFileName("100%25 %ffc3x") == "100% \ufffdx"  # half a character: a separator, never a letter


@pytest.mark.parametrize(
    "name, cleaned",
    [
        ("95%Becker.nrrd", "95%ANON1.nrrd"),  # "%Be" is no escape: the name after "%" is the name
        ("ID%8901234.nrrd", "ID%ANONID.nrrd"),
        ("Dose%2095%Becker.nrrd", "Dose%2095%ANON1.nrrd"),
        ("M%C3%BCllersch%C3%B6n.mrml", "ANON3.mrml"),  # a whole character escaped as URLs do
        ("M%ffc3%ffbcllersch%ffc3%ffb6n.mrml", "ANON3.mrml"),  # as Slicer does
        ("100%ABC.mrml", "100%ABC.mrml"),
    ],
)
def test_only_whole_escaped_characters_are_decoded_and_a_value_after_a_percent_sign_is_found(name, cleaned):
    """Found by a hunt: reading any "%" and two hex digits as a byte swallowed the start of "95%Becker" or
    "ID%8901234", and the value was written."""
    matcher = PhiTextMatcher(
        [("Becker^Anna", "ANON1", NAMES), ("8901234", "ANONID", IDENTIFIERS), ("Müllerschön^Jürgen", "ANON3", NAMES)]
    )
    assert replaceInFileName(matcher, name) == cleaned


def test_table_fields_keep_their_quotes_and_columns():
    data = 'Patient,"Note, free",Volume\n"Müller, José","said ""MRN-0042""",12.5\r\nother,,3\n'.encode()
    assert _clean("t.csv", data) == b'Patient,"Note, free",Volume\n"ANON^X1","said ""ANON42""",12.5\r\nother,,3\n'
    tsv = "Patient\tVolume\nJosé Müller\t12.5\n".encode()
    assert _clean("t.tsv", tsv) == b"Patient\tVolume\nANON^X1\t12.5\n"
    assert _clean("t.tsv", b"Kidney\t3\n") == b"Kidney\t3\n"


def test_a_replacement_that_would_add_a_column_is_refused():
    surface = readDataFile("c.ctbl", b"1 Mueller 255 0 0 255\n")
    (site,) = [site for site in surface.sites() if site.value == "Mueller"]
    site.handle.write("two words")
    with pytest.raises(DataFileError):
        surface.render()


def test_markups_json_strings_are_replaced_and_the_rest_kept():
    document = {"markups": [{"labelFormat": "%N-%d", "controlPoints": [{"label": "Müller-1", "description": "x\\"}]}]}
    data = json.dumps(document, indent=4, ensure_ascii=False).encode()
    cleaned = _clean("p.mrk.json", data)
    assert json.loads(cleaned)["markups"][0]["controlPoints"][0] == {"label": "ANON^X1-1", "description": "x\\"}
    assert cleaned.replace(b"ANON^X1", "Müller".encode()) == data
    with pytest.raises(DataFileError):
        readDataFile("p.mrk.json", b'{"label": ')


def test_text_files_are_utf8():
    assert _clean("n.txt", "Called José Müller".encode()) == b"Called ANON^X1"
    with pytest.raises(DataFileError):
        readDataFile("n.txt", "Müller".encode("latin-1"))
