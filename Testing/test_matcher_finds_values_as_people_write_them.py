"""The free-text matcher on the names, dates and IDs hospitals really have, in the spellings people type."""

import pytest

from AnonymizeOnSaveLib import Policy, phiText, profile
from AnonymizeOnSaveLib.fileNames import replaceInFileName
from AnonymizeOnSaveLib.phiText import PhiTextMatcher
from AnonymizeOnSaveLib.planner import ATTRIBUTE, TEXT, Site, planChanges

NAME = "ANON^PSEUDO"


def _replaced(value, category, text, replacement=NAME):
    return PhiTextMatcher([(value, replacement, category)]).replace(text)


def _assertCutAwayAndFound(value, category, typed, longText=None, replacement=NAME):
    """typed is rewritten, and found in a long text (the output check's way: longText, else typed among filler)."""
    assert _replaced(value, category, typed, replacement) != typed
    assert PhiTextMatcher([(value, replacement, category)]).contains(longText or typed + " x" * 200)


@pytest.mark.parametrize(
    ("value", "typed"),
    [
        ("MÜLLER^JOSÉ", "Jose Muller"),
        ("MÜLLER^JOSÉ", "josé müller"),
        ("MÜLLER^JOSÉ", "MULLER, JOSE"),
        ("Müller^José", "JOSÉ_MÜLLER"),
        ("O'BRIEN^SEAN", "Sean OBrien"),
        ("O'BRIEN^SEAN", "obrien_sean"),
        ("O'BRIEN^SEAN", "Sean O'Brien"),
        ("Müller-Lüdenscheidt^Anna", "Anna Müller-Lüdenscheidt"),
        ("Müller-Lüdenscheidt^Anna", "anna mullerludenscheidt"),
        ("van der Berg^Pieter", "Pieter van der Berg"),
        ("van der Berg^Pieter", "VANDERBERG PIETER"),
        ("Smith^John^Robert", "John Smith"),
        ("Smith^John^Robert", "Smith, John Robert"),
        ("Smith^John^Robert", "Robert John Smith"),
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", "Tarou Yamada"),
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", "山田太郎"),
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", "たろう やまだ"),
        ("Hong^Gildong=홍^길동", "홍길동"),
        ("Иванов^Иван^Иванович", "иван иванов"),
        ("Иванов^Иван^Иванович", "ИВАНОВ ИВАН ИВАНОВИЧ"),
        ("الحسن^علي", "علي الحسن"),
        ("Łukasiewicz^Øystein", "oystein lukasiewicz"),
    ],
)
def test_a_whole_person_name_is_found_in_any_order_case_accent_and_separator(value, typed):
    assert _replaced(value, profile.NAMES, f"{typed} liver") == f"{NAME} liver"


@pytest.mark.parametrize(
    ("value", "text", "expected"),
    [
        ("Doe^John", "Doe followup", f"{NAME} followup"),
        ("Doe^John", "John's tumor", f"{NAME}'s tumor"),
        ("Li^Na", "Li tumor", f"{NAME} tumor"),
        ("Müller-Lüdenscheidt^Anna", "Lüdenscheidt 2nd", f"{NAME} 2nd"),
        ("van der Berg^Pieter", "Berg seg", f"{NAME} seg"),
        ("Yamada^Tarou=山田^太郎", "山田 follow-up", f"{NAME} follow-up"),
        ("Hong^Gildong=홍^길동", "길동 CT", f"{NAME} CT"),
    ],
)
def test_a_family_or_given_name_alone_is_found(value, text, expected):
    assert _replaced(value, profile.NAMES, text) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("Li^Na", "Liver"),  # whole tokens only
        ("Li^Na", "Lina's cat"),  # "Li" + "Na" is not the token "Lina"... but the joined key is: see below
        ("van der Berg^Pieter", "van transport"),  # particles never match alone
        ("van der Berg^Pieter", "der Segment"),
        ("Wang^Li", "Li 3"),  # a given name of 2 letters is too short on its own
        ("Doe^John", "Doeskin"),
    ],
)
def test_short_parts_particles_and_parts_of_words_are_not_matched(value, text):
    matcher = PhiTextMatcher([(value, NAME, profile.NAMES)])
    if text == "Lina's cat":
        assert matcher.replace(text) == f"{NAME}'s cat"  # "LiNa" typed as one word is the whole name
    else:
        assert matcher.replace(text) == text


@pytest.mark.parametrize(
    "typed",
    [
        "2004-01-19",
        "20040119",
        "19.01.2004",
        "19.1.2004",
        "1/19/2004",
        "01/19/2004",
        "19 Jan 2004",
        "January 19, 2004",
        "19-JAN-2004",
        "19jan2004",
        "2004/1/19",
    ],
)
def test_a_date_is_found_in_the_forms_people_write(typed):
    assert _replaced("20040119", profile.DATES, f"scan {typed} arterial", "") == "scan [date] arterial"


def test_a_year_or_a_number_alone_is_not_a_date():
    matcher = PhiTextMatcher([("20040119", "", profile.DATES)])
    assert matcher.replace("2004 cohort, slice 19, series 1") == "2004 cohort, slice 19, series 1"


@pytest.mark.parametrize("typed", ["MRN0042", "mrn-0042", "MRN 0042", "Mrn_0042"])
def test_an_id_is_found_whatever_its_separators(typed):
    assert _replaced("MRN-0042", profile.IDENTIFIERS, f"{typed} arterial", "ANONX") == "ANONX arterial"


def test_a_removed_description_or_time_in_a_name_gets_a_readable_stand_in():
    matcher = PhiTextMatcher([("CT ABD Dr Smith", None, profile.DESCRIPTIONS), ("084512.5", "", profile.TIMES)])
    assert matcher.replace("3: CT ABD Dr Smith - contentTime 084512.5") == "3: [description] - contentTime [time]"
    assert matcher.replace("3: ct abd dr. smith") == "3: [description]"
    assert matcher.replace("08:45:12 scout") == "[time] scout"


def _site(kind, name, value):
    return Site(kind, name, value, f"test {name}")


def test_dicom_keywords_without_the_prefix_and_uids_in_any_text_are_replaced_consistently():
    policy = Policy(key="k")
    study = "1.2.840.113619.2.55.3.604688119.969.1268071029.320"
    unloaded = "1.3.12.2.1107.5.1.4.1001.30000018051811014153400000003"
    sites = [
        _site(ATTRIBUTE, "StudyInstanceUID", study),  # SlicerRT: no DICOM. prefix
        _site(ATTRIBUTE, "StudyID", "ST-20040119-7"),
        _site(ATTRIBUTE, "DICOMRtImport.ReferencedSeries", f"{unloaded} {study}"),
        _site(TEXT, profile.FREE_TEXT, f"RTSTRUCT for {unloaded}"),
        _site(ATTRIBUTE, "Version", "5.10.0"),  # not a UID
    ]
    changes = {change.site.name: change.value for change in planChanges(sites, policy)}
    newStudy = changes["StudyInstanceUID"]
    assert newStudy.startswith("2.25.") and changes["StudyID"] == ""
    newUnloaded = policy.pseudonyms.uid(unloaded)
    assert changes["DICOMRtImport.ReferencedSeries"] == f"{newUnloaded} {newStudy}"
    assert changes[profile.FREE_TEXT] == f"RTSTRUCT for {newUnloaded}"
    assert "Version" not in changes


def test_uids_in_text_are_kept_when_uids_are_retained():
    uid = "1.3.12.2.1107.5.1.4.1001.30000018051811014153400000003"
    changes = planChanges([_site(TEXT, profile.FREE_TEXT, f"from {uid}")], Policy(key="k", retain=["uids"]))
    assert changes == []


def test_one_character_of_a_cjk_name_is_never_matched_alone():
    matcher = PhiTextMatcher(
        [("Yamada^Tarou=山田^太郎", NAME, profile.NAMES), ("Hong^Gildong=홍^길동", NAME, profile.NAMES)]
    )
    assert matcher.replace("田中 홍수 山") == "田中 홍수 山"


def test_a_description_is_found_in_a_node_name_as_slicer_cleans_it():
    matcher = PhiTextMatcher([("CT ABD W/CONTRAST *Dr Okonkwo*", None, profile.DESCRIPTIONS)])
    assert matcher.replace("1: CT ABD W-CONTRAST (star)Dr Okonkwo(star)") == "1: [description](star)"


def test_a_value_written_thousands_of_times_in_one_text_is_replaced_everywhere_in_one_pass():
    # 32,000 matches: choosing them and assembling the text once each (it was quadratic: 17 s, 13 min at 8 MB).
    matcher = PhiTextMatcher([("MRN-004217", "ANON123", profile.IDENTIFIERS)])
    text = "seen MRN-004217, then mrn 004217; " * 16000
    replaced = matcher.replace(text)
    assert replaced == "seen ANON123, then ANON123; " * 16000


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # vtkMRMLStorageNode::ClampFileName: 45 characters, "_", a 4-character hash, the extension.
        (
            "Data/Kidney surface model of the patient Mülle_AB12.vtk",
            "Data/Kidney surface model of the patient ANON^PSEUDO_AB12.vtk",
        ),
        ("Data/M%ffc3%ffbcller-L%ffc3%ffbcdenscheidt Jos%ffc_I119.vtk", "Data/ANON^PSEUDO_I119.vtk"),
        ("Data/M%ffc3%ffbcller-L%ffc3%ffbcdenscheidt Jos%ff_I119.vtk", "Data/ANON^PSEUDO_I119.vtk"),
        (
            "Data/Kidney surface model of the L%ffc3%ffbcdensch_R2D2.vtk",
            "Data/Kidney surface model of the ANON^PSEUDO_R2D2.vtk",
        ),
        # Not cut: a name under the limit, or one ending at a separator, or a word a value does not begin with.
        ("Data/Brain_ABCD.nrrd", "Data/Brain_ABCD.nrrd"),
        (
            "Data/Kidney surface model of the patient and m_AB12.vtk",
            "Data/Kidney surface model of the patient and m_AB12.vtk",
        ),
        (
            "Data/Kidney surface model of the patient Mu _AB12.vtk",
            "Data/Kidney surface model of the patient Mu _AB12.vtk",
        ),
    ],
)
def test_a_value_cut_short_by_a_long_file_name_is_replaced_whole(name, expected):
    matcher = PhiTextMatcher([("Müller-Lüdenscheidt^José^María", NAME, profile.NAMES)])
    assert replaceInFileName(matcher, name) == expected


def test_a_matcher_made_again_for_the_same_values_remembers_what_was_searched_and_nothing_added(monkeypatch):
    """matcherFor gives a copy of the matcher built for the same values and own texts: the short texts one copy
    searched are not searched again by the next, and a value one copy was given is never found by another."""
    values = [("Quintero^Maria", "ANON^Q", profile.NAMES)]
    first = phiText.matcherFor(values, ["YES"])
    assert first.replace("Maria Quintero, series 2") == "ANON^Q, series 2"
    first.add([("series", "", profile.DESCRIPTIONS)])
    assert first.replace("series 2 of Quintero") != "series 2 of Quintero"
    searched = []
    realChosen = phiText.PhiTextMatcher._chosen
    monkeypatch.setattr(
        phiText.PhiTextMatcher, "_chosen", lambda self, text: searched.append(text) or realChosen(self, text)
    )
    again = phiText.matcherFor(values, ["YES"])
    assert again.replace("Maria Quintero, series 2") == "ANON^Q, series 2"
    assert searched == []  # remembered
    assert again.replace("series 2 of Quintero") == "series 2 of ANON^Q"  # "series" was another copy's value
    assert phiText.matcherFor(values, ["NO"]).replace("Maria Quintero, series 2") == "ANON^Q, series 2"
    assert searched == ["series 2 of Quintero", "Maria Quintero, series 2"]  # other own texts: another matcher


@pytest.mark.parametrize(
    ("value", "category", "typed"),
    [
        ("Fakeperson^José", profile.NAMES, "José2024 follow-up"),
        ("Quintero^María", profile.NAMES, "María1 Quintero2"),
        ("Фейков^Иван", profile.NAMES, "Фейков2024 контроль"),
        ("الحسن^علي", profile.NAMES, "الحسن2 note"),
        ("19450302", profile.DATES, "МРТ19450302"),
        ("20040119", profile.DATES, "20040119é scan"),
        ("20040119", profile.DATES, "2004-01-19é"),
    ],
)
def test_digits_glued_to_a_letter_of_any_script_are_cut_apart(value, category, typed):
    """Found by a hunt: "Jose2024" was cut into "Jose" and "2024" and its name found, "José2024" was not (the test
    for glued tokens knew ASCII letters only), so both designs wrote it."""
    _assertCutAwayAndFound(value, category, typed, typed * 100)


@pytest.mark.parametrize(
    ("value", "category", "typed"),
    [
        ("MRN40718253", profile.IDENTIFIERS, "copied from DICOM.MRN40718253"),
        ("MRN40718253", profile.IDENTIFIERS, "DICOM.PatientID MRN40718253 DICOM.MRN40718253"),
        ("19450302", profile.DATES, "DICOMHierarchy.Born19450302 and Born19450302"),
        ("19450302", profile.DATES, "vtkMRMLDoe19450302"),
        ("19450302", profile.DATES, "node vtkMRMLColorTableNodeDoe19450302"),
        ("Smith^John", profile.NAMES, "see DICOM.MrSmith"),
    ],
)
def test_a_value_glued_after_slicers_own_words_is_found(value, category, typed):
    """Found by a hunt: every word after "DICOM." and every token starting "vtkMRML" was taken as Slicer's own and
    never cut, in the whole text, so "DICOM.MRN40718253" hid the ID there and everywhere else in the file. Only DICOM
    keywords and node IDs are Slicer's words now."""
    _assertCutAwayAndFound(value, category, typed)


def test_slicers_own_words_are_not_cut_into_values():
    """A keyword or a node ID is not searched as pieces: "DICOM.SeriesDescription" holds no description
    "Description", "vtkMRMLScalarVolumeNode12" no description "Volume Node"."""
    matcher = PhiTextMatcher([("Description", "", profile.DESCRIPTIONS), ("Volume Node", "", profile.DESCRIPTIONS)])
    assert matcher.contains("MRMLVolumeNode" + " x" * 200)  # (cut elsewhere, the pieces are found)
    assert not matcher.contains("attributes=DICOM.SeriesDescription; node vtkMRMLScalarVolumeNode12" + " x" * 200)


@pytest.mark.parametrize(
    ("value", "category", "typed"),
    [
        ("Quixworth^Zebediah", profile.NAMES, "ZQuixworth"),
        ("Quixworth^Zebediah", profile.NAMES, "PETCTQuixworth"),
        ("Quixworth^Zebediah", profile.NAMES, "MRIQuixworth_T1"),
        ("Quixworth^Zebediah", profile.NAMES, "ANON^ABCDEFGHJKQuixworth"),
        ("1.2.246.352.71.4.417454940.236", profile.UIDS, "RS.1.2.246.352.71.4.417454940.236.dcm"),
        ("1.2.246.352.71.4.417454940.236", profile.UIDS, "see file:///data/RD.1.2.246.352.71.4.417454940.236.dcm"),
    ],
)
def test_what_exporters_and_people_glue_to_a_value_is_cut_away(value, category, typed):
    """Found by a hunt, both written by both designs: a name glued after a capital or an acronym (the test for glued
    text wanted a lower-case letter before the capital), a UID after an exporter's prefix and a dot ('RS.<UID>.dcm':
    a run of dotted numbers could not start after a dot)."""
    _assertCutAwayAndFound(value, category, typed)


@pytest.mark.parametrize(
    "typed",
    [
        "DOB 19th of January 2004",
        "born on the 19th of January, 2004",
        "DOB January the 19th, 2004",
        "生年月日 2004年1月19日",
        "2004年01月19日",
    ],
)
def test_a_date_written_with_words_between_or_in_chinese_and_japanese_form_is_found(typed):
    """Found by a hunt: the date's keys were runs of day, month and year only."""
    _assertCutAwayAndFound("20040119", profile.DATES, typed, replacement="")


@pytest.mark.parametrize(
    ("value", "typed"), [("Singleton^Mary^Ann", "Ann Singleton"), ("Frame^Janet^Paterson", "Paterson Frame")]
)
def test_a_middle_name_with_a_family_name_slicer_also_writes_is_found(value, typed):
    """A family name that is a word of Slicer's (Singleton, Frame) is not searched alone: with the middle name it is
    searched whole, as the family name alone found it before."""
    matcher = PhiTextMatcher([(value, "ANON^X", profile.NAMES)])
    assert matcher.replace(f"{typed} follow-up") == "ANON^X follow-up"
