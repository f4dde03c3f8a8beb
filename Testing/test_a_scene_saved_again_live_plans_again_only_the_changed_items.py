"""The live design (a .mrb, a bundle folder, the Save dialog) plans again only the subject hierarchy items whose
values changed since the last save under the same policy (sceneItemPlans.py), and writes and puts back each item's
changes by its plan: after every kind of change, under each policy, the scene written is the one a save with nothing
kept writes, the report counts the same, and the live scene is exactly as it was; a failure or Ctrl-C while an
item's plan writes leaves nothing stripped and nothing written."""

import gc
import os
import zipfile

import pytest
import vtk
from dicomScenes import LiveState, buildSampleScene
from hospitalScenes import buildHospitalScene
from sceneChanges import CHANGES, policiesUnder, renameAnItem, shItems
from writeFaults import beforeEveryWrite

from AnonymizeOnSaveLib import Policy, lastReport, saveScene, sceneItemPlans, session
from AnonymizeOnSaveLib.planner import Site

POLICIES = policiesUnder("live-saved-again-key-long-enough")


def _savedScene(scene, path, policy):
    """The scene file inside the .mrb a save writes (None when it refuses: then nothing was written), and the
    report's counts; the live scene must be as it was (saved once before: a first save, plain too, gives the
    subject hierarchy node its version attribute)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    before = LiveState(scene)
    saved = saveScene(scene, path, policy=policy)
    assert before.differences() == []
    if not saved:
        assert not os.path.exists(path)
        return None, None
    with zipfile.ZipFile(path) as bundle:
        (name,) = [name for name in bundle.namelist() if name.endswith(".mrml")]
        return bundle.read(name), dict(lastReport(scene).counts)


def _savedWithNothingKept(scene, path, policy, monkeypatch):
    with monkeypatch.context() as fresh:
        fresh.setattr(sceneItemPlans, "_kept", [None, {}])
        return _savedScene(scene, path, policy)


@pytest.mark.parametrize("policyName", POLICIES)
@pytest.mark.parametrize("build", (lambda: buildSampleScene().scene, lambda: buildHospitalScene()[0]))
def test_a_live_save_after_any_change_writes_what_a_save_with_nothing_kept_writes(
    tmp_path, monkeypatch, build, policyName
):
    scene, policy = build(), POLICIES[policyName]
    saveScene(scene, str(tmp_path / "first.mrb"), policy=policy)
    for change in CHANGES:
        change(scene)
        folder = tmp_path / change.__name__
        again = _savedScene(scene, str(folder / "again" / "scene.mrb"), policy)
        fresh = _savedWithNothingKept(scene, str(folder / "fresh" / "scene.mrb"), policy, monkeypatch)
        assert again == fresh, change.__name__
        if policyName != "retaining":
            assert again[0] is not None, change.__name__


def _countingPlans(monkeypatch):
    planned = []
    realPlan = sceneItemPlans._plan
    monkeypatch.setattr(sceneItemPlans, "_plan", lambda *arguments: planned.append(1) or realPlan(*arguments))
    return planned


def test_only_the_changed_items_are_planned_again(tmp_path, monkeypatch):
    """One renamed item: one item planned again; another key: every item."""
    scene = buildHospitalScene()[0]
    planned = _countingPlans(monkeypatch)
    assert saveScene(scene, str(tmp_path / "first.mrb"), policy=POLICIES["default"])
    items = len(planned)
    assert items >= len(shItems(scene)[1]) // 2  # (items with the same values share a plan)
    del planned[:]
    renameAnItem(scene)
    assert saveScene(scene, str(tmp_path / "again.mrb"), policy=POLICIES["default"])
    assert len(planned) == 1
    del planned[:]
    assert saveScene(scene, str(tmp_path / "other key.mrb"), policy=Policy(key="another-key-long-enough"))
    assert len(planned) == items


def test_the_kept_plans_hold_no_scene_object_and_are_hardly_visited_by_the_cycle_collector(tmp_path):
    """Kept between saves, the plans hold values as strings, numbers and tuples of them: no Site, handle or VTK
    object (which would keep a closed scene alive), few objects the collector visits."""
    scene = buildHospitalScene()[0]
    assert saveScene(scene, str(tmp_path / "first.mrb"), policy=POLICIES["default"])
    gc.collect()
    gc.collect()
    kept = list(sceneItemPlans._kept[1].values())
    assert kept
    seen, visited, pending = set(), 0, list(kept)
    while pending:
        holder = pending.pop()
        assert not isinstance(holder, (Site, vtk.vtkObject, sceneItemPlans.ItemWrites))
        if id(holder) in seen or not gc.is_tracked(holder) or isinstance(holder, type):
            continue
        seen.add(id(holder))
        visited += 1
        pending += gc.get_referents(holder)
    assert visited <= 12 * len(kept)


@pytest.mark.parametrize("fault", [KeyboardInterrupt, RuntimeError])
def test_a_fault_while_an_items_plan_writes_leaves_nothing_stripped_and_nothing_written(tmp_path, monkeypatch, fault):
    scene = buildSampleScene().scene
    assert saveScene(scene, str(tmp_path / "first.mrb"), policy=POLICIES["default"])  # the plans kept
    before = LiveState(scene)
    inItemWrites, writes = [False], []
    realApply = sceneItemPlans.ItemWrites.apply

    def apply(self):
        inItemWrites[0] = True
        try:
            realApply(self)
        finally:
            inItemWrites[0] = False

    def written(value):
        if inItemWrites[0]:
            writes.append(value)
            if len(writes) == 3:  # inside the first item that changes, or the second
                raise fault("simulated fault")

    monkeypatch.setattr(sceneItemPlans.ItemWrites, "apply", apply)
    beforeEveryWrite(monkeypatch, written)
    if fault is KeyboardInterrupt:
        with pytest.raises(KeyboardInterrupt):
            saveScene(scene, str(tmp_path / "scene.mrb"), policy=POLICIES["default"])
    else:
        assert not saveScene(scene, str(tmp_path / "scene.mrb"), policy=POLICIES["default"])
    assert len(writes) == 3
    assert not os.path.exists(tmp_path / "scene.mrb")
    assert before.differences() == []
    assert session.activeSession(scene) is None


def test_a_value_an_items_plan_cannot_put_back_is_named_by_its_place(tmp_path, monkeypatch, caplog):
    """The restore names where it failed as a Site would (item, attribute or UID name), never the value."""
    scene = buildSampleScene().scene
    realRestore = session.AnonymizationSession._restoreApplied

    def restoring(self):
        failing = [True]

        def refuse(value):
            if failing[0]:
                failing[0] = False
                raise RuntimeError("simulated failure")

        with pytest.MonkeyPatch.context() as during:
            beforeEveryWrite(during, refuse)
            realRestore(self)

    monkeypatch.setattr(session.AnonymizationSession, "_restoreApplied", restoring)
    assert not saveScene(scene, str(tmp_path / "scene.mrb"), policy=POLICIES["default"])
    assert "1 value(s) could not be restored, first at subject hierarchy item " in caplog.text
    place = caplog.text.split("first at ")[1].split("\n")[0]
    assert place.split()[4] in ("attribute", "UID", "name") and "1CT1" not in place
