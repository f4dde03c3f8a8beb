"""The cycle collector is off while a save's bulk steps run, and always as the caller had it afterwards."""

import gc

import pytest
from dicomScenes import buildSampleScene

from AnonymizeOnSaveLib import Policy, saveScene
from AnonymizeOnSaveLib.gcPause import cycleCollectionPaused
from AnonymizeOnSaveLib.session import AnonymizationSession


def test_the_collector_is_off_during_a_step_and_back_on_after_it_fails():
    seen = []

    @cycleCollectionPaused
    def failingStep():
        seen.append(gc.isenabled())
        raise ValueError("the step failed")

    assert gc.isenabled()
    with pytest.raises(ValueError):
        failingStep()
    assert seen == [False]
    assert gc.isenabled()


def test_a_caller_that_turned_the_collector_off_keeps_it_off():
    step = cycleCollectionPaused(gc.isenabled)
    gc.disable()
    try:
        assert step() is False
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_strip_runs_without_the_collector_and_a_save_leaves_it_on(tmp_path, monkeypatch):
    sample = buildSampleScene()
    seen = []
    strip = AnonymizationSession.strip
    monkeypatch.setattr(AnonymizationSession, "strip", lambda self: seen.append(gc.isenabled()) or strip(self))
    assert saveScene(sample.scene, tmp_path / "scene.mrb", policy=Policy(key="k"))
    assert not saveScene(sample.scene, tmp_path / "missing" / "scene.mrb", policy=Policy(key="k"))
    assert seen == [False]  # the failed save stopped before stripping
    assert gc.isenabled()
