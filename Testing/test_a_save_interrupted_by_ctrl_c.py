"""A user presses Ctrl-C (KeyboardInterrupt, not an Exception) while a save strips or restores the scene: the
interrupt still reaches them, nothing is written, and every value is back in the live scene, none left stripped."""

import os

import pytest
from dicomScenes import LiveState, buildSampleScene, useLiveMrmlPath
from writeFaults import beforeEveryWrite

from AnonymizeOnSaveLib import Policy, anonymizedScene, mrmlString, saveScene, session

POLICY = Policy(key="ctrl-c-key")


def _interruptedWrites(monkeypatch, interruptAt):
    """Make the interruptAt-th value written (from 1, strip and restore counted together) raise KeyboardInterrupt,
    once. Returns the counter."""
    counter = {"writes": 0}

    def written(value):
        counter["writes"] += 1
        if counter["writes"] == interruptAt:
            raise KeyboardInterrupt

    beforeEveryWrite(monkeypatch, written)
    return counter


@pytest.mark.parametrize("name", ["scene.mrb", "scene.mrml", "bundle"])
def test_ctrl_c_while_stripping_writes_nothing_and_puts_every_value_back(tmp_path, monkeypatch, name):
    useLiveMrmlPath(monkeypatch)
    scene = buildSampleScene().scene
    before = LiveState(scene)
    counter = _interruptedWrites(monkeypatch, interruptAt=6)
    with pytest.raises(KeyboardInterrupt):
        saveScene(scene, str(tmp_path / name), policy=POLICY)
    assert counter["writes"] > 6  # the five values written were written back
    assert not os.path.exists(tmp_path / name)
    assert before.differences() == []
    assert session.activeSession(scene) is None


@pytest.mark.parametrize("where", ["planChanges", "render"])
def test_ctrl_c_while_a_mrml_is_cleaned_by_string_writes_nothing(tmp_path, monkeypatch, where):
    """The .mrml written by string: interrupted while its text is planned or rendered, nothing is on disk (no file,
    no temporary one) and the live scene, never stripped, is as it was."""
    scene = buildSampleScene().scene
    before = LiveState(scene)

    def interrupted(*arguments, **keywords):
        raise KeyboardInterrupt

    if where == "planChanges":
        monkeypatch.setattr(mrmlString, "planChanges", interrupted)
    else:
        monkeypatch.setattr(mrmlString.MrmlDocument, "render", interrupted)
    with pytest.raises(KeyboardInterrupt):
        saveScene(scene, str(tmp_path / "scene.mrml"), policy=POLICY)
    assert os.listdir(tmp_path) == [] and before.differences() == []


def test_ctrl_c_while_a_mrml_is_written_leaves_no_partial_file(tmp_path, monkeypatch):
    scene = buildSampleScene().scene
    realReplace = os.replace

    def interrupted(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        saveScene(scene, str(tmp_path / "scene.mrml"), policy=POLICY)
    monkeypatch.setattr(os, "replace", realReplace)
    assert os.listdir(tmp_path) == []


def test_ctrl_c_while_restoring_still_puts_every_value_back(monkeypatch):
    scene = buildSampleScene().scene
    before = LiveState(scene)
    calls = []

    def interrupted(value):
        calls.append(value)
        if len(calls) == 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with anonymizedScene(scene, POLICY):
            beforeEveryWrite(monkeypatch, interrupted)  # from the restore on
    assert len(calls) > 6
    assert before.differences() == []
    assert session.activeSession(scene) is None
