"""A long text (a scene file of a big hierarchy) is searched in overlapping pieces, so that one glued token a quick
test cannot clear ("T1", "n1" beside a series number 1) is cut finely alone, not the whole file with it. Pieces
never change what is found: every value, in every spelling the matcher knows, is found wherever it stands, across
any cut."""

import random
import re

import pytest

from AnonymizeOnSaveLib import phiText, profile
from AnonymizeOnSaveLib.phiText import PhiTextMatcher
from AnonymizeOnSaveLib.textTokens import windows

VALUES = [
    ("Quintero^Synthetic^Maria", "ANON^Q", profile.NAMES),
    ("SYN-4071825", "ANONID", profile.IDENTIFIERS),
    ("MRN4071825390117", "ANONMRN", profile.IDENTIFIERS),
    ("20240229", "20190301", profile.DATES),
    ("1.2.826.0.1.3680043.8.498.4411", "2.25.1", profile.UIDS),
    ("Brain MRI follow-up", "", profile.DESCRIPTIONS),
]
# How people and software write them, spread over several words, glued, joined with separators, with zeros.
SPELLINGS = [
    "Maria Synthetic Quintero",
    "QUINTERO, MARIA",
    "quintero_maria",
    "SYN 4071 825",
    "SYN 407 182 5",
    "MRN 4 0 7 1 8 2 5 3 9 0 1 1 7",
    "SYN " + "- " * 40 + "4071825",
    "MRN:SYN4071825x",
    "20240229134501",
    "1.2.826.0.01.3680043.8.498.4411",
    "brain   MRI\n\tfollow-up",
]
FILLER = ["Level^Folder|", "DICOM.Modality^CT|", "T1", "n1", "<Item", 'id="12"', "&#10;", "2024", "series", "1"]


@pytest.mark.parametrize("seed", range(40))
def test_a_value_is_found_wherever_it_stands_whatever_the_pieces(monkeypatch, seed):
    rng = random.Random(seed)
    matcher = PhiTextMatcher(VALUES)
    words = [rng.choice(FILLER) for _ in range(rng.randint(50, 400))]
    spelling = rng.choice(SPELLINGS)
    words.insert(rng.randint(0, len(words)), spelling)
    text = "".join(word + rng.choice((" ", "\n   ", "  \t")) for word in words)
    clean = text.replace(spelling, "kept")
    assert matcher.contains(f"{spelling} {'x ' * 300}")  # a spelling the matcher knows
    monkeypatch.setattr(phiText, "SEARCHED_PIECE", rng.randint(8, 120))
    assert len(text) > 2 * phiText.SEARCHED_PIECE  # searched in pieces
    assert matcher.contains(text), spelling
    assert not matcher.contains(clean)


@pytest.mark.parametrize("seed", range(200))
def test_every_run_of_tokens_lies_whole_in_one_piece(seed):
    """However many words without a token (punctuation) lie between them, and pieces begin at a word."""
    rng = random.Random(seed)
    words = ["".join(rng.choice("ab.^-") for _ in range(rng.randint(1, 30))) for _ in range(rng.randint(0, 300))]
    words = [rng.choice((word, "-", "^|", "...")) for word in words]
    text = "".join(word + rng.choice((" ", "  ", "\n", " \t ")) for word in words)
    size, count = rng.randint(1, 200), rng.randint(1, 8)
    pieces = list(windows(text, size, count))
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(later[0] > earlier[0] for earlier, later in zip(pieces, pieces[1:]))
    assert all(start == 0 or text[start - 1].isspace() for start, _ in pieces)
    tokens = [match.span() for match in re.finditer(r"[ab]+", text)]
    for first in range(len(tokens)):
        start, end = tokens[first][0], tokens[min(len(tokens), first + count) - 1][1]
        assert any(pieceStart <= start and end <= pieceEnd for pieceStart, pieceEnd in pieces)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_pieces_overlap_by_as_many_words_as_the_longest_spelling(monkeypatch, spelling):
    """With pieces one word long, each piece is as many words as the overlap: the longest spelling still fits."""
    matcher = PhiTextMatcher(VALUES)
    monkeypatch.setattr(phiText, "SEARCHED_PIECE", 1)
    assert matcher.contains(f"series 1 T1 {spelling} n1 Level^Folder")


def _sceneLikeText(lines=3000):
    """A scene file's shape: one tag a line, each with its own values."""
    return "".join(
        f'  <Item id="{index}" name="series {index}" attributes="Level^Folder|Code^{index * 7}|"/>\n'
        for index in range(lines)
    )


def test_an_edit_moves_only_the_cuts_near_it():
    text = _sceneLikeText()
    edited = text.replace('name="series 1500"', 'name="series 1500 (edited)"')
    before = {text[start:end] for start, end in windows(text, 4096, 20)}
    after = [edited[start:end] for start, end in windows(edited, 4096, 20)]
    assert len(after) > 20 and sum(piece not in before for piece in after) <= 2


def test_a_text_searched_again_after_an_edit_searches_only_the_pieces_around_it(monkeypatch):
    """A piece the same values found clean is not searched again (by its digest); an edit is, and a value the
    matcher learns makes every piece be searched again."""
    monkeypatch.setattr(phiText, "SEARCHED_PIECE", 4096)
    matcher = phiText.matcherFor(VALUES, ["YES"])
    text = _sceneLikeText()
    searched = []
    realSearch = PhiTextMatcher._containsWhole
    monkeypatch.setattr(
        PhiTextMatcher, "_containsWhole", lambda self, piece: searched.append(1) or realSearch(self, piece)
    )
    assert not matcher.contains(text)
    pieces = len(searched)
    assert pieces > 20
    del searched[:]
    again = phiText.matcherFor(VALUES, ["YES"])  # the next save's matcher: the same values
    assert not again.contains(text.replace('name="series 1500"', 'name="series 1500 (edited)"'))
    assert 1 <= len(searched) <= 2
    assert again.contains(text.replace('name="series 2900"', 'name="Maria Quintero"'))
    again.add([("series 1200", "", profile.DESCRIPTIONS)])
    del searched[:]
    assert again.contains(text)
    assert len(searched) > 1
