"""A .mrml saved again by string plans, cleans and renders again only the item tags that changed since the last save
(mrmlText.ItemTags): after every kind of change a user or a DICOM load makes (a renamed item, a new patient name, a
study moved to another patient, a new patient whose name is typed into another item, a new UID), and under each
policy, the file is byte for byte the one a save with nothing kept writes, and the one the live design writes."""

import gc
import os

import pytest
from dicomScenes import buildSampleScene, useLiveMrmlPath
from hospitalScenes import buildHospitalScene
from sceneChanges import CHANGES, policiesUnder, renameAnItem, renameAPatient, shItems

from AnonymizeOnSaveLib import Policy, lastReport, mrmlString, mrmlText, saveScene

POLICIES = policiesUnder("saved-again-key-long-enough")


def _saved(scene, path, policy):
    """The bytes a save writes, None when it refuses (then nothing was written)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not saveScene(scene, path, policy=policy):
        assert not os.path.exists(path)
        return None
    return open(path, "rb").read()


def _savedWithNothingKept(scene, path, policy, monkeypatch):
    with monkeypatch.context() as fresh:
        fresh.setattr(mrmlString, "_itemTags", mrmlText.ItemTags())
        fresh.setattr(mrmlString, "_lastCleaned", [None, None])
        return _saved(scene, path, policy)


@pytest.mark.parametrize("policyName", POLICIES)
@pytest.mark.parametrize("build", (lambda: buildSampleScene().scene, lambda: buildHospitalScene()[0]))
def test_a_save_after_any_change_writes_what_a_save_with_nothing_kept_writes(tmp_path, monkeypatch, build, policyName):
    scene, policy = build(), POLICIES[policyName]
    _saved(scene, str(tmp_path / "first" / "scene.mrml"), policy)
    for change in CHANGES:
        change(scene)
        folder = tmp_path / change.__name__
        again = _saved(scene, str(folder / "again" / "scene.mrml"), policy)
        reported = dict(lastReport(scene).counts) if again is not None else None
        fresh = _savedWithNothingKept(scene, str(folder / "fresh" / "scene.mrml"), policy, monkeypatch)
        if again is not None:  # the kept plans' changes are counted as made
            assert reported == dict(lastReport(scene).counts), change.__name__
        with monkeypatch.context() as live:
            useLiveMrmlPath(live)
            byLiveDesign = _saved(scene, str(folder / "live" / "scene.mrml"), policy)
        assert again == fresh == byLiveDesign, change.__name__
        if policyName != "retaining":
            assert again is not None, change.__name__


def test_only_the_changed_item_tags_are_planned_again(tmp_path, monkeypatch):
    """One renamed item: one tag planned again; another key: every tag."""
    scene = buildHospitalScene()[0]
    planned = []
    realDecide = mrmlText.decideRules
    monkeypatch.setattr(mrmlText, "decideRules", lambda sites, policy: planned.append(1) or realDecide(sites, policy))
    assert saveScene(scene, str(tmp_path / "first.mrml"), policy=POLICIES["default"])
    tags = len(planned)
    assert tags == len(shItems(scene)[1]) + 1  # every item and the scene item
    del planned[:]
    renameAnItem(scene)
    assert saveScene(scene, str(tmp_path / "again.mrml"), policy=POLICIES["default"])
    assert len(planned) == 1
    del planned[:]
    assert saveScene(scene, str(tmp_path / "other key.mrml"), policy=Policy(key="another-key-long-enough"))
    assert len(planned) == tags


def test_a_save_refused_after_its_tags_were_written_leaves_them_as_read(tmp_path, monkeypatch):
    """A kept tag's element is written only while its text is rendered: a save refused by the search (or failing
    anywhere after the writes) leaves nothing written in it for the next save."""
    scene = buildHospitalScene()[0]
    policy = POLICIES["default"]
    assert saveScene(scene, str(tmp_path / "first.mrml"), policy=policy)
    renameAPatient(scene)  # some tags planned again, the others rendered as last time
    with monkeypatch.context() as refusing:
        refusing.setattr(mrmlString, "searchBytes", lambda *arguments: _Found())
        assert not saveScene(scene, str(tmp_path / "refused.mrml"), policy=policy)
    assert not os.path.exists(tmp_path / "refused.mrml")
    again = _saved(scene, str(tmp_path / "again.mrml"), policy)
    assert again == _savedWithNothingKept(scene, str(tmp_path / "fresh" / "scene.mrml"), policy, monkeypatch)


class _Found:
    """What the in-memory search returns when it finds a value."""

    found, data = ["item 5 name"], []


def test_between_saves_the_kept_tags_hold_no_parsed_element(tmp_path):
    """What a save keeps of each item tag is compact (values, categories, positions, its text and rendering): no
    element and no Site with a handle on one, written or not (at 10k items: 42 MB kept instead of 125 MB)."""
    scene = buildHospitalScene()[0]
    assert saveScene(scene, str(tmp_path / "first.mrml"), policy=POLICIES["default"])
    renameAnItem(scene)
    assert saveScene(scene, str(tmp_path / "again.mrml"), policy=POLICIES["default"])
    kept = list(mrmlString._itemTags.last.values())
    assert len(kept) == len(shItems(scene)[1]) + 1
    for tag in kept:
        assert tag.liveElement() is None and tag._element is None
        decided = tag._decided
        assert all(change.site is None for change in decided.changes)
        assert all(site.handle is None for site in decided.textSites + decided.dataSites)


def test_what_the_kept_tags_hold_is_hardly_visited_by_the_cycle_collector(tmp_path):
    """Kept for the session's lifetime, a 10k-item hierarchy's tags would make every full collection of Slicer's
    Python slower in proportion to the objects the collector visits: they keep values as strings, numbers and tuples
    of them (which it stops visiting), a few objects a tag (a full collection at 10k items: 0.11 s; 0.22 s when tags
    kept lists; 0.04 s keeping nothing)."""
    scene = buildHospitalScene()[0]
    assert saveScene(scene, str(tmp_path / "first.mrml"), policy=POLICIES["default"])
    renameAnItem(scene)
    assert saveScene(scene, str(tmp_path / "again.mrml"), policy=POLICIES["default"])
    gc.collect()
    gc.collect()
    kept = list(mrmlString._itemTags.last.values())
    seen, visited = set(), 0
    pending = list(kept)
    while pending:
        holder = pending.pop()
        if id(holder) in seen or not gc.is_tracked(holder) or isinstance(holder, type):
            continue
        seen.add(id(holder))
        visited += 1
        pending += gc.get_referents(holder)
    assert visited <= 5 * len(kept)  # (about 3.6: 19 when a tag kept its changes and renderings in lists)
