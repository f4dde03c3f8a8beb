import logging
import os
import shutil
import zipfile

import ctk
import qt
import slicer
import vtk
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)

from AnonymizeOnSaveGlue import installation
from AnonymizeOnSaveGlue.policySettings import (
    EVERY_SAVE,
    MODE_KEY,
    MODES,
    RECOGNISERS_KEY,
    SHARED_COPIES_ONLY,
    PolicySettings,
)
from AnonymizeOnSaveGlue.postSaveCheck import PostSaveCheck
from AnonymizeOnSaveGlue.saveDialogHook import SaveDialogHook, findSaveDialog
from AnonymizeOnSaveGlue.utilWrapper import wrapSaveScene
from AnonymizeOnSaveLib import PolicyError, installSaveHook, lastReport, saveSharedCopy, setAuditLog
from AnonymizeOnSaveLib.sceneFiles import SceneFileError, cleanPath, scanPath

#
# AnonymizeOnSave
#


class AnonymizeOnSave(ScriptedLoadableModule):
    """Anonymize the subject hierarchy whenever a scene is saved, and put it back right after."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("Anonymize On Save")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Utilities")]
        self.parent.contributors = ["AnonymizeOnSave developers"]
        self.parent.helpText = _(
            "Saves scenes without patient data: names, IDs, birth dates, study and series details, DICOM UIDs and "
            "dates are replaced following DICOM PS3.15 while the scene is written, and put back right after, so "
            "the session and its link to the DICOM database are unchanged. Also scans and cleans scene files that "
            "were already saved."
        )
        self.parent.acknowledgementText = _("Uses the DICOM PS3.15 Basic Application Level Confidentiality Profile.")
        # At startup, modules are created before the main window: install once startup completes. A module loaded
        # later (enabled in the settings, the Extension Wizard) never sees that signal: install right away.
        slicer.app.connect("startupCompleted()", installLogic)
        if slicer.util.mainWindow() is not None and slicer.util.mainWindow().isVisible():
            qt.QTimer.singleShot(0, installLogic)


def installLogic():
    AnonymizeOnSaveLogic.instance().install()


#
# AnonymizeOnSaveLogic
#


class CornerAnnotations:
    """Hides the slice views' corner annotations (DataProbe shows patient name and ID there) while a save
    grabs the MRB thumbnail, and puts them back."""

    def __init__(self):
        self._saved = []

    def hide(self):
        layoutManager = slicer.app.layoutManager()
        if layoutManager is None:
            return
        for name in layoutManager.sliceViewNames():
            view = layoutManager.sliceWidget(name).sliceView()
            annotation = view.cornerAnnotation()
            self._saved.append((view, [annotation.GetText(corner) for corner in range(8)]))
            annotation.ClearAllTexts()
            view.forceRender()

    def restore(self):
        saved, self._saved = self._saved, []
        for view, texts in saved:
            annotation = view.cornerAnnotation()
            for corner, text in enumerate(texts):
                annotation.SetText(corner, text or "")
            view.forceRender()


class AnonymizeOnSaveLogic(ScriptedLoadableModuleLogic):
    """Installs the save hook on the application's scene and wires it to every save entry point."""

    _instance = None

    @classmethod
    def instance(cls):
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)
        self.settings = PolicySettings(slicer.app.userSettings(), slicer.app.defaultSettings())
        self.hook = None
        self.dialogHook = None
        self.postSaveCheck = None
        self.shareAction = None
        self.dicomImportAction = None
        self.settingsPanel = None
        self.policyComboBoxes = []
        self._unwrap = None
        self.installed = False

    def install(self):
        """Everything, at startup (also with --no-main-window), without the module panel ever being opened. An
        installation from before a Reload is replaced. Each part installs on its own: one that fails is said,
        the others still work."""
        if self.installed:
            return
        installation.replace(self)
        scene = slicer.mrmlScene
        self.hook = installSaveHook(scene)
        self.postSaveCheck = PostSaveCheck(scene, self.settings, self.notify)
        self.policyChanged()
        settingsFolder = os.path.dirname(slicer.app.slicerUserSettingsFilePath)
        setAuditLog(os.path.join(settingsFolder, "AnonymizeOnSave-audit.jsonl"))
        slicer.app.coreIOManager().connect("fileSaved(qSlicerIO::IOProperties)", self.postSaveCheck.onFileSaved)
        self._unwrap = wrapSaveScene(slicer.util, scene, self.hook, self.settings, self.postSaveCheck)
        self._installDialogHook(scene)
        if not slicer.app.commandOptions().noMainWindow:
            self._installSettingsPanel()
            self.shareAction = addShareAction(self)
            self.dicomImportAction = addDicomImportAction(self)
            registerSubjectHierarchyPlugin()
            registerDicomExportPlugin()
        slicer.app.connect("aboutToQuit()", self.uninstall)
        self.installed = True
        if self.hook.refusal:
            self.warn(_("Anonymize On Save settings"), self.hook.refusal)

    def _installSettingsPanel(self):
        """A settings dialog panel cannot be removed: after a Reload the new logic takes over the one there is."""
        self.settingsPanel = installation.settingsPanel
        if self.settingsPanel is None:
            self.settingsPanel = installation.settingsPanel = AnonymizeOnSaveSettingsPanel(self)
            slicer.app.settingsDialog().addPanel(_("Anonymize On Save"), self.settingsPanel)
        self.settingsPanel.logic = self
        self.policyComboBoxes.append(self.settingsPanel.modeComboBox)

    def _installDialogHook(self, scene):
        dialog = findSaveDialog(slicer.app)
        if dialog is None:
            logging.warning(
                "AnonymizeOnSave: Slicer's Save dialog was not found (is the Data module disabled?): no scene can be "
                "saved from the dialog or with slicer.util.saveScene, which need its scene writer; the shared copy "
                "and the library's saveScene still work."
            )
            return
        try:
            self.dialogHook = SaveDialogHook(
                qt, dialog, scene, self.hook, self.settings, self.warn, self.postSaveCheck, CornerAnnotations()
            )
        except RuntimeError as error:
            logging.error("AnonymizeOnSave: no checkbox in the Save dialog: %s", error)

    def uninstall(self):
        """Undo everything install() did; at exit the Save dialog (the Data module's) may already be gone."""
        if not self.installed:
            return
        self.installed = False
        installation.release(self)
        steps = [
            lambda: self.dialogHook is not None and self.dialogHook.remove(),
            lambda: slicer.app.coreIOManager().disconnect(
                "fileSaved(qSlicerIO::IOProperties)", self.postSaveCheck.onFileSaved
            ),
            lambda: self.shareAction is not None and self.shareAction.parent().removeAction(self.shareAction),
            lambda: (
                self.dicomImportAction is not None
                and self.dicomImportAction.parent().removeAction(self.dicomImportAction)
            ),
            unregisterDicomExportPlugin,
            self._unwrap,
            self.hook.remove,
            lambda: setAuditLog(None),
        ]
        for step in steps:
            try:
                step()
            except Exception as error:  # the rest must still be undone
                logging.error("AnonymizeOnSave: uninstalling: %s", type(error).__name__)
        self.dialogHook = self.shareAction = self.dicomImportAction = None

    def setMode(self, mode):
        self.settings.setMode(mode)
        self.policyChanged()

    def policyChanged(self):
        """Apply the settings: the hook's policy (or, when the settings cannot be read, its refusal of every save
        it should anonymize), the Save dialog's box, and every policy combo box shown."""
        if self.hook is not None:
            try:
                self.hook.policy, self.hook.refusal = self.settings.policy(), None
            except PolicyError as error:
                self.hook.policy = None
                self.hook.refusal = _(
                    "the Anonymize On Save settings cannot be read, so nothing is saved that must be anonymized: "
                ) + str(error)
            self.hook.enabled = self.settings.mode() == EVERY_SAVE
        if self.dialogHook is not None:
            self.dialogHook.refresh()
        index = MODES.index(self.settings.mode())
        for comboBox in list(self.policyComboBoxes):
            try:
                if comboBox.currentIndex != index:
                    comboBox.currentIndex = index
            except RuntimeError:  # its panel was destroyed
                self.policyComboBoxes.remove(comboBox)

    def lastSaveSummary(self):
        report = lastReport(slicer.mrmlScene)
        return report.summaryLines() if report is not None else []

    def saveSharedCopy(self, path):
        """An anonymized, verified .mrb of the scene for sharing; the working scene keeps its files. Returns the
        report's lines, or None when nothing was written (the cause is logged)."""
        if not saveSharedCopy(slicer.mrmlScene, path, policy=self.settings.policy()):
            return None
        return self.lastSaveSummary()

    def shareInteractively(self, parent=None):
        """Ask for a .mrb name, write the shared copy, and say what was replaced."""
        path = qt.QFileDialog.getSaveFileName(
            parent or slicer.util.mainWindow(), _("Save anonymized copy for sharing"), "", _("Bundles (*.mrb)")
        )
        if not path:
            return
        if not path.lower().endswith(".mrb"):
            path += ".mrb"
        lines = self.saveSharedCopy(path)
        if lines is None:
            self.warn(_("Copy not saved"), _("The anonymized copy could not be written; see the log for the cause."))
        else:
            slicer.util.infoDisplay(
                _("Anonymized copy written and checked: {path}\n").format(path=path) + "\n".join(lines),
                windowTitle=_("Anonymize On Save"),
            )

    def importDicomAnonymized(self, folder):
        """De-identify the DICOM files under folder and import them into Slicer's DICOM database by copy (the
        database then holds only pseudonyms). Returns a databaseActions.Summary."""
        from DICOMLib import DICOMUtils

        from AnonymizeOnSaveLib.dicom.databaseActions import importAnonymized
        from AnonymizeOnSaveLib.dicom.dicomBatch import findFiles

        policy = self.settings.policy()
        with DialogProgress(len(findFiles([folder])), _("Importing DICOM files anonymized...")) as progress:
            return importAnonymized([folder], slicer.dicomDatabase, policy, DICOMUtils.importDicom, progress)

    def importDicomInteractively(self):
        """File > Import DICOM files anonymized...: a folder, then what was imported, in a message box."""
        folder = qt.QFileDialog.getExistingDirectory(
            slicer.util.mainWindow(), _("Folder of DICOM files to import anonymized")
        )
        if not folder:
            return
        try:
            summary = self.importDicomAnonymized(folder)
        except (PolicyError, OSError) as error:
            self.warn(_("Import DICOM anonymized"), dicomFailureText(error))
            return
        slicer.util.infoDisplay(
            dicomSummaryText(summary, _("Imported into the DICOM database")), windowTitle=_("Anonymize On Save")
        )

    def exportDicomInteractively(self, parent=None):
        """Export anonymized DICOM...: the items selected in the subject hierarchy, a folder, then a summary (in a
        message box; returned too, for the module panel)."""
        itemIds = vtk.vtkIdList()
        slicer.qSlicerSubjectHierarchyPluginHandler.instance().currentItems(itemIds)
        items = [itemIds.GetId(index) for index in range(itemIds.GetNumberOfIds())]
        if not items:
            return _("Select the patients, studies or series to export in the Data module first.")
        folder = qt.QFileDialog.getExistingDirectory(
            parent or slicer.util.mainWindow(), _("Empty folder for the anonymized DICOM files")
        )
        if not folder:
            return ""
        try:
            text = dicomSummaryText(self.exportDicomAnonymized(items, folder), _("Exported to ") + folder)
        except (PolicyError, OSError) as error:
            text = dicomFailureText(error)
        slicer.util.infoDisplay(text, windowTitle=_("Anonymize On Save"))
        return text

    def exportDicomAnonymized(self, itemIds, folder):
        """The original files of the series of these subject hierarchy items (patients, studies or series),
        de-identified with the key scenes are saved with, into folder. Returns a databaseActions.Summary."""
        from AnonymizeOnSaveLib.dicom.databaseActions import exportAnonymized, seriesFiles

        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        series = seriesOfItems(shNode, itemIds)
        policy, count = self.settings.policy(), len(seriesFiles(series, slicer.dicomDatabase))
        with DialogProgress(count, _("Exporting anonymized DICOM files...")) as progress:
            return exportAnonymized(series, slicer.dicomDatabase, folder, policy, progress)

    def scanFile(self, path):
        return scanPath(path, self.settings.policy())

    def cleanFile(self, source, destination):
        return cleanPath(source, destination, policy=self.settings.policy())

    @staticmethod
    def notify(message):
        """A warning, logged once (slicer.util logs it, and shows it when there is a main window and no testing)."""
        slicer.util.warningDisplay(message, windowTitle=_("Anonymize On Save"))

    @staticmethod
    def warn(title, message):
        slicer.util.errorDisplay(message, windowTitle=title)


#
# Settings panel (Application Settings)
#


class AnonymizeOnSaveSettingsPanel(ctk.ctkSettingsPanel):
    """The policy, registered with the settings dialog (its Reset and Restore Defaults apply to it), unless an
    administrator locked it; and the key. It outlives a Reload: the new logic takes it over."""

    def __init__(self, logic, *args, **kwargs):
        ctk.ctkSettingsPanel.__init__(self, *args, **kwargs)
        self.logic = logic
        layout = qt.QFormLayout(self)
        self.modeComboBox = policyComboBox(logic.settings, lambda mode: self.logic.setMode(mode))
        layout.addRow(_("Anonymize scene saves:"), self.modeComboBox)
        if not logic.settings.isLocked():
            self.registerProperty(
                MODE_KEY, self.modeComboBox, "currentUserDataAsString", str(qt.SIGNAL("currentIndexChanged(int)"))
            )
        self.recognisersComboBox = recognisersComboBox(logic.settings)
        layout.addRow(_("Find any date, UID, e-mail, phone:"), self.recognisersComboBox)
        self.registerProperty(
            RECOGNISERS_KEY,
            self.recognisersComboBox,
            "currentUserDataAsString",
            str(qt.SIGNAL("currentIndexChanged(int)")),
        )
        keyButton = qt.QPushButton(_("Copy the pseudonymization key"))
        keyButton.toolTip = _("Share it to give the same pseudonyms on another computer. Keep it secret.")
        keyButton.connect("clicked()", lambda: qt.QApplication.clipboard().setText(self.logic.settings.key()))
        layout.addRow(_("Key:"), keyButton)
        setKeyButton = qt.QPushButton(_("Set the key..."))
        setKeyButton.connect("clicked()", self.onSetKey)
        layout.addRow("", setKeyButton)

    def onSetKey(self):
        key = qt.QInputDialog.getText(self, _("Pseudonymization key"), _("Key shared by your team:"))
        if key:
            self.logic.settings.setKey(key)
            self.logic.policyChanged()


POLICY_LABELS = {
    SHARED_COPIES_ONLY: _("Shared copies only (working saves stay plain)"),
    EVERY_SAVE: _("Every save (working scenes lose their DICOM link)"),
}
POLICY_TOOLTIPS = {
    SHARED_COPIES_ONLY: _(
        "Your saves are written as they are, so a scene you reload keeps its link to the DICOM database. Share with "
        "File > Save anonymized copy for sharing, or tick 'Anonymize subject hierarchy' in the Save dialog for one "
        "save. Scripts and other extensions save plainly unless they ask for anonymization."
    ),
    EVERY_SAVE: _(
        "Every scene save is anonymized, from the Save dialog, scripts and other extensions alike. Reloading a "
        "scene saved this way does not link it back to the DICOM database."
    ),
}


RECOGNISERS_LABELS = {
    "SharedCopies": _("In shared copies (and scan, clean)"),
    "EverySave": _("In every anonymized save"),
    "Never": _("Never (only the values the scene holds)"),
}
RECOGNISERS_TOOLTIP = _(
    "Besides the values the scene's DICOM attributes hold, replace any date, DICOM UID, e-mail address and phone "
    "number typed anywhere, and any identifier under its label (a table column 'MRN', 'Accession #: ...' in a "
    "description): PS3.15 and HIPAA Safe Harbor remove them whoever typed them. Years, versions, sizes and "
    "measurements are left alone."
)


def recognisersComboBox(settings):
    """Where the recognisers run (PolicySettings.recognisers), each choice stored as it is made."""
    comboBox = ctk.ctkComboBox()
    for value, label in RECOGNISERS_LABELS.items():
        comboBox.addItem(label, value)
    try:
        comboBox.currentIndex = list(RECOGNISERS_LABELS).index(settings.recognisers())
    except PolicyError:  # a value no choice shows: saves refuse it (fail closed) until a choice is made here
        comboBox.currentIndex = -1
    comboBox.toolTip = RECOGNISERS_TOOLTIP
    comboBox.connect("currentIndexChanged(int)", lambda index: settings.setRecognisers(list(RECOGNISERS_LABELS)[index]))
    return comboBox


def _insertAfter(menu, action, objectName):
    """action in menu right after the action named objectName, or last when there is none. Returns action."""
    actions = menu.actions()
    index = next((i for i, a in enumerate(actions) if a.objectName == objectName), None)
    if index is not None and index + 1 < len(actions):
        menu.insertAction(actions[index + 1], action)
    else:
        menu.addAction(action)
    return action


def addShareAction(logic):
    """File > Save anonymized copy for sharing..., placed after Slicer's Save action (as SampleData places its own)."""
    try:
        fileMenu = slicer.util.lookupTopLevelWidget("FileMenu")
    except RuntimeError:
        logging.warning("AnonymizeOnSave: no File menu; the shared copy is in the module panel")
        return None
    action = qt.QAction(_("Save anonymized copy for sharing..."), fileMenu)
    action.setObjectName("AnonymizeOnSaveShareAction")
    action.toolTip = POLICY_TOOLTIPS[SHARED_COPIES_ONLY]
    action.connect("triggered()", lambda: logic.shareInteractively())
    return _insertAfter(fileMenu, action, "FileSaveSceneAction")


class DialogProgress:
    """A progress dialog (slicer.util.createProgressDialog) for a run over files: done(file) after each one; its
    Cancel button stops the run (KeyboardInterrupt, which the run turns into "canceled")."""

    def __init__(self, total, labelText):
        self.total, self.labelText, self.dialog = total, labelText, None

    def __enter__(self):
        self.dialog = slicer.util.createProgressDialog(maximum=max(self.total, 1), labelText=self.labelText)
        return self

    def done(self, _file):
        self.dialog.value = min(self.dialog.value + 1, self.dialog.maximum)
        slicer.app.processEvents()
        if self.dialog.wasCanceled:
            raise KeyboardInterrupt

    def __exit__(self, *exception):
        self.dialog.close()


def seriesOfItems(shNode, itemIds):
    """The DICOM series UIDs of subject hierarchy items: a series item's own, a study's or a patient's series."""
    found = []
    for itemId in itemIds:
        if shNode.GetItemLevel(itemId) in ("Patient", "Study"):
            children = vtk.vtkIdList()
            shNode.GetItemChildren(itemId, children, False)
            found += seriesOfItems(shNode, [children.GetId(index) for index in range(children.GetNumberOfIds())])
        elif shNode.GetItemUID(itemId, "DICOM") and shNode.GetItemDataNode(itemId) is not None:
            found.append(shNode.GetItemUID(itemId, "DICOM"))
    return list(dict.fromkeys(found))


SUBJECT_HIERARCHY_PLUGIN = os.path.join(
    os.path.dirname(__file__), "AnonymizeOnSaveSubjectHierarchy", "AnonymizeOnSaveSubjectHierarchyPlugin.py"
)


def registerSubjectHierarchyPlugin():
    """*Export anonymized DICOM...* in the subject hierarchy's context menu, once per session (a plugin cannot be
    unregistered: after a Reload the one registered stays and calls the new logic)."""
    handler = slicer.qSlicerSubjectHierarchyPluginHandler.instance()
    if handler.pluginByName("AnonymizeOnSave") is not None:
        return
    try:
        import SubjectHierarchyPlugins  # noqa: F401 (Slicer's: it puts AbstractScriptedSubjectHierarchyPlugin on the path)

        scriptedPlugin = slicer.qSlicerSubjectHierarchyScriptedPlugin(None)
        scriptedPlugin.setPythonSource(SUBJECT_HIERARCHY_PLUGIN)
    except (ImportError, AttributeError) as error:
        logging.warning("AnonymizeOnSave: no subject hierarchy action (%s); export from the module panel", error)


DICOM_EXPORT_PLUGIN = "AnonymizeOnSaveDICOMPlugin"


def registerDicomExportPlugin():
    """*Anonymized original DICOM files* in Slicer's *Export to DICOM...* dialog (a DICOM plugin:
    AnonymizeOnSaveGlue.dicomExportPlugin)."""
    try:
        from AnonymizeOnSaveGlue import dicomExportPlugin
    except ImportError as error:  # no DICOM module in this Slicer
        logging.warning("AnonymizeOnSave: no export type in Export to DICOM (%s); export from the module panel", error)
        return
    dicomExportPlugin.register(DICOM_EXPORT_PLUGIN)


def unregisterDicomExportPlugin():
    getattr(slicer.modules, "dicomPlugins", {}).pop(DICOM_EXPORT_PLUGIN, None)


def addDicomImportAction(logic):
    """File > Import DICOM files anonymized..., after the share action: the File menu is where Slicer's DICOM module
    puts its own import action (DICOM.addMenu)."""
    try:
        fileMenu = slicer.util.lookupTopLevelWidget("FileMenu")
    except RuntimeError:
        return None
    action = qt.QAction(_("Import DICOM files anonymized..."), fileMenu)
    action.setObjectName("AnonymizeOnSaveDicomImportAction")
    action.toolTip = _("De-identify DICOM files with your key, then import them into the DICOM database.")
    action.connect("triggered()", lambda: logic.importDicomInteractively())
    return _insertAfter(fileMenu, action, "AnonymizeOnSaveShareAction")


def policyComboBox(settings, setMode):
    """The two modes, each explained (a ctkComboBox: the settings panel registers its currentUserDataAsString);
    disabled, with the reason, when an administrator locked it. setMode(mode) applies the user's choice."""
    comboBox = ctk.ctkComboBox()
    for mode in MODES:
        comboBox.addItem(POLICY_LABELS[mode], mode)
        comboBox.setItemData(MODES.index(mode), POLICY_TOOLTIPS[mode], qt.Qt.ToolTipRole)
    comboBox.currentIndex = MODES.index(settings.mode())
    reason = settings.lockReason()
    comboBox.enabled = not reason
    comboBox.toolTip = _("Every save must be anonymized: ") + reason if reason else POLICY_TOOLTIPS[settings.mode()]
    comboBox.connect("currentIndexChanged(int)", lambda index: setMode(MODES[index]))
    return comboBox


#
# AnonymizeOnSaveWidget
#


class AnonymizeOnSaveWidget(ScriptedLoadableModuleWidget):
    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        self.logic = AnonymizeOnSaveLogic.instance()
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/AnonymizeOnSave.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        comboBox = policyComboBox(self.logic.settings, self.logic.setMode)
        self.logic.policyComboBoxes.append(comboBox)
        self.ui.policyLayout.addWidget(comboBox)
        self.ui.shareButton.connect("clicked()", lambda: self.logic.shareInteractively(self.parent))
        self.ui.scanButton.connect("clicked()", self.onScan)
        self.ui.cleanButton.connect("clicked()", self.onClean)
        self.ui.importDicomButton.connect("clicked()", self.onImportDicom)
        self.ui.exportDicomButton.connect("clicked()", self.onExportDicom)
        self.ui.progressBar.hide()
        self.layout.addStretch(1)

    def enter(self):
        lines = self.logic.lastSaveSummary()
        self.ui.lastSaveLabel.text = "\n".join(lines) if lines else _("No anonymized save yet in this session.")

    def _chooseScene(self):
        return qt.QFileDialog.getOpenFileName(
            self.parent, _("Scene file"), "", _("Scene files (*.mrb *.mrml);;All files (*)")
        )

    def _busy(self, busy):
        self.ui.progressBar.setVisible(busy)
        self.ui.progressBar.setRange(0, 0 if busy else 1)
        slicer.app.processEvents()

    def onScan(self):
        path = self._chooseScene()
        if not path:
            return
        self._busy(True)
        try:
            result = self.logic.scanFile(path)
        except SceneFileError as error:
            self.ui.resultLabel.text = _("Cannot scan: ") + str(error)
            return
        finally:
            self._busy(False)
        if result:
            places = "\n".join(f"{f.place} [{f.category}]" for f in result.findings[:50])
            self.ui.resultLabel.text = _("Patient data found: {count} value(s)\n").format(count=len(result.findings))
            self.ui.resultLabel.text += places
        else:
            self.ui.resultLabel.text = _("No patient data found.")

    def onClean(self):
        path = self._chooseScene()
        if not path:
            return
        root, extension = os.path.splitext(path)
        destination = qt.QFileDialog.getSaveFileName(self.parent, _("Clean copy"), root + "-anonymized" + extension)
        if not destination:
            return
        self._busy(True)
        try:
            result = self.logic.cleanFile(path, destination)
            self.ui.resultLabel.text = _("Written: ") + result.output + "\n" + "\n".join(result.report.summaryLines())
        except SceneFileError as error:
            self.ui.resultLabel.text = _("Cannot clean: ") + str(error)
        finally:
            self._busy(False)

    def onImportDicom(self):
        folder = qt.QFileDialog.getExistingDirectory(self.parent, _("Folder of DICOM files to import anonymized"))
        if folder:
            self._dicomAction(lambda: self.logic.importDicomAnonymized(folder), _("Imported into the DICOM database"))

    def onExportDicom(self):
        text = self.logic.exportDicomInteractively(self.parent)
        if text:
            self.ui.resultLabel.text = text

    def _dicomAction(self, action, done):
        self._busy(True)
        try:
            summary = action()
        except (PolicyError, OSError) as error:
            self.ui.resultLabel.text = dicomFailureText(error)
            return
        finally:
            self._busy(False)
        self.ui.resultLabel.text = dicomSummaryText(summary, done)


def dicomFailureText(error):
    """Why DICOM files were not processed: the settings' or the database's message, or an OS error without the path
    it names (folders are often named after patients)."""
    named = isinstance(error, OSError) and (error.filename is not None or error.filename2 is not None)
    cause = (error.strerror or type(error).__name__) if named else str(error)
    return _("DICOM files not processed: ") + cause


def dicomSummaryText(summary, done):
    """What an import or export did, for the user: counts, then one line per file left out (names masked)."""
    lines = [
        _("{done}: {count} file(s) de-identified").format(done=done, count=summary.cleaned),
        _("{count} file(s) skipped (not DICOM, or a DICOMDIR)").format(count=summary.skipped),
    ]
    if summary.pixelsNotChecked:
        lines.append(
            _("{count} image(s) may show text burnt into their pixels: check them before sharing").format(
                count=summary.pixelsNotChecked
            )
        )
    if summary.errors:
        lines.append(_("{count} file(s) not processed:").format(count=summary.errors))
    return "\n".join(lines + summary.messages[:20])


#
# AnonymizeOnSaveTest: runs in a Slicer build (slicer_add_python_unittest); it has never run on our CI machines.
#


class AnonymizeOnSaveTest(ScriptedLoadableModuleTest):
    def setUp(self):
        slicer.mrmlScene.Clear()
        self.logic = AnonymizeOnSaveLogic.instance()
        self.logic.install()
        self.folder = slicer.util.tempDirectory("AnonymizeOnSaveTest")

    def runTest(self):
        self.setUp()
        self.test_slicerUtilSaveSceneIsAnonymized()
        self.setUp()
        self.test_saveDialogIsAnonymized()
        self.setUp()
        self.test_lockedPolicyRefusesPlainSaves()
        self.setUp()
        self.test_sharedCopyLeavesTheWorkingSceneAlone()

    def loadSample(self):
        """Import pydicom's CT sample into a temporary DICOM database and load it, as a user would."""
        from DICOMLib import DICOMUtils
        from pydicom.data import get_testdata_file

        inputFolder = os.path.join(self.folder, "dicom")
        os.makedirs(inputFolder, exist_ok=True)
        shutil.copy(get_testdata_file("CT_small.dcm"), inputFolder)
        with DICOMUtils.TemporaryDICOMDatabase(os.path.join(self.folder, "db")) as database:
            DICOMUtils.importDicom(inputFolder, database)
            patientUID = database.patients()[0]
            loaded = DICOMUtils.loadPatientByUID(patientUID)
        self.assertTrue(loaded)
        return ["CompressedSamples^CT1", "1CT1", "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"]

    def sceneState(self):
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        items = vtk.vtkIdList()
        shNode.GetItemChildren(shNode.GetSceneItemID(), items, True)
        state = []
        for index in range(items.GetNumberOfIds()):
            item = items.GetId(index)
            attributes = sorted((n, shNode.GetItemAttribute(item, n)) for n in shNode.GetItemAttributeNames(item))
            uids = sorted((n, shNode.GetItemUID(item, n)) for n in shNode.GetItemUIDNames(item))
            state.append((item, shNode.GetItemName(item), attributes, uids))
        return state

    def assertNoPHI(self, path, values):
        result = scanPath(path, self.logic.settings.policy())
        self.assertFalse(result, [f.place for f in result.findings])
        with open(path, "rb") as stream:
            data = stream.read()
        texts = [data]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as bundle:
                texts = [bundle.read(name) for name in bundle.namelist() if name.endswith((".mrml", ".nrrd"))]
        for value in values:
            self.assertFalse(any(value.encode() in text for text in texts))

    def test_slicerUtilSaveSceneIsAnonymized(self):
        values = self.loadSample()
        before = self.sceneState()
        path = os.path.join(self.folder, "util.mrb")
        self.assertTrue(slicer.util.saveScene(path, {"anonymize": True}))
        self.assertNoPHI(path, values)
        self.assertEqual(self.sceneState(), before)

    def test_saveDialogIsAnonymized(self):
        values = self.loadSample()
        before = self.sceneState()
        dialogHook = self.logic.dialogHook
        self.assertIsNotNone(dialogHook, "the checkbox was not added to the Save dialog")
        dialogHook.checkBox.checked = True
        path = os.path.join(self.folder, "dialog.mrb")
        dialog = findSaveDialog(slicer.app)
        qt.QTimer.singleShot(0, lambda: self._saveFromDialog(dialog, path))
        slicer.util.openSaveDataDialog()
        self.assertNoPHI(path, values)
        self.assertEqual(self.sceneState(), before)

    def _saveFromDialog(self, dialog, path):
        slicer.util.findChild(dialog, "DataBundleButton").click()  # the scene as one .mrb
        fileWidget = slicer.util.findChild(dialog, "FileWidget")
        fileWidget.cellWidget(0, 2).currentPath = os.path.dirname(path)  # the scene row's folder
        fileWidget.item(0, 0).setText(os.path.basename(path))
        slicer.util.findChild(dialog, "ButtonBox").button(qt.QDialogButtonBox.Save).click()

    def test_lockedPolicyRefusesPlainSaves(self):
        self.loadSample()
        os.environ["SLICER_ANONYMIZE_ON_SAVE"] = "always"
        try:
            path = os.path.join(self.folder, "refused.mrb")
            self.assertFalse(slicer.util.saveScene(path, {"anonymize": False}))
            self.assertFalse(os.path.exists(path))
        finally:
            del os.environ["SLICER_ANONYMIZE_ON_SAVE"]

    def test_sharedCopyLeavesTheWorkingSceneAlone(self):
        values = self.loadSample()
        working = os.path.join(self.folder, "working.mrb")
        self.assertTrue(slicer.util.saveScene(working))  # a working save: plain under the default policy
        before = (slicer.mrmlScene.GetURL(), self.sceneState(), slicer.mrmlScene.GetModifiedSinceRead())
        path = os.path.join(self.folder, "shared.mrb")
        self.assertIsNotNone(self.logic.saveSharedCopy(path))
        self.assertNoPHI(path, values)
        after = (slicer.mrmlScene.GetURL(), self.sceneState(), slicer.mrmlScene.GetModifiedSinceRead())
        self.assertEqual(after, before)
