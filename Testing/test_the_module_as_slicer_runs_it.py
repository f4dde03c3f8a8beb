"""AnonymizeOnSave.py in the stand-in Slicer (slicerApplication.py) through the flows Slicer really takes: modules
unloaded before extensions see aboutToQuit, a default-settings INI read back as a list, settings that cannot be
read, "anonymize" asked of the I/O manager directly, a Reload in developer mode, the settings dialog's Reset.
Proven against stand-ins written from Slicer's source, not in Slicer."""

import importlib
import logging
import os
import types

import pytest
import slicer
import slicerI18n
from dicomScenes import leakScan
from PySide6.QtWidgets import QCheckBox
from slicerApplication import slicerApplication

from AnonymizeOnSaveLib import saveHook


@pytest.fixture
def folder(qtApplication, tmp_path, monkeypatch):
    monkeypatch.delenv("SLICER_ANONYMIZE_ON_SAVE", raising=False)
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    return str(tmp_path)


def _started(app):
    """The module created as Slicer creates it, then startup completes; returns (module, logic)."""
    import AnonymizeOnSave

    module = importlib.reload(AnonymizeOnSave)
    module.AnonymizeOnSave(types.SimpleNamespace())
    app.startupCompleted.emit()
    return module, module.AnonymizeOnSaveLogic.instance()


def _loaded(module):
    test = module.AnonymizeOnSaveTest()
    test.setUp()
    return test.loadSample()


def test_exit_after_the_data_module_was_unloaded_undoes_everything_without_an_error(folder, caplog):
    with slicerApplication(folder) as app:
        original = slicer.util.saveScene
        module, logic = _started(app)
        values = _loaded(module)
        assert module.slicer.util.saveScene is not original
        with caplog.at_level(logging.ERROR):
            app.aboutToQuit.emit()  # the dialog is deleted first, as qSlicerCoreApplication::onAboutToQuit does
        assert app.dialog is None and not logic.installed
        assert "uninstalling" not in caplog.text and not [r for r in caplog.records if r.exc_info]
        assert module.slicer.util.saveScene is original
        assert saveHook._hooks.get(module.slicer.mrmlScene.__this__, []) == []
        plain = os.path.join(folder, "after.mrml")
        app.ioManager.sceneWriterRegistered = True
        assert app.ioManager.saveNodes("SceneFile", {"fileName": plain, "anonymize": True})
        assert leakScan(plain, values)  # nothing of ours is connected any more


def test_a_retain_list_from_the_default_settings_is_read(folder):
    with slicerApplication(folder, {"AnonymizeOnSave/Retain": "longitudinalDates,descriptions"}) as app:
        assert isinstance(app.userSettings().value("AnonymizeOnSave/Retain"), list)  # as QSettings reads it
        _, logic = _started(app)
        assert logic.installed and logic.hook.refusal is None
        assert logic.hook.policy.retain == {"longitudinalDates", "descriptions"}


@pytest.mark.parametrize("locked", [False, True], ids=["shared copies only", "locked every save"])
def test_settings_that_cannot_be_read_refuse_every_anonymized_save_and_say_why(folder, monkeypatch, locked):
    if locked:
        monkeypatch.setenv("SLICER_ANONYMIZE_ON_SAVE", "always")
    with slicerApplication(folder, {"AnonymizeOnSave/Retain": "longitudinalDates,everything"}) as app:
        module, logic = _started(app)
        assert logic.installed and logic.dialogHook is not None and logic.shareAction is not None
        ((title, text),) = app.boxes  # said once, at startup
        assert title == "Anonymize On Save settings" and "cannot be read" in text and "AnonymizeOnSave/Retain" in text
        values = _loaded(module)
        util = module.slicer.util
        asked = os.path.join(folder, "asked.mrb")
        assert util.saveScene(asked, {"anonymize": True}) is False and not os.path.exists(asked)
        plain = os.path.join(folder, "plain.mrb")
        assert util.saveScene(plain) is not locked  # locked: every save must be anonymized, so none is written
        assert os.path.exists(plain) is not locked
        direct = os.path.join(folder, "direct.mrb")
        app.ioManager.saveNodes("SceneFile", {"fileName": direct})  # a writer nobody brackets
        assert os.path.exists(direct) is not locked
        if locked:
            assert any("deleted" in box[1] for box in app.boxes)
        else:
            assert leakScan(direct, values) and leakScan(plain, values)  # plain saves, as the policy allows


def test_anonymize_asked_of_the_io_manager_or_an_earlier_reference_is_honoured(folder):
    with slicerApplication(folder) as app:
        earlier = slicer.util.saveScene  # taken before the module installed its wrapper
        module, _ = _started(app)
        values = _loaded(module)
        direct = os.path.join(folder, "direct.mrb")
        assert app.ioManager.saveNodes("SceneFile", {"fileName": direct, "anonymize": True})
        assert leakScan(direct, values) == [] and "cleaned in place" in app.boxes[-1][1]
        scripted = os.path.join(folder, "scripted.mrml")
        assert earlier(scripted, {"anonymize": True})
        assert leakScan(scripted, values) == []
        assert all(value not in box[1] for box in app.boxes for value in values)


def test_a_reload_leaves_one_of_everything(folder):
    with slicerApplication(folder) as app:
        _, firstLogic = _started(app)
        module, logic = _started(app)  # Reload re-executes the module file; its test installs again
        logic.install()
        assert logic is not firstLogic and logic.installed and not firstLogic.installed
        assert len(app.dialog.findChildren(QCheckBox, "AnonymizeOnSaveCheckBox")) == 1
        actions = [action.objectName for action in app.fileMenu.actions()]
        assert actions.count("AnonymizeOnSaveShareAction") == 1
        assert [label for label, _ in app.settingsDialog().panels] == ["Anonymize On Save"]
        assert len(saveHook._hooks.get(module.slicer.mrmlScene.__this__, [])) == 1
        assert module.slicer.util.saveScene.__wrapped__.__name__ == "saveScene"
        assert not hasattr(module.slicer.util.saveScene.__wrapped__, "__wrapped__")  # wrapped once
        panel = app.settingsDialog().panel("Anonymize On Save")
        panel.modeComboBox.currentIndex = 1
        assert logic.settings.mode() == "EverySave" and logic.hook.enabled  # the new logic drives the old panel


def test_the_settings_dialog_reset_and_both_panels_agree(folder):
    with slicerApplication(folder) as app:
        module, logic = _started(app)
        widget = module.AnonymizeOnSaveWidget()
        widget.setup()
        panel = app.settingsDialog().panel("Anonymize On Save")
        (moduleComboBox,) = [box for box in logic.policyComboBoxes if box is not panel.modeComboBox]
        panel.modeComboBox.currentIndex = 1
        assert moduleComboBox.currentIndex == 1 and logic.hook.enabled and logic.dialogHook.checkBox.checked
        app.settingsDialog().reset()  # the value when the dialog opened
        assert logic.settings.mode() == "SharedCopiesOnly" and moduleComboBox.currentIndex == 0
        assert not logic.hook.enabled and not logic.dialogHook.checkBox.checked
        moduleComboBox.currentIndex = 1
        assert panel.modeComboBox.currentIndex == 1
        app.settingsDialog().restoreDefaults()
        assert logic.settings.mode() == "SharedCopiesOnly"


def test_the_settings_panel_says_where_the_recognisers_run(folder):
    with slicerApplication(folder) as app:
        _, logic = _started(app)
        panel = app.settingsDialog().panel("Anonymize On Save")
        assert logic.settings.recognisers() == "SharedCopies" and panel.recognisersComboBox.currentIndex == 0
        assert "MRN" in panel.recognisersComboBox.toolTip
        panel.recognisersComboBox.currentIndex = 2
        assert logic.settings.recognisers() == "Never" and logic.settings.policy().recognisers is False
        panel.recognisersComboBox.currentIndex = 1
        assert logic.settings.policy().recognisers is True
        app.settingsDialog().restoreDefaults()
        assert logic.settings.recognisers() == "SharedCopies" and logic.settings.policy().recognisers is None


def test_a_recognisers_setting_no_choice_shows_is_refused_not_guessed(folder):
    with slicerApplication(folder) as app:
        module, logic = _started(app)
        logic.settings.user.setValue(module.RECOGNISERS_KEY, "Sometimes")
        assert module.recognisersComboBox(logic.settings).currentIndex == -1
        with pytest.raises(module.PolicyError, match="Recognisers"):
            logic.settings.policy()


def test_messages_are_logged_once_and_translated_where_lupdate_finds_them(folder, caplog):
    with slicerApplication(folder) as app:
        _, logic = _started(app)
        with caplog.at_level(logging.WARNING):
            logic.notify("a note for the user")
        assert caplog.text.count("a note for the user") == 1
        app.testing = True  # slicer.util shows no box in testing mode; the message is still logged
        shown = len(app.boxes)
        with caplog.at_level(logging.WARNING):
            logic.warn("A title", "a warning while testing")
        assert len(app.boxes) == shown and "a warning while testing" in caplog.text
        contexts = {context for context, text in slicerI18n.translations if text == "Anonymize subject hierarchy"}
        assert contexts == {"AnonymizeOnSaveGlue.saveDialogHook"}


def test_without_the_data_module_the_log_says_what_does_not_work(folder, caplog):
    with slicerApplication(folder) as app:
        app.unloadModules()
        _, logic = _started(app)
        assert logic.installed and logic.dialogHook is None
        assert "slicer.util.saveScene" in caplog.text and "still work" not in caplog.text.split("saveScene")[1][:40]
