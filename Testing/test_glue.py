"""The Qt glue under PySide6 (offscreen), against stand-ins for Slicer's Save dialog and slicer.util.

This proves the glue's logic, not its fit to the real dialog: that is what the real-Slicer tests are for.
"""

import inspect
import logging
import os
import zipfile

import pytest
from dicomScenes import LiveState, buildSampleScene, leakScan
from qtShim import installQtShim

qt = installQtShim()

from PySide6.QtWidgets import QApplication  # noqa: E402
from standIns import StandInSaveDialog, StandInUtil  # noqa: E402

from AnonymizeOnSaveGlue import policySettings  # noqa: E402
from AnonymizeOnSaveGlue.policySettings import ALWAYS, ASK, OFF, PolicySettings  # noqa: E402
from AnonymizeOnSaveGlue.postSaveCheck import PostSaveCheck  # noqa: E402
from AnonymizeOnSaveGlue.saveDialogHook import SaveDialogHook, findSaveDialog  # noqa: E402
from AnonymizeOnSaveGlue.utilWrapper import wrapSaveScene  # noqa: E402
from AnonymizeOnSaveLib import installSaveHook, saveScene, session  # noqa: E402


@pytest.fixture(scope="module")
def application():
    return QApplication.instance() or QApplication([])


@pytest.fixture
def settings(tmp_path):
    return PolicySettings(qt.QSettings(str(tmp_path / "settings.ini"), qt.QSettings.IniFormat), environment={})


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, *arguments):
        self.calls.append(arguments)


class Annotations:
    def __init__(self, scene):
        self.scene, self.events = scene, []

    def hide(self):
        self.events.append(("hide", session.activeSession(self.scene) is None))

    def restore(self):
        self.events.append(("restore", session.activeSession(self.scene) is None))


@pytest.fixture
def rig(application, settings, tmp_path):
    """A sample scene with its save hook, a stand-in dialog with our checkbox, and the post-save check."""
    sample = buildSampleScene()
    hook = installSaveHook(sample.scene)
    hook.enabled = False  # as the module installs it under Off/Ask: only brackets enable it
    named = sample.volumes[2]  # "<patient ID> arterial"
    dialog = StandInSaveDialog(sample.scene, str(tmp_path), named)
    warn, notify = Recorder(), Recorder()
    check = PostSaveCheck(sample.scene, settings, notify)
    annotations = Annotations(sample.scene)
    dialogHook = SaveDialogHook(qt, dialog, sample.scene, hook, settings, str, warn, check, annotations)
    yield sample, dialog, dialogHook, hook, warn, notify, annotations
    dialogHook.remove()
    hook.remove()
    dialog.deleteLater()


def _patientId(sample):
    sh = sample.scene.GetFirstNodeByClass("vtkMRMLSubjectHierarchyNode")
    return sh.GetItemUID(sh.GetItemParent(sh.GetItemParent(sh.GetItemByDataNode(sample.volumes[0]))), "DICOM")


def _save(dialog):
    dialog.buttonBox.button(qt.QDialogButtonBox.Save).click()
    QApplication.processEvents()


def test_the_checkbox_sits_next_to_show_options(rig, application):
    _, dialog, dialogHook, *_ = rig
    grid = dialog.findChild(qt.QGridLayout, "gridLayout")
    position = grid.getItemPosition(grid.indexOf(dialogHook.checkBox))
    showMore = grid.getItemPosition(grid.indexOf(dialog.findChild(qt.QCheckBox, "ShowMoreCheckBox")))
    assert position[0] == showMore[0] and position[1] == showMore[1] - 1
    assert dialogHook.checkBox.text() == "Anonymize subject hierarchy"
    assert "session" in dialogHook.checkBox.toolTip() and "patient names" in dialogHook.checkBox.toolTip()
    assert findSaveDialog(application) is dialog


def test_checked_save_writes_no_phi_and_restores_the_scene(rig, tmp_path):
    sample, dialog, dialogHook, hook, warn, notify, annotations = rig
    before = LiveState(sample.scene)
    assert dialogHook.checkBox.isChecked()  # Ask: checked by default
    _save(dialog)
    assert dialog.accepts == 1 and not warn.calls and not notify.calls
    written = os.listdir(tmp_path)
    assert "scene.mrb" in written
    assert leakScan(str(tmp_path / "scene.mrb"), sample.phiValues) == []
    assert not any(value in name for name in written for value in sample.phiValues)  # the data file's name too
    assert before.differences() == []
    assert not hook.enabled and session.activeSession(sample.scene) is None
    assert annotations.events == [("hide", True), ("restore", True)]  # hidden for the whole save


def test_unchecked_save_is_plain(rig, tmp_path):
    sample, dialog, dialogHook, *_ = rig
    dialogHook.checkBox.setChecked(False)
    _save(dialog)
    assert leakScan(str(tmp_path / "scene.mrb"), sample.phiValues)


def test_the_bracket_holds_through_the_nested_overwrite_question(rig, tmp_path):
    sample, dialog, *_ = rig
    before = LiveState(sample.scene)
    seen = []
    dialog.askOverwrite = True
    dialog.duringQuestion = lambda: seen.append(session.activeSession(sample.scene) is not None)
    _save(dialog)
    assert seen == [True]  # stripped while the nested event loop ran
    assert leakScan(str(tmp_path / "scene.mrb"), sample.phiValues) == []
    assert before.differences() == [] and session.activeSession(sample.scene) is None


def test_a_failed_save_restores_the_scene(rig, tmp_path):
    sample, dialog, *_ = rig
    before = LiveState(sample.scene)
    dialog.failSceneWrite = True
    _save(dialog)
    assert not os.path.exists(tmp_path / "scene.mrb")
    assert before.differences() == [] and session.activeSession(sample.scene) is None


def test_cancel_and_close_never_leave_the_scene_stripped(rig):
    sample, dialog, dialogHook, *_ = rig
    before = LiveState(sample.scene)
    dialog.buttonBox.button(qt.QDialogButtonBox.Cancel).click()
    assert dialog.accepts == 0 and before.differences() == []
    # A bracket left open (accept() never reached) is ended when the dialog finishes.
    dialogHook.onClicked(dialog.buttonBox.button(qt.QDialogButtonBox.Save))
    assert session.activeSession(sample.scene) is not None
    dialog.done(0)
    assert session.activeSession(sample.scene) is None and before.differences() == []


def test_a_strip_failure_blocks_the_write_and_says_why(rig, tmp_path, monkeypatch):
    sample, dialog, _, _, warn, *_ = rig
    before = LiveState(sample.scene)

    def broken(scene):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(session, "_sites", broken)
    _save(dialog)
    assert dialog.accepts == 0 and os.listdir(tmp_path) == ["settings.ini"]
    assert len(warn.calls) == 1 and "nothing was saved" in warn.calls[0][1]
    assert before.differences() == []
    monkeypatch.undo()
    _save(dialog)  # the button box was unblocked: the next save goes through
    assert dialog.accepts == 1 and leakScan(str(tmp_path / "scene.mrb"), sample.phiValues) == []


def test_policy_modes_and_the_remembered_state(rig, settings):
    _, _, dialogHook, *_ = rig
    dialogHook.checkBox.setChecked(False)  # the user unticks it under Ask: remembered
    assert not settings.checkboxChecked()
    settings.setMode(OFF)
    dialogHook.refresh()
    assert not dialogHook.checkBox.isChecked() and dialogHook.checkBox.isEnabled()
    settings.setMode(ALWAYS)
    dialogHook.refresh()
    assert dialogHook.checkBox.isChecked() and not dialogHook.checkBox.isEnabled()
    assert "Always" in dialogHook.checkBox.toolTip()
    settings.setMode(ASK)
    dialogHook.refresh()
    assert dialogHook.checkBox.isChecked()  # back to Ask's default after a policy change


def test_the_environment_and_the_shared_settings_lock_always(tmp_path):
    user = qt.QSettings(str(tmp_path / "user.ini"), qt.QSettings.IniFormat)
    locked = PolicySettings(user, environment={"SLICER_ANONYMIZE_ON_SAVE": "always"})
    assert locked.mode() == ALWAYS and "SLICER_ANONYMIZE_ON_SAVE" in locked.lockReason()
    with pytest.raises(PermissionError):
        locked.setMode(OFF)
    shared = qt.QSettings(str(tmp_path / "shared.ini"), qt.QSettings.IniFormat)
    shared.setValue(policySettings.FORCE_KEY, "Always")
    administered = PolicySettings(user, shared, environment={})
    assert administered.isLocked() and administered.mode() == ALWAYS
    assert not PolicySettings(user, environment={}).isLocked()


def test_the_key_is_generated_once_and_kept_in_the_settings(settings):
    key = settings.key()
    assert len(key) == 64 and settings.key() == key
    assert settings.policy().keyId() == settings.policy().keyId()
    settings.setKey("shared-team-key")
    assert settings.policy().keyId() != key and settings.key() == "shared-team-key"
    settings.setRetain(["uids"])
    assert settings.policy().retain == {"uids"}
    with pytest.raises(ValueError):
        settings.setRetain(["everything"])


@pytest.fixture
def wrapped(application, settings):
    sample = buildSampleScene()
    hook = installSaveHook(sample.scene)
    hook.enabled = False
    util = StandInUtil(sample.scene)
    original = util.saveScene
    unwrap = wrapSaveScene(util, sample.scene, hook, settings)
    yield sample, util, original, unwrap, hook
    unwrap()
    hook.remove()


def test_the_wrapper_keeps_signature_docstring_and_return_value(wrapped, tmp_path):
    _, util, original, unwrap, _ = wrapped
    assert inspect.signature(util.saveScene) == inspect.signature(original)
    assert util.saveScene.__doc__ == original.__doc__ and util.saveScene.__name__ == "saveScene"
    assert util.saveScene(str(tmp_path / "a.mrb"), {"screenShot": "kept"}) is True
    assert util.calls[-1] == (str(tmp_path / "a.mrb"), {"screenShot": "kept"})  # passed on, without "anonymize"
    assert util.saveScene(str(tmp_path / "missing" / "b.mrb")) is False
    unwrap()
    assert util.saveScene == original


def test_the_wrapper_applies_the_policy_and_explicit_requests(wrapped, settings, tmp_path, caplog):
    sample, util, *_ = wrapped
    before = LiveState(sample.scene)
    assert util.saveScene(str(tmp_path / "ask.mrb"))  # Ask: anonymized by default
    assert leakScan(str(tmp_path / "ask.mrb"), sample.phiValues) == []
    assert util.saveScene(str(tmp_path / "plain.mrb"), {"anonymize": False})
    assert leakScan(str(tmp_path / "plain.mrb"), sample.phiValues)
    settings.setMode(OFF)
    assert util.saveScene(str(tmp_path / "off.mrb"))
    assert leakScan(str(tmp_path / "off.mrb"), sample.phiValues)
    assert util.saveScene(str(tmp_path / "asked.mrb"), {"anonymize": True})
    assert leakScan(str(tmp_path / "asked.mrb"), sample.phiValues) == []
    assert before.differences() == []


def test_the_wrapper_refuses_a_plain_save_under_a_locked_policy(wrapped, tmp_path, caplog):
    sample, _, _, _, hook = wrapped
    import AnonymizeOnSaveGlue.utilWrapper as utilWrapper

    locked = PolicySettings(qt.QSettings(str(tmp_path / "l.ini"), qt.QSettings.IniFormat), environment={})
    locked.environment = {"SLICER_ANONYMIZE_ON_SAVE": "always"}
    util2 = StandInUtil(sample.scene)
    unwrap = utilWrapper.wrapSaveScene(util2, sample.scene, hook, locked)
    try:
        with caplog.at_level(logging.ERROR):
            assert util2.saveScene(str(tmp_path / "refused.mrb"), {"anonymize": False}) is False
        assert not util2.calls and not os.path.exists(tmp_path / "refused.mrb")
        assert "locked" in caplog.text
        assert util2.saveScene(str(tmp_path / "forced.mrb"))
        assert leakScan(str(tmp_path / "forced.mrb"), sample.phiValues) == []
    finally:
        unwrap()


def test_the_post_save_check_cleans_a_leaked_scene_file(application, tmp_path):
    sample = buildSampleScene()
    settings = PolicySettings(
        qt.QSettings(str(tmp_path / "s.ini"), qt.QSettings.IniFormat),
        environment={"SLICER_ANONYMIZE_ON_SAVE": "always"},
    )
    notify = Recorder()
    check = PostSaveCheck(sample.scene, settings, notify)
    folder = tmp_path / _patientId(sample)  # a folder named after the patient: the message must not say so
    folder.mkdir()
    leaked = folder / "leaked.mrb"
    assert saveScene(sample.scene, str(leaked), anonymize=False)  # a path we do not bracket
    check.onFileSaved({"fileName": str(leaked), "fileType": "SceneFile"})
    assert leakScan(str(leaked), sample.phiValues) == []
    assert len(notify.calls) == 1 and "cleaned in place" in notify.calls[0][0]
    assert all(value not in notify.calls[0][0] for value in sample.phiValues)
    with zipfile.ZipFile(leaked) as bundle:
        assert bundle.testzip() is None
    check.onFileSaved({"fileName": str(leaked)})  # already clean: nothing to say
    assert len(notify.calls) == 1


def test_a_refused_save_does_not_leave_the_post_save_check_watching(rig, monkeypatch, tmp_path):
    sample, dialog, dialogHook, _, warn, notify, _ = rig
    realSites, calls = session._sites, []

    def failingStrip(scene):
        calls.append(scene)
        if len(calls) == 2:  # the first call builds the file-name matcher; the second is the strip
            raise RuntimeError("simulated")
        return realSites(scene)

    monkeypatch.setattr(session, "_sites", failingStrip)
    _save(dialog)
    assert len(calls) == 2
    assert warn.calls and not dialogHook.postSaveCheck.watching
    monkeypatch.undo()
    dialogHook.checkBox.setChecked(False)
    _save(dialog)  # a plain save the user chose: it must stay plain
    dialogHook.postSaveCheck.onFileSaved({"fileName": str(tmp_path / "scene.mrb")})
    assert not notify.calls and leakScan(str(tmp_path / "scene.mrb"), sample.phiValues)


class ModalWarn:
    """slicer.util.errorDisplay: a modal box whose exec() runs a nested event loop, closed by the user."""

    def __init__(self):
        self.calls = []

    def __call__(self, title, text):
        self.calls.append((title, text))
        box = qt.QMessageBox(qt.QMessageBox.Critical, title, text)
        qt.QTimer.singleShot(50, box.accept)
        box.exec()


class RaisingWarn(ModalWarn):
    def __call__(self, title, text):
        self.calls.append((title, text))
        raise RuntimeError("no main window")


class SpinningWarn(ModalWarn):
    def __call__(self, title, text):
        self.calls.append((title, text))
        for _ in range(5):
            QApplication.processEvents()


@pytest.mark.parametrize("warnKind", [ModalWarn, RaisingWarn, SpinningWarn])
def test_a_refused_save_never_reaches_accept_whatever_the_warning_does(rig, tmp_path, monkeypatch, caplog, warnKind):
    sample, dialog, dialogHook, *_ = rig
    before = LiveState(sample.scene)
    dialogHook.warn = warnKind()

    def broken(scene):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(session, "_sites", broken)
    _save(dialog)
    for _ in range(20):  # let every timer and the modal box run
        QApplication.processEvents()
    assert dialog.accepts == 0 and os.listdir(tmp_path) == ["settings.ini"]
    assert len(dialogHook.warn.calls) == 1 and before.differences() == []
    assert "nothing was saved" in dialogHook.warn.calls[0][1]
    if warnKind is RaisingWarn:
        assert "nothing was saved" in caplog.text
    monkeypatch.undo()
    _save(dialog)  # unblocked again: the next save goes through, anonymized
    assert dialog.accepts == 1 and leakScan(str(tmp_path / "scene.mrb"), sample.phiValues) == []
