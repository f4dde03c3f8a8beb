"""AnonymizeOnSave.py itself, run in a stand-in Slicer (slicerApplication.py): startup and late installation, the
Save dialog box, the File menu action, the settings and module panels, uninstall at exit, and the module's own
ScriptedLoadableModuleTest cases. This proves the module's wiring against stand-ins written from Slicer's source,
not against the real application."""

import importlib
import os
import shutil
import types

from dicomScenes import leakScan
from PySide6.QtWidgets import QApplication


def _module(app):
    """Import AnonymizeOnSave.py as Slicer does and create the module with its parent."""
    import AnonymizeOnSave

    module = importlib.reload(AnonymizeOnSave)
    parent = types.SimpleNamespace()
    module.AnonymizeOnSave(parent)
    return module, parent


def _process():
    for _ in range(5):
        QApplication.processEvents()


def test_startup_installs_the_box_the_menu_action_the_panel_and_the_check(app):
    module, parent = _module(app)
    assert parent.title == "Anonymize On Save" and "Utilities" in parent.categories
    logic = module.AnonymizeOnSaveLogic.instance()
    assert not logic.installed  # modules are created before the main window: nothing until startup completes
    app.startupCompleted.emit()
    assert logic.installed and logic.dialogHook is not None
    assert logic.dialogHook.checkBox.parent() is app.dialog
    actions = [action.objectName for action in app.fileMenu.actions()]
    assert actions.index("AnonymizeOnSaveShareAction") == actions.index("FileSaveSceneAction") + 1
    assert [label for label, _ in app.settingsDialog().panels] == ["Anonymize On Save"]
    app.startupCompleted.emit()  # installing twice changes nothing
    assert [a.objectName for a in app.fileMenu.actions()].count("AnonymizeOnSaveShareAction") == 1
    app.aboutToQuit.emit()
    assert not logic.installed and logic.dialogHook is None
    assert "AnonymizeOnSaveShareAction" not in [action.objectName for action in app.fileMenu.actions()]


def test_a_module_loaded_after_startup_installs_at_once(app):
    app.mainWindow.show()
    module, _ = _module(app)
    _process()
    assert module.AnonymizeOnSaveLogic.instance().installed
    app.mainWindow.hide()


def test_a_missing_save_dialog_is_said_in_the_log(app, caplog):
    app.dialog.setObjectName("somethingElse")
    module, _ = _module(app)
    app.startupCompleted.emit()
    assert module.AnonymizeOnSaveLogic.instance().dialogHook is None
    assert "Save dialog was not found" in caplog.text


def test_the_modules_own_slicer_tests_pass(app):
    module, _ = _module(app)
    app.startupCompleted.emit()
    test = module.AnonymizeOnSaveTest()
    test.runTest()
    assert app.boxes == []  # no error shown during the module's own tests


def test_the_policy_combo_box_the_key_buttons_and_the_lock(app, monkeypatch):
    module, _ = _module(app)
    app.startupCompleted.emit()
    logic = module.AnonymizeOnSaveLogic.instance()
    panel = app.settingsDialog().panel("Anonymize On Save")
    from PySide6.QtWidgets import QComboBox, QInputDialog, QPushButton

    comboBox = panel.modeComboBox
    assert panel.findChildren(QComboBox) == [comboBox, panel.recognisersComboBox]
    assert comboBox.currentIndex == 0 and comboBox.enabled and "working" in comboBox.itemText(0).lower()
    comboBox.currentIndex = 1
    assert logic.settings.mode() == "EverySave" and logic.hook.enabled and logic.dialogHook.checkBox.checked
    comboBox.currentIndex = 0
    assert not logic.hook.enabled and not logic.dialogHook.checkBox.checked
    copy, setKey = panel.findChildren(QPushButton)
    copy.click()
    assert QApplication.clipboard().text() == logic.settings.key()
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *arguments: "team key"))
    setKey.click()
    assert logic.settings.key() == "team key"
    monkeypatch.setenv("SLICER_ANONYMIZE_ON_SAVE", "always")
    locked = module.policyComboBox(logic.settings, logic.setMode)
    assert not locked.enabled and "SLICER_ANONYMIZE_ON_SAVE" in locked.toolTip


def _loadSample(module):
    test = module.AnonymizeOnSaveTest()
    test.setUp()
    return test, test.loadSample()


def test_the_module_panel_shares_scans_and_cleans(app, tmp_path, monkeypatch):
    module, _ = _module(app)
    app.startupCompleted.emit()
    test, values = _loadSample(module)
    widget = module.AnonymizeOnSaveWidget()
    widget.setup()
    widget.enter()
    assert widget.ui.lastSaveLabel.text == "No anonymized save yet in this session."
    from PySide6.QtWidgets import QFileDialog

    shared = str(tmp_path / "shared")  # the user types no extension: .mrb is added
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *arguments: shared))
    widget.ui.shareButton.click()
    _process()
    assert leakScan(shared + ".mrb", values) == [] and "checked" in app.boxes[-1][1]
    widget.enter()
    assert "patient names" in widget.ui.lastSaveLabel.text
    plain = str(tmp_path / "plain.mrb")
    assert module.slicer.util.saveScene(plain)  # a working save: plain under the default policy
    assert leakScan(plain, values)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *arguments: plain))
    widget.ui.scanButton.click()
    assert "Patient data found" in widget.ui.resultLabel.text
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *arguments: str(tmp_path / "c.mrb")))
    widget.ui.cleanButton.click()
    assert leakScan(str(tmp_path / "c.mrb"), values) == [] and "Written" in widget.ui.resultLabel.text
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *arguments: str(tmp_path / "c.mrb")))
    widget.ui.scanButton.click()
    assert widget.ui.resultLabel.text == "No patient data found."
    broken = tmp_path / "broken.mrb"
    broken.write_bytes(b"not a zip")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *arguments: str(broken)))
    widget.ui.scanButton.click()
    assert widget.ui.resultLabel.text.startswith("Cannot scan")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *arguments: str(tmp_path / "d.mrb")))
    widget.ui.cleanButton.click()
    assert widget.ui.resultLabel.text.startswith("Cannot clean")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *arguments: ""))
    widget.ui.scanButton.click()
    widget.ui.cleanButton.click()  # cancelled: nothing happens
    shutil.rmtree(test.folder, ignore_errors=True)


def test_a_shared_copy_that_cannot_be_written_says_so(app, tmp_path, monkeypatch):
    module, _ = _module(app)
    app.startupCompleted.emit()
    _loadSample(module)
    from PySide6.QtWidgets import QFileDialog

    missing = str(tmp_path / "missing" / "shared.mrb")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *arguments: missing))
    next(action for action in app.fileMenu.actions() if action.objectName == "AnonymizeOnSaveShareAction").trigger()
    _process()
    assert app.boxes and app.boxes[-1][0] == "Copy not saved" and not os.path.exists(missing)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *arguments: ""))
    module.AnonymizeOnSaveLogic.instance().shareInteractively()  # cancelled: nothing happens


def test_corner_annotations_are_cleared_while_the_dialog_saves_and_put_back(app, tmp_path):
    module, _ = _module(app)
    app.startupCompleted.emit()
    _, values = _loadSample(module)
    views = app.layoutManager().views
    for view in views.values():
        view.annotation.SetText(2, "CompressedSamples^CT1 (1CT1)")  # DataProbe's patient corner
    seen = []
    logic = module.AnonymizeOnSaveLogic.instance()
    realHide = logic.dialogHook.annotations.hide

    def hide():
        realHide()
        seen.append([view.annotation.GetText(2) for view in views.values()])

    logic.dialogHook.annotations.hide = hide

    def user():
        app.dialog.dataBundleButton.click()
        logic.dialogHook.checkBox.checked = True
        app.dialog.fileWidget.item(0, 0).setText("dialog.mrb")
        app.dialog.buttonBox.button(app.dialog.buttonBox.StandardButton.Save).click()

    app.dialog.whileOpen = user
    assert module.slicer.util.openSaveDataDialog()
    assert seen == [["", "", ""]]
    assert all(view.annotation.GetText(2) == "CompressedSamples^CT1 (1CT1)" for view in views.values())
    assert leakScan(os.path.join(app.folder, "dialog.mrb"), values) == []


def test_notify_and_warn_show_boxes_and_log(app, caplog):
    module, _ = _module(app)
    module.AnonymizeOnSaveLogic.notify("a note")
    module.AnonymizeOnSaveLogic.warn("A title", "a warning")
    assert app.boxes[-2:] == [("Anonymize On Save", "a note"), ("A title", "a warning")]
    app.commandOptions().noMainWindow = True
    module.AnonymizeOnSaveLogic.notify("headless")
    assert app.boxes[-1][1] != "headless" and "headless" in caplog.text
