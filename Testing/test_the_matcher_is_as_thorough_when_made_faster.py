"""What makes the check of a big written scene fast must not make it miss anything: the digraph reduction of a long
text, the matcher reused for a scene saved again unchanged, and the tool's own pseudonyms left uncut by the fine
search (a token that is one of them whole is this tool's output). Each is compared with the plain way."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from AnonymizeOnSaveLib import profile
from AnonymizeOnSaveLib.phiText import PhiTextMatcher, matcherFor
from AnonymizeOnSaveLib.pseudonyms import Pseudonymizer
from AnonymizeOnSaveLib.textTokens import _reduced, tokens

_WORDS = st.sampled_from(["Mueller", "Soerensen", "Aaberg", "queue", "Doe", "AE", "aeae", "x1", "does", "<a b=", "  "])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_WORDS, st.text(alphabet="aeouAEOUbn1 .", max_size=8)), max_size=400))
def test_the_tokens_of_a_long_text_are_those_of_the_plain_reduction(pieces):
    text = " ".join(pieces)
    assert tokens(text) == re.findall(r"[a-z0-9]+", _reduced(text.lower()))


PAIRS = [("DOE^JOHN", "ANON^K3J10P1HZT", profile.NAMES), ("40718253", "ANONJ3A3JNMY3Y", profile.IDENTIFIERS)]


def test_a_reused_matcher_is_a_copy_that_values_added_elsewhere_do_not_reach():
    first = matcherFor(PAIRS)
    first.add([("2020-01-03", "", profile.DATES)])
    assert first.contains("seen 2020-01-03")
    again = matcherFor(PAIRS)
    assert not again.contains("seen 2020-01-03") and again.contains("John Doe")
    assert matcherFor(PAIRS[:1]).contains("John Doe") and not matcherFor(PAIRS[:1]).contains("40718253")


def test_a_text_remembered_clean_is_searched_again_once_values_are_added():
    matcher = PhiTextMatcher(PAIRS)
    text = "Chest CT of 2020-01-03"
    assert not matcher.contains(text) and matcher.replace(text) == text
    twin = matcher.copy()
    matcher.add([("20200103", "", profile.DATES)])
    assert matcher.contains(text) and matcher.replace(text) == "Chest CT of [date]"
    marker = "ANONX40718253"  # glued to an ID: found, until it is named the tool's own text, which is not cut
    assert matcher.contains(marker)
    matcher.addOwnText([marker])
    assert not matcher.contains(marker) and matcher.replace(text) == "Chest CT of [date]"
    assert not twin.contains(text), "a copy made before keeps its own values"
    twin.add([("Chest", "[region]", profile.DESCRIPTIONS)])
    assert twin.replace(text) == "[region] CT of 2020-01-03"


def _bigWrittenScene(extra):
    """Thousands of the tool's own pseudonyms and UIDs, as an anonymized hierarchy holds them, and one more text."""
    pseudonyms = Pseudonymizer(b"a-key-long-enough-for-this-test")
    items = "".join(
        f'<Item name="{pseudonyms.personName(str(n))}" id="{pseudonyms.identifier(str(n))}" '
        f'uid="{pseudonyms.uid(f"1.2.3.{n}")}" note="PS3.15 {n % 12 + 1}"/>\n'
        for n in range(3000)
    )
    return items + extra, pseudonyms


def test_own_pseudonyms_are_not_cut_but_a_value_glued_among_them_is_found():
    clean, pseudonyms = _bigWrittenScene("")
    pairs = [(str(n), pseudonyms.identifier(str(n)), profile.IDENTIFIERS) for n in range(1000, 1010)]
    pairs += [("DOE^JOHN", "ANON^X", profile.NAMES), ("20200103", "", profile.DATES)]
    matcher = PhiTextMatcher(pairs)
    matcher.addOwnText(["DICOM PS3.15 E.1-1"])
    assert not matcher.contains(clean)
    for glued in ("TinyJohnDoeCT", "scan20200103b", "Doe_John2020", "on 3rd Jan 2020"):
        written, _ = _bigWrittenScene(f'<Text value="{glued}"/>\n')
        assert matcher.contains(written), glued
        plain = PhiTextMatcher(pairs)  # the same search, no token known as the tool's own
        assert plain.contains(written)


def test_a_value_split_off_a_glued_token_is_found_when_its_piece_is_also_written_alone():
    """The "3" of "3rd Jan 2020" is also a word of its own in "3 items": the fine search still runs."""
    matcher = PhiTextMatcher([("20200103", "", profile.DATES)])
    assert matcher.replace("3 items, on 3rd Jan 2020") == "3 items, on [date]"


UID = "1.2.840.113619.2.55.3.604688"


@pytest.mark.parametrize(
    "written",
    [
        f"uid {UID} here",
        "uid 1.2.840.0113619.2.55.3.604688 here",  # a leading zero in an arc
        f"UID{UID}",  # glued to letters
        UID.replace(".", "&#46;"),  # dots as character references
        f"instance {UID}.7",  # a known series UID extended by an instance number
        f"root 9.{UID}",
    ],
)
def test_a_known_uid_is_found_whole_as_people_and_software_write_it(written):
    matcher = PhiTextMatcher([(UID, "2.25.1234567", profile.UIDS)])
    assert (
        matcher.contains(written)
        and "2.25.1234567" in matcher.replace(written)
        and "604688" not in matcher.replace(written)
    )


def test_a_uid_is_not_found_where_only_some_of_its_arcs_are():
    matcher = PhiTextMatcher([(UID, "2.25.1234567", profile.UIDS)])
    for text in ("1.2.840.113619.2.55.3", "version 1.2.840", "1.2.840.113619.2.55.3.6046889"):
        assert not matcher.contains(text), text


def test_a_uid_cut_short_at_a_clamped_file_name_is_found():
    from AnonymizeOnSaveLib.fileNames import replaceInFileName

    matcher = PhiTextMatcher([(UID, "2.25.1234567", profile.UIDS)])
    clamped = "Data/" + UID[:22] + "_A1B2.nrrd"  # ClampFileName: a prefix cut inside the value, a hash, the extension
    assert replaceInFileName(matcher, clamped) == "Data/2.25.1234567_A1B2.nrrd"


def test_a_policy_made_again_with_the_same_key_derives_no_uid_twice_and_another_key_its_own(monkeypatch):
    """Slicer makes a Policy for each save: the UIDs derived under a key are remembered across them (a pure function
    of key and value), never given to another key."""
    derived = []
    realNewUid = Pseudonymizer._newUid
    monkeypatch.setattr(Pseudonymizer, "_newUid", lambda self, value: derived.append(value) or realNewUid(self, value))
    uid = "1.2.826.0.1.3680043.8.498.1"
    first = Pseudonymizer(b"uid-cache-test-first-key-long").uid(uid)
    assert Pseudonymizer(b"uid-cache-test-first-key-long").uid(uid) == first and derived == [uid]
    other = Pseudonymizer(b"uid-cache-test-second-key-long").uid(uid)
    assert other != first and derived == [uid, uid]
    assert Pseudonymizer(b"uid-cache-test-second-key-long").isOwnUid(other)
