"""The Qt glue under PySide6 (offscreen), against stand-ins for Slicer's Save dialog, I/O manager and slicer.util
(Testing/standIns.py, written from Slicer's source). Every dialog save runs as in Slicer: the dialog is exec()'d and
repopulated, the user acts inside its event loop, message boxes are modal. This proves the glue's logic against
that behaviour, not its fit to the real dialog: only a real Slicer can.
"""

import inspect
import logging
import os
import pathlib
import re
from urllib.parse import unquote

import pytest
import vtk
from dicomScenes import LiveState, addSingletonParameterNode, buildSampleScene, leakScan
from qtShim import installQtShim
from writeFaults import withoutSites

qt = installQtShim()

from PySide6.QtWidgets import QApplication  # noqa: E402
from standIns import StandInIOManager, StandInSaveDialog, StandInUtil  # noqa: E402

from AnonymizeOnSaveGlue import policySettings  # noqa: E402
from AnonymizeOnSaveGlue.policySettings import EVERY_SAVE, SHARED_COPIES_ONLY, PolicySettings  # noqa: E402
from AnonymizeOnSaveGlue.postSaveCheck import PostSaveCheck  # noqa: E402
from AnonymizeOnSaveGlue.saveDialogHook import SaveDialogHook, findSaveDialog  # noqa: E402
from AnonymizeOnSaveGlue.utilWrapper import wrapSaveScene  # noqa: E402
from AnonymizeOnSaveLib import (  # noqa: E402
    PolicyError,
    installSaveHook,
    saveScene,
    session,
)


@pytest.fixture(scope="module")
def application():
    return QApplication.instance() or QApplication([])


@pytest.fixture
def settings(tmp_path):
    return PolicySettings(qt.QSettings(str(tmp_path / "settings.ini"), qt.QSettings.IniFormat), environment={})


class Annotations:
    def __init__(self, scene):
        self.scene, self.events = scene, []

    def hide(self):
        self.events.append(("hide", session.activeSession(self.scene) is None))

    def restore(self):
        self.events.append(("restore", session.activeSession(self.scene) is None))


class Rig:
    """A sample scene with its save hook (disabled, as under Shared copies only), the stand-in I/O manager, dialog
    and slicer.util, our checkbox, and the post-save check on fileSaved: wired as the module wires them."""

    def __init__(self, settings, folder):
        self.sample = buildSampleScene()
        self.scene = self.sample.scene
        self.sample.volumes[0].Modified()  # loaded since the last save: the dialog checks the scene row
        self.folder = folder
        self.hook = installSaveHook(self.scene)
        self.hook.enabled = False
        self.io = StandInIOManager(self.scene)
        self.dialog = StandInSaveDialog(self.scene, str(folder), self.io)
        self.util = StandInUtil(self.scene, self.io, self.dialog)
        self.check = PostSaveCheck(self.scene, settings, self.util.warningDisplay)
        self.io.fileSaved.connect(self.check.onFileSaved)
        self.annotations = Annotations(self.scene)
        self.hookUi = SaveDialogHook(
            qt, self.dialog, self.scene, self.hook, settings, self.warn, self.check, self.annotations
        )

    def warn(self, title, text):
        """AnonymizeOnSaveLogic.warn: slicer.util.errorDisplay(text, windowTitle=title)."""
        self.util.errorDisplay(text, windowTitle=title)

    def saveThroughDialog(self, bundle=True, tick=True, configure=None):
        """Open the dialog as Slicer does and act as a user: choose the format, tick the box, click Save; after a
        refusal or a failure the dialog stays open, and the user closes it."""

        def user(dialog):
            if bundle:
                dialog.dataBundleButton.click()
            if tick and self.hookUi.checkBox.isEnabled():
                self.hookUi.checkBox.setChecked(True)
            if configure:
                configure(dialog)
            self.clickSave()

        return self.openDialog([user])[0]

    def openDialog(self, steps):
        """Open the dialog and run steps, each a function of the dialog, inside its event loop; the user closes it
        after the last one when it is still open. Returns whether it accepted, and whether it was still open after
        each step. A step that fails is raised once the dialog closed (it must not leave it open)."""
        dialog, shown, failures = self.dialog, [], []

        def user():
            try:
                for step in steps:
                    step(dialog)
                    shown.append(dialog.isVisible())
            except Exception as error:
                failures.append(error)
            if dialog.isVisible():
                qt.QTimer.singleShot(100, dialog.reject)

        dialog.sceneFormat = 0
        dialog.whileOpen = user
        accepted = self.util.openSaveDataDialog()
        QApplication.processEvents()
        if failures:
            raise failures[0]
        return accepted, shown

    def clickSave(self):
        """The user clicks Save. The scene is recorded first: opening the dialog changes it as Slicer does (storage
        nodes added and renamed after their nodes), which no save may undo."""
        self.stateAtClick = LiveState(self.scene)
        self.dialog.buttonBox.button(qt.QDialogButtonBox.Save).click()

    def written(self):
        return sorted(name for name in os.listdir(self.folder))

    def close(self):
        self.hookUi.remove()
        self.hook.remove()
        self.dialog.deleteLater()


@pytest.fixture
def rig(application, settings, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    made = Rig(settings, folder)
    yield made
    made.close()


def test_the_checkbox_sits_next_to_show_options_and_survives_repopulation(rig, application):
    dialog, box = rig.dialog, rig.hookUi.checkBox
    grid = dialog.findChild(qt.QGridLayout, "gridLayout")
    position = grid.getItemPosition(grid.indexOf(box))
    showMore = grid.getItemPosition(grid.indexOf(dialog.findChild(qt.QCheckBox, "ShowMoreCheckBox")))
    assert position[0] == showMore[0] and position[1] == showMore[1] - 1
    assert box.text() == "Anonymize subject hierarchy"
    assert "working scene" in box.toolTip() and "sharing" in box.toolTip()
    assert findSaveDialog(application) is dialog
    rig.saveThroughDialog(tick=False)
    rig.saveThroughDialog(tick=False)  # opened twice: the table is rebuilt, the box is still ours and in place
    assert grid.indexOf(box) >= 0 and dialog.findChild(qt.QCheckBox, "AnonymizeOnSaveCheckBox") is box


def test_a_ticked_bundle_save_writes_no_phi_and_leaves_the_scene_as_it_was(rig):
    assert not rig.hookUi.checkBox.isChecked()  # Shared copies only: every save starts plain
    assert rig.saveThroughDialog()
    (written,) = rig.written()
    assert written.endswith(".mrb") and leakScan(str(rig.folder / written), rig.sample.phiValues) == []
    assert rig.stateAtClick.differences() == [] and not rig.util.boxes
    assert not rig.hook.enabled and session.activeSession(rig.scene) is None
    assert rig.annotations.events == [("hide", True), ("restore", True)]  # hidden for the whole save
    assert not rig.hookUi.checkBox.isChecked()  # the next save starts plain again


@pytest.mark.parametrize("sceneFormat", [1, 2], ids=["mrb", "directory bundle"])
def test_a_ticked_bundle_save_that_fails_part_way_leaves_no_patient_data(rig, sceneFormat):
    """The volume writer fails after the markups file (a label typed with the patient's name) is written: Slicer
    emits no fileSaved, so the end of the bracket checks the scene row's file, and the .mrb staging folder goes."""
    typed = f"{rig.sample.phiValues[0]} lesion"
    rig.scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Findings").AddControlPoint(vtk.vtkVector3d(), typed)
    unwritable = rig.scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "Unwritable")
    unwritable.SetAndObserveImageData(vtk.vtkImageData())  # no scalars: its writer fails
    unwritable.AddDefaultStorageNode()
    cache = rig.scene.GetDataIOManager().GetCacheManager().GetRemoteCacheDirectory()
    staged = set(os.listdir(cache))

    def chooseFormat(dialog, name="Scene"):
        dialog.sceneFormat = sceneFormat
        dialog.fileWidget.item(0, 0).setText(name + (".mrml", ".mrb", "")[sceneFormat])
        dialog.enableNodes(False)

    assert not rig.saveThroughDialog(bundle=False, configure=chooseFormat)
    assert leakScan(str(rig.folder), [typed]) == [] and set(os.listdir(cache)) == staged
    assert rig.stateAtClick.differences() == [] and session.activeSession(rig.scene) is None
    assert not rig.saveThroughDialog(bundle=False, tick=False, configure=lambda dialog: chooseFormat(dialog, "Plain"))
    assert leakScan(str(rig.folder), [typed]) or leakScan(cache, [typed])  # a plain failed save leaves it


def test_an_unticked_save_is_plain(rig):
    assert rig.saveThroughDialog(tick=False)
    (written,) = rig.written()
    assert leakScan(str(rig.folder / written), rig.sample.phiValues)


def test_a_ticked_mrml_save_writes_clean_data_files_that_the_scene_refers_to(rig):
    assert rig.saveThroughDialog(bundle=False)
    assert leakScan(str(rig.folder), rig.sample.phiValues) == []
    (sceneFile,) = [name for name in rig.written() if name.endswith(".mrml")]
    text = (rig.folder / sceneFile).read_text(encoding="utf-8")
    referenced = [unquote(name) for name in re.findall(r'fileName="([^"]+)"', text)]
    assert referenced and all((rig.folder / name).exists() for name in referenced)
    # As after a plain save, the storage nodes now point at the data files the dialog wrote; nothing else changed.
    assert [difference for difference in rig.stateAtClick.differences() if difference[0] != "storage"] == []


def _rowOf(dialog, node):
    return next(
        row for row in range(1, dialog.fileWidget.rowCount()) if dialog.fileWidget.item(row, 4).text() == node.GetName()
    )


def test_a_ticked_mrml_save_that_would_rename_files_it_does_not_write_is_refused(rig):
    """The user unchecks the row of a volume named after the patient: the .mrml would refer to its file under a
    new name that nothing writes. Refused, and every row is as the user left it."""
    volume = rig.sample.volumes[2]  # "<patient ID> arterial"
    names = []

    def uncheck(dialog):
        dialog.fileWidget.item(_rowOf(dialog, volume), 0).setCheckState(qt.Qt.Unchecked)
        names.append([dialog.fileWidget.item(row, 0).text() for row in range(dialog.fileWidget.rowCount())])

    def namesAfter():
        names.append([rig.dialog.fileWidget.item(row, 0).text() for row in range(rig.dialog.fileWidget.rowCount())])

    rig.util.errorDisplay = lambda text, windowTitle=None: (rig.util.boxes.append((windowTitle, text)), namesAfter())
    assert not rig.saveThroughDialog(bundle=False, configure=uncheck)
    assert rig.written() == [] and rig.stateAtClick.differences() == []
    ((title, text),) = rig.util.boxes
    assert title == "Scene not saved" and ".mrml save cannot rename data files" in text and "1CT1" not in text
    assert names[0] == names[1] and any("1CT1" in name for name in names[0])


def test_the_bracket_holds_through_the_nested_overwrite_question(rig):
    assert rig.saveThroughDialog()
    seen = []
    rig.dialog.duringQuestion = lambda: seen.append(session.activeSession(rig.scene) is not None)
    assert rig.saveThroughDialog()  # the same file again: Slicer asks whether to replace it
    assert seen == [True]  # stripped while the nested event loop ran
    (written,) = rig.written()
    assert leakScan(str(rig.folder / written), rig.sample.phiValues) == []
    assert rig.stateAtClick.differences() == [] and session.activeSession(rig.scene) is None


def test_a_failed_save_restores_the_scene(rig):
    rig.io.failSceneWrite = True
    assert not rig.saveThroughDialog()
    assert rig.written() == [] and rig.dialog.accepts == 1
    assert rig.stateAtClick.differences() == [] and session.activeSession(rig.scene) is None


def test_cancel_and_close_never_leave_the_scene_stripped(rig):
    rig.stateAtClick = LiveState(rig.scene)
    rig.dialog.buttonBox.button(qt.QDialogButtonBox.Cancel).click()
    assert rig.dialog.accepts == 0 and rig.stateAtClick.differences() == []
    # A bracket left open (accept() never reached) is ended when the dialog finishes.
    rig.hookUi.checkBox.setChecked(True)
    rig.hookUi.onClicked(rig.dialog.buttonBox.button(qt.QDialogButtonBox.Save))
    assert session.activeSession(rig.scene) is not None
    rig.dialog.done(0)
    assert session.activeSession(rig.scene) is None and rig.stateAtClick.differences() == []


def _breakTheStrip(monkeypatch, kind):
    if kind == "strip":

        def broken(scene, policy):
            raise RuntimeError("simulated failure")

        monkeypatch.setattr(session, "_plannedSites", broken)


class RaisingWarn:
    def __init__(self):
        self.calls = []

    def __call__(self, title, text):
        self.calls.append((title, text))
        raise RuntimeError("no main window")


class SpinningWarn(RaisingWarn):
    def __call__(self, title, text):
        self.calls.append((title, text))
        for _ in range(5):
            QApplication.processEvents()


@pytest.mark.parametrize("warnKind", ["modal errorDisplay", RaisingWarn, SpinningWarn])
def test_a_refused_save_never_reaches_accept_whatever_the_warning_does(rig, monkeypatch, caplog, warnKind):
    if warnKind != "modal errorDisplay":
        rig.hookUi.warn = warnKind()
    calls = rig.util.boxes if warnKind == "modal errorDisplay" else rig.hookUi.warn.calls
    _breakTheStrip(monkeypatch, "strip")
    assert not rig.saveThroughDialog()
    assert rig.dialog.accepts == 0 and rig.written() == []
    assert len(calls) == 1 and "nothing was saved" in calls[0][1] and rig.stateAtClick.differences() == []
    if warnKind is RaisingWarn:
        assert "nothing was saved" in caplog.text
    monkeypatch.undo()
    assert rig.saveThroughDialog()  # unblocked again: the next save goes through, anonymized
    (written,) = rig.written()
    assert leakScan(str(rig.folder / written), rig.sample.phiValues) == []


def test_a_value_the_strip_missed_is_cleaned_and_the_user_told_after_the_save(rig, monkeypatch):
    named = rig.sample.volumes[2]
    withoutSites(monkeypatch, lambda site: site.place == f"node {named.GetID()} name")
    shown = []
    rig.check.notify = lambda message: shown.append((message, session.activeSession(rig.scene) is None))
    assert rig.saveThroughDialog()
    assert len(rig.written()) == 1, shown
    (written,) = rig.written()
    assert leakScan(str(rig.folder / written), rig.sample.phiValues) == []
    ((message, afterTheSave),) = shown
    assert afterTheSave and "cleaned in place" in message and "1CT1" not in message


def test_every_save_mode_ticks_and_locks_the_box(rig, settings):
    settings.setMode(EVERY_SAVE)
    rig.hookUi.refresh()
    assert rig.hookUi.checkBox.isChecked() and not rig.hookUi.checkBox.isEnabled()
    assert "Every scene save is anonymized" in rig.hookUi.checkBox.toolTip()
    settings.setMode(SHARED_COPIES_ONLY)
    rig.hookUi.refresh()
    assert not rig.hookUi.checkBox.isChecked() and rig.hookUi.checkBox.isEnabled()


def test_former_settings_map_to_the_new_modes(tmp_path):
    user = qt.QSettings(str(tmp_path / "user.ini"), qt.QSettings.IniFormat)
    for former, mode in (("Off", SHARED_COPIES_ONLY), ("Ask", SHARED_COPIES_ONLY), ("Always", EVERY_SAVE)):
        user.setValue(policySettings.MODE_KEY, former)
        assert PolicySettings(user, environment={}).mode() == mode


def test_the_environment_and_the_shared_settings_lock_every_save(tmp_path):
    user = qt.QSettings(str(tmp_path / "user.ini"), qt.QSettings.IniFormat)
    locked = PolicySettings(user, environment={"SLICER_ANONYMIZE_ON_SAVE": "always"})
    assert locked.mode() == EVERY_SAVE and "SLICER_ANONYMIZE_ON_SAVE" in locked.lockReason()
    with pytest.raises(PermissionError):
        locked.setMode(SHARED_COPIES_ONLY)
    shared = qt.QSettings(str(tmp_path / "shared.ini"), qt.QSettings.IniFormat)
    shared.setValue(policySettings.FORCE_KEY, "EverySave")
    administered = PolicySettings(user, shared, environment={})
    assert administered.isLocked() and administered.mode() == EVERY_SAVE
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


def test_the_recognisers_setting_chooses_where_they_run(settings):
    """Off for working saves and on for shared copies by default (the policy leaves it to its caller)."""
    assert settings.recognisers() == "SharedCopies" and settings.policy().recognisers is None
    settings.setRecognisers("EverySave")
    assert settings.policy().recognisers is True
    settings.setRecognisers("Never")
    assert settings.policy().recognisers is False and settings.policy().withRecognisers().recognisers is False
    settings.user.setValue("AnonymizeOnSave/Recognisers", "Sometimes")
    with pytest.raises(PolicyError, match="AnonymizeOnSave/Recognisers"):
        settings.policy()


@pytest.fixture
def wrapped(application, settings):
    sample = buildSampleScene()
    hook = installSaveHook(sample.scene)
    hook.enabled = False
    util = StandInUtil(sample.scene)
    check = PostSaveCheck(sample.scene, settings, util.warningDisplay)
    util.ioManager.fileSaved.connect(check.onFileSaved)
    original = util.saveScene
    unwrap = wrapSaveScene(util, sample.scene, hook, settings, check)
    yield sample, util, original, unwrap, hook
    unwrap()
    hook.remove()


def test_the_wrapper_keeps_signature_docstring_and_return_value(wrapped, tmp_path):
    _, util, original, unwrap, _ = wrapped
    assert inspect.signature(util.saveScene) == inspect.signature(original)
    assert util.saveScene.__doc__ == original.__doc__ and util.saveScene.__name__ == "saveScene"
    assert util.saveScene(str(tmp_path / "a.mrb"), {"screenShot": "kept"}) is True
    assert util.calls[-1] == (str(tmp_path / "a.mrb"), {"screenShot": "kept"})  # passed on, without "anonymize"
    (tmp_path / "file").write_text("")
    assert util.saveScene(str(tmp_path / "file" / "b.mrb")) is False  # a folder that cannot be created
    unwrap()
    assert util.saveScene == original


def test_scripted_saves_stay_plain_unless_they_ask_or_every_save_is_anonymized(wrapped, settings, tmp_path):
    sample, util, *_ = wrapped
    before = LiveState(sample.scene)
    assert util.saveScene(str(tmp_path / "scripted.mrb"))  # another extension's save: never anonymized silently
    assert leakScan(str(tmp_path / "scripted.mrb"), sample.phiValues)
    assert util.saveScene(str(tmp_path / "asked.mrb"), {"anonymize": True})
    assert leakScan(str(tmp_path / "asked.mrb"), sample.phiValues) == []
    settings.setMode(EVERY_SAVE)
    assert util.saveScene(str(tmp_path / "every.mrb"))
    assert leakScan(str(tmp_path / "every.mrb"), sample.phiValues) == []
    assert util.saveScene(str(tmp_path / "refusedplain.mrb"), {"anonymize": False})  # not locked: allowed
    assert before.differences() == []


def test_a_wrapped_mrml_save_refuses_to_rename_data_files(wrapped, tmp_path, caplog):
    sample, util, *_ = wrapped
    volume = sample.volumes[2]
    volume.AddDefaultStorageNode()
    volume.GetStorageNode().SetFileName(str(tmp_path / f"{volume.GetName()}.nrrd"))
    before = LiveState(sample.scene)
    assert util.saveScene(str(tmp_path / "scene.mrml"), {"anonymize": True}) is False
    assert not (tmp_path / "scene.mrml").exists() and before.differences() == []
    assert ".mrml save cannot rename data files" in caplog.text and "1CT1" not in caplog.text


def test_the_wrapper_refuses_a_plain_save_under_a_locked_policy(wrapped, tmp_path, caplog):
    sample, _, _, _, hook = wrapped
    locked = PolicySettings(qt.QSettings(str(tmp_path / "l.ini"), qt.QSettings.IniFormat), environment={})
    locked.environment = {"SLICER_ANONYMIZE_ON_SAVE": "always"}
    util2 = StandInUtil(sample.scene)
    unwrap = wrapSaveScene(util2, sample.scene, hook, locked)
    try:
        with caplog.at_level(logging.ERROR):
            assert util2.saveScene(str(tmp_path / "refused.mrb"), {"anonymize": False}) is False
        assert not util2.calls and not os.path.exists(tmp_path / "refused.mrb")
        assert "locked" in caplog.text
        assert util2.saveScene(str(tmp_path / "forced.mrb"))
        assert leakScan(str(tmp_path / "forced.mrb"), sample.phiValues) == []
    finally:
        unwrap()


def _checkUnderLockedEverySave(tmp_path):
    """A sample scene and the post-save check under a locked Every save; shown collects what the user is told."""
    sample = buildSampleScene()
    settings = PolicySettings(
        qt.QSettings(str(tmp_path / "s.ini"), qt.QSettings.IniFormat),
        environment={"SLICER_ANONYMIZE_ON_SAVE": "always"},
    )
    shown = []
    return sample, PostSaveCheck(sample.scene, settings, shown.append), shown


def test_under_every_save_an_unbracketed_scene_file_is_cleaned(application, tmp_path):
    sample, check, shown = _checkUnderLockedEverySave(tmp_path)
    folder = tmp_path / pathlib.Path(sample.phiValues[1])  # a folder named after the patient ID
    folder.mkdir()
    leaked = folder / "leaked.mrb"
    assert saveScene(sample.scene, str(leaked), anonymize=False)  # a path nobody brackets
    check.onFileSaved({"fileName": str(leaked), "fileType": "SceneFile"})
    assert leakScan(str(leaked), sample.phiValues) == []
    assert len(shown) == 1 and "cleaned in place" in shown[0]
    assert all(value not in shown[0] for value in sample.phiValues)
    check.onFileSaved({"fileName": str(leaked)})  # already clean: nothing to say
    assert len(shown) == 1


def test_a_dialog_save_the_verification_cannot_clean_is_deleted_and_the_user_told_after(rig):
    addSingletonParameterNode(rig.scene, "Notes_CompressedSamples_CT1")  # IDs are never rewritten
    shown = []
    rig.check.notify = lambda message: shown.append((message, session.activeSession(rig.scene) is None))
    rig.saveThroughDialog()
    assert rig.written() == []
    ((message, afterTheSave),) = shown
    assert afterTheSave and "was deleted" in message and "CompressedSamples" not in message


def test_under_every_save_an_unbracketed_file_that_cannot_be_cleaned_is_deleted(application, tmp_path):
    _, check, shown = _checkUnderLockedEverySave(tmp_path)
    leaked = tmp_path / "leaked.mrml"
    leaked.write_text('<?xml version="1.0"?>\n<!DOCTYPE MRML [<!ENTITY pn "DOE">]>\n<MRML/>\n', encoding="utf-8")
    check.onFileSaved({"fileName": str(leaked)})
    assert not leaked.exists() and len(shown) == 1 and "could not be cleaned" in shown[0]
    check.onFileSaved({})  # no file name: nothing to check
    check.onFileSaved({"fileName": str(tmp_path / "data.nrrd")})  # not a scene file, nothing bracketed
    assert len(shown) == 1
