"""A stand-in Slicer application in which AnonymizeOnSave.py itself runs: the real MRML library (slicer-core),
PySide6 behaving like PythonQt (pythonQt.py), and what only the application has, written from Slicer's source (main,
2026): slicer.app (settings, the core I/O manager that saves through the scene writer and emits fileSaved,
startupCompleted and aboutToQuit, the settings dialog, command options, a layout manager whose slice views have
corner annotations, the main window with its File menu), slicer.util (saveScene through the I/O manager, modal
message boxes, loadUI, childWidgetVariables, lookupTopLevelWidget, openSaveDataDialog running the Save dialog with
exec()), slicer.i18n, slicer.ScriptedLoadableModule, ctk, DICOMLib.DICOMUtils loading DICOM files the way
Slicer's DICOM plugins do, and the DICOM plugins' registry with the Export to DICOM dialog (dicomExportDialog.py).
What it cannot prove: that the real widgets, signals and PythonQt conversions are these.
"""

import contextlib
import importlib.util
import logging
import os
import shutil
import sys
import tempfile
import types
import unittest

import pydicom
import shiboken6
import slicer
import slicerI18n
import vtk
from dicomExportDialog import DICOMExportable, DICOMPlugin, ScalarVolumeExporter
from dicomScenes import newScene
from hospitalScenes import loadScalarVolume
from PySide6.QtCore import Property, QEvent, QObject, QSettings, QTimer, Signal
from PySide6.QtUiTools import QUiLoader
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressDialog,
    QVBoxLayout,
    QWidget,
)
from pythonQt import pythonQtBehaviour
from standIns import StandInIOManager, StandInSaveDialog

MODULE_FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "AnonymizeOnSave")


class CommandOptions:
    def __init__(self):
        self.noMainWindow = False


class SettingsDialog:
    """ctkSettingsDialog: addPanel(label, panel) gives the panel the application's settings when it has none; a
    panel cannot be removed; reset() and restoreDefaults() apply to every panel."""

    def __init__(self, settings):
        self.settings = settings
        self.panels = []

    def addPanel(self, label, panel):
        self.panels.append((label, panel))
        if panel.settings() is None:
            panel.setSettings(self.settings)

    def panel(self, label):
        (found,) = [panel for name, panel in self.panels if name == label]
        return found

    def reset(self):
        for _, panel in self.panels:
            panel.resetSettings()

    def restoreDefaults(self):
        for _, panel in self.panels:
            panel.restoreDefaultSettings()


class SliceView:
    def __init__(self):
        self.annotation = vtk.vtkCornerAnnotation()
        self.renders = 0

    def cornerAnnotation(self):
        return self.annotation

    def forceRender(self):
        self.renders += 1


class LayoutManager:
    def __init__(self):
        self.views = {name: SliceView() for name in ("Red", "Yellow", "Green")}

    def sliceViewNames(self):
        return list(self.views)

    def sliceWidget(self, name):
        return types.SimpleNamespace(sliceView=lambda: self.views[name])


class Application(QObject):
    """slicer.app."""

    startupCompleted = Signal()
    aboutToQuit = Signal()

    def __init__(self, folder, scene, defaultSettings=None):
        """defaultSettings: the keys of a SlicerDefaultSettings.ini, or None when there is none."""
        super().__init__()
        self.folder = folder
        self.scene = scene
        self._user = QSettings(os.path.join(folder, "Slicer.ini"), QSettings.IniFormat)
        self._default = None
        if defaultSettings is not None:  # qSlicerCoreApplication: its keys are copied into the user settings
            path = os.path.join(folder, "SlicerDefaultSettings.ini")
            with open(path, "w", encoding="utf-8") as stream:
                stream.write("[General]\n" + "".join(f"{key}={value}\n" for key, value in defaultSettings.items()))
            self._default = QSettings(path, QSettings.IniFormat)
            for key in self._default.allKeys():
                self._user.setValue(key, self._default.value(key))
        self.ioManager = StandInIOManager(scene)
        self.dialog = StandInSaveDialog(scene, folder, self.ioManager)  # the Data module registers it at startup
        self._settingsDialog = SettingsDialog(self._user)
        self._commandOptions = CommandOptions()
        self._layoutManager = LayoutManager()
        self.mainWindow = QMainWindow()
        self.mainWindow.setObjectName("qSlicerMainWindow")
        self.fileMenu = QMenu("&File", self.mainWindow)
        self.fileMenu.setObjectName("FileMenu")
        self.mainWindow.menuBar().addMenu(self.fileMenu)
        for name, text in (("FileAddDataAction", "Add Data"), ("FileSaveSceneAction", "Save Data")):
            action = self.fileMenu.addAction(text)
            action.setObjectName(name)
        self.fileMenu.addSeparator()
        self.fileMenu.addAction("Close Scene").setObjectName("FileCloseSceneAction")
        self.progressDialogs, self.cancelProgressAfter = [], None
        self.boxes = []
        self.testing = False
        # qSlicerCoreApplication::onAboutToQuit, connected first: every module is unloaded (CTK's factory deletes
        # them), the Data module with its Save dialog, before any extension's own aboutToQuit slot runs.
        self.aboutToQuit.connect(self.unloadModules)

    def unloadModules(self):
        if self.dialog is not None:
            shiboken6.delete(self.dialog)
            self.dialog = None
            self.ioManager.sceneWriterRegistered = False

    def _path(self):
        return os.path.join(self.folder, "Slicer.ini")

    slicerUserSettingsFilePath = Property(str, _path)

    def userSettings(self):
        return self._user

    def defaultSettings(self):
        """qSlicerCoreApplication::defaultSettings: None when there is no SlicerDefaultSettings.ini."""
        return self._default

    def coreIOManager(self):
        return self.ioManager

    def settingsDialog(self):
        return self._settingsDialog

    def commandOptions(self):
        return self._commandOptions

    def layoutManager(self):
        return self._layoutManager

    def topLevelWidgets(self):
        return QApplication.topLevelWidgets()

    def processEvents(self):
        """Events are processed: a user who meant to press a progress dialog's Cancel at some value does."""
        for dialog in self.progressDialogs:
            if self.cancelProgressAfter is not None and QProgressDialog.value(dialog) >= self.cancelProgressAfter:
                dialog.cancel()
        QApplication.processEvents()

    def testingEnabled(self):
        return self.testing


def _utilModule(app):
    """slicer.util, the parts the module uses."""
    util = types.ModuleType("slicer.util")

    def saveScene(filename, properties={}):  # noqa: B006 - Slicer's own signature
        """Save the current scene.

        Based on the value of 'filename', the current scene is saved either as a MRML file, MRB file or directory.
        """
        properties["fileName"] = filename
        return app.ioManager.saveNodes("SceneFile", properties)

    def messageDisplay(level, icon):
        def display(text, windowTitle=None, parent=None, standardButtons=None, **kwargs):
            """_messageDisplay: logged; no box in testing mode, nor (warning, error) without a main window."""
            logging.log(level, text)
            if app.testing or (level > logging.INFO and app.commandOptions().noMainWindow):
                return None
            app.boxes.append((windowTitle, text))
            box = QMessageBox(icon, windowTitle or "Slicer", text, parent=parent or app.mainWindow)
            QTimer.singleShot(20, box.accept)  # the user reads it and clicks OK
            return box.exec()

        return display

    def lookupTopLevelWidget(objectName):
        for widget in QApplication.topLevelWidgets():
            if widget.property("objectName") == objectName:
                return widget
            found = widget.findChild(QObject, objectName)
            if found is not None:
                return found
        raise RuntimeError(f"Failed to obtain reference to '{objectName}'")

    def loadUI(path):
        loader = QUiLoader()
        for widget in (QMRMLWidget, CtkCollapsibleButton):
            loader.registerCustomWidget(widget)
        widget = loader.load(path)
        if widget is None:
            raise RuntimeError(f"Could not load UI file {path}")
        return widget

    def childWidgetVariables(widget):
        found = types.SimpleNamespace()
        for child in widget.findChildren(QObject):
            name = child.property("objectName")
            if name:
                setattr(found, name, child)
        return found

    util.saveScene = saveScene
    util.errorDisplay = messageDisplay(logging.ERROR, QMessageBox.Critical)
    util.warningDisplay = messageDisplay(logging.WARNING, QMessageBox.Warning)
    util.infoDisplay = messageDisplay(logging.INFO, QMessageBox.Information)
    util.mainWindow = lambda: None if app.commandOptions().noMainWindow else app.mainWindow

    def createProgressDialog(parent=None, value=0, maximum=100, labelText="", windowTitle="Processing...", **kwargs):
        """slicer.util.createProgressDialog: a modal QProgressDialog shown at once (minimumDuration 0); tests press
        its Cancel button through app.cancelProgressAfter (the value at which processEvents presses it)."""
        dialog = QProgressDialog(parent or app.mainWindow)
        dialog.setMinimumDuration(0)
        dialog.setMaximum(maximum)
        dialog.setValue(value)
        dialog.setLabelText(labelText)
        dialog.setWindowTitle(windowTitle)
        app.progressDialogs.append(dialog)
        return dialog

    util.createProgressDialog = createProgressDialog
    util.lookupTopLevelWidget = lookupTopLevelWidget
    util.loadUI = loadUI
    util.childWidgetVariables = childWidgetVariables
    util.findChild = lambda widget, name: widget.findChild(QObject, name)
    util.tempDirectory = lambda key="__SlicerTemp__": tempfile.mkdtemp(prefix=key, dir=app.folder)
    util.openSaveDataDialog = lambda: app.dialog.exec() == QDialog.Accepted
    return util


class QMRMLWidget(QWidget):
    pass


class CtkCollapsibleButton(QWidget):
    """ctkCollapsibleButton as a Designer container with a ``text`` property."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._text = ""

    def _get(self):
        return self._text

    def _set(self, value):
        self._text = value

    text = Property(str, _get, _set)


CtkCollapsibleButton.__name__ = "ctkCollapsibleButton"
QMRMLWidget.__name__ = "qMRMLWidget"


class CtkComboBox(QComboBox):
    """ctkComboBox: currentUserDataAsString, the current item's data as a string (settings panels register it)."""

    def _get(self):
        data = QComboBox.currentData(self)  # a property: under PythonQt's rules the name reads its value
        return "" if data is None else str(data)

    def _set(self, value):
        index = self.findData(value)
        if index >= 0:
            self.setCurrentIndex(index)

    currentUserDataAsString = Property(str, _get, _set)


class CtkSettingsPanel(QWidget):
    """ctkSettingsPanel (CTK Libs/Widgets/ctkSettingsPanel.cpp): registerProperty(key, object, property, signal)
    applies the stored value, remembers the value as default and previous, writes the setting when the signal fires
    and, as SaveToSettingsWhenRegister is on, once at registration; resetSettings() and restoreDefaultSettings()
    write back the previous or the default value, to the setting and to the object."""

    settingChanged = Signal(str, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._settings = None
        self._properties = {}

    def settings(self):
        return self._settings

    def setSettings(self, settings):
        self._settings = settings
        for key in self._properties:  # updateProperties
            if settings.contains(key):
                self._setProperty(key, settings.value(key))
                self._properties[key][3] = settings.value(key)
            else:
                self.updateSetting(key)

    def registerProperty(self, key, qobject, propertyName, signal, label="", options=0, settings=None):
        value = qobject.property(propertyName)
        self._properties[key] = [qobject, propertyName, value, value]  # object, property, default, previous
        if self._settings is not None and self._settings.contains(key):
            self._setProperty(key, self._settings.value(key))
            self._properties[key][3] = self._settings.value(key)
        getattr(qobject, signal.split("(", 1)[0]).connect(lambda *arguments: self.updateSetting(key))
        self.updateSetting(key)

    def _setProperty(self, key, value):
        qobject, propertyName = self._properties[key][:2]
        qobject.setProperty(propertyName, value)

    def updateSetting(self, key):
        if self._settings is not None:
            qobject, propertyName = self._properties[key][:2]
            self.setSetting(key, qobject.property(propertyName))

    def setSetting(self, key, value):
        old = self._settings.value(key)
        self._settings.setValue(key, value)
        self._setProperty(key, value)
        if old != value:
            self.settingChanged.emit(key, value)

    def resetSettings(self):
        for key, (_, _, _, previous) in list(self._properties.items()):
            self.setSetting(key, previous)

    def restoreDefaultSettings(self):
        for key, (_, _, default, _) in list(self._properties.items()):
            self.setSetting(key, default)


def _ctkModule():
    ctk = types.ModuleType("ctk")
    ctk.ctkSettingsPanel = CtkSettingsPanel
    ctk.ctkComboBox = CtkComboBox
    ctk.ctkCollapsibleButton = CtkCollapsibleButton
    return ctk


def _scriptedLoadableModule(app):
    module = types.ModuleType("slicer.ScriptedLoadableModule")

    class ScriptedLoadableModule:
        def __init__(self, parent):
            self.parent = parent
            self.moduleName = type(self).__name__

    class ScriptedLoadableModuleWidget:
        def __init__(self, parent=None):
            self.parent = parent or QWidget()
            self.layout = self.parent.layout() or QVBoxLayout(self.parent)
            self.moduleName = type(self).__name__[: -len("Widget")]

        def setup(self):
            pass

        def resourcePath(self, filename):
            return os.path.join(MODULE_FOLDER, "Resources", filename)

    class ScriptedLoadableModuleLogic:
        def __init__(self, parent=None):
            self.parent = parent

    class ScriptedLoadableModuleTest(unittest.TestCase):
        def runTest(self):
            pass

    module.ScriptedLoadableModule = ScriptedLoadableModule
    module.ScriptedLoadableModuleWidget = ScriptedLoadableModuleWidget
    module.ScriptedLoadableModuleLogic = ScriptedLoadableModuleLogic
    module.ScriptedLoadableModuleTest = ScriptedLoadableModuleTest
    return module


def _dicomUtils(app):
    """DICOMLib.DICOMUtils: a temporary database, import, and loading a patient as the scalar volume plugin does."""
    module = types.ModuleType("DICOMLib.DICOMUtils")

    class Database:
        """ctkDICOMDatabase, the calls the module makes: the files it indexed (copied into its folder by an import
        with copyFiles, as ctkDICOMIndexer does), patients() and filesForSeries(seriesUID), answered from its index
        (the SQLite tables ctkDICOMDatabase.cpp queries), not from the files, which may be gone since."""

        def __init__(self, folder=None):
            self.files, self.index = [], {}  # index: file -> (PatientID, SeriesInstanceUID) read when indexed
            self.folder = folder

        def insert(self, path, header):
            self.files.append(path)
            self.index[path] = (str(header.PatientID), str(header.SeriesInstanceUID))

        def patients(self):
            return sorted({patient for patient, _ in self.index.values()})

        def filesForSeries(self, seriesUID, hits=-1):
            found = [path for path in self.files if self.index[path][1] == seriesUID]
            return found if hits < 0 else found[:hits]

    @contextlib.contextmanager
    def TemporaryDICOMDatabase(folder):
        database = Database()
        module.database = database
        yield database

    def importDicom(dicomDataDir, dicomDatabase=None, copyFiles=False):
        """DICOMUtils.importDicom: ctkDICOMIndexer.addDirectory, recursive; with copyFiles each file is copied into
        the database's folder (<study>/<series>/<instance>, as ctkDICOMDatabase stores it); any failure is logged
        and answered False, never raised (as Slicer's try/except does)."""
        database = dicomDatabase or slicer.dicomDatabase
        try:
            for folder, _, names in sorted(os.walk(dicomDataDir)):
                for name in sorted(names):
                    path = os.path.join(folder, name)
                    header = pydicom.dcmread(path, stop_before_pixels=True)
                    if copyFiles:
                        keywords = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
                        target = os.path.join(database.folder, *(str(header.get(k)) for k in keywords))
                        os.makedirs(os.path.dirname(target), exist_ok=True)
                        shutil.copyfile(path, target)
                        path = target
                    database.insert(path, header)
        except Exception:
            logging.error("Failed to import DICOM folder " + dicomDataDir)
            return False
        return True

    def loadPatientByUID(patientId):
        for fileName in module.database.files:
            dataset = pydicom.dcmread(fileName)
            if dataset.PatientID == patientId:
                loadScalarVolume(slicer.mrmlScene, dataset, (True, False, False, True))
        return True

    module.Database = Database
    module.TemporaryDICOMDatabase = TemporaryDICOMDatabase
    module.importDicom = importDicom
    module.loadPatientByUID = loadPatientByUID
    return module


class PluginHandler:
    """qSlicerSubjectHierarchyPluginHandler: instance() and currentItems(vtkIdList), which fills the list with the
    items selected in the subject hierarchy tree (qSlicerSubjectHierarchyPluginHandler.cxx); tests select with
    select(itemIds)."""

    _instance = None

    def __init__(self):
        self.selected, self.plugins = [], []

    @classmethod
    def instance(cls):
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def select(self, itemIds):
        self.selected = list(itemIds)

    def currentItems(self, idList):
        idList.Reset()
        for itemId in self.selected:
            idList.InsertNextId(itemId)

    def currentItem(self):
        """The item the context menu was opened on (the first selected), 0 (invalid) for none."""
        return self.selected[0] if self.selected else 0

    def registerPlugin(self, plugin):
        """registerPlugin refuses a second plugin of the same name (qSlicerSubjectHierarchyPluginHandler.cxx)."""
        if self.pluginByName(plugin.name) is not None:
            return False
        self.plugins.append(plugin)
        return True

    def pluginByName(self, name):
        return next((plugin for plugin in self.plugins if plugin.name == name), None)


class ScriptedPlugin(QObject):
    """qSlicerSubjectHierarchyScriptedPlugin: setPythonSource(path) runs the file and makes the class named as the
    file with this object (qSlicerSubjectHierarchyScriptedPlugin.cxx); the context menu calls reach that object."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.name, self.pythonObject = "", None

    def setPythonSource(self, path):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        source = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(source)
        self.pythonObject = getattr(source, name)(self)
        return True

    def itemContextMenuActions(self):
        return self.pythonObject.itemContextMenuActions()

    def showContextMenuActionsForItem(self, itemId):
        self.pythonObject.showContextMenuActionsForItem(itemId)


def _abstractScriptedPluginModule():
    """AbstractScriptedSubjectHierarchyPlugin.py (Modules/Loadable/SubjectHierarchy/Widgets/Python): the base class
    keeps the scripted plugin and registers it with the plugin handler."""
    module = types.ModuleType("AbstractScriptedSubjectHierarchyPlugin")

    class AbstractScriptedSubjectHierarchyPlugin:
        def __init__(self, scriptedPlugin):
            self.scriptedPlugin = scriptedPlugin
            self.register()

        def register(self):
            slicer.qSlicerSubjectHierarchyPluginHandler.instance().registerPlugin(self.scriptedPlugin)

    module.AbstractScriptedSubjectHierarchyPlugin = AbstractScriptedSubjectHierarchyPlugin
    return module


@contextlib.contextmanager
def slicerApplication(folder, defaultSettings=None):
    """Slicer around the module for the duration of the block; yields slicer.app. Everything is undone after, the
    application's one installation of the module included. defaultSettings: see Application."""
    scene = newScene()
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)  # other tests' dialogs are gone, as in one session
    with pythonQtBehaviour() as qt:
        app = Application(folder, scene, defaultSettings)
        i18n = slicerI18n.module()
        util = _utilModule(app)
        dicomLib = types.ModuleType("DICOMLib")
        dicomLib.DICOMUtils = _dicomUtils(app)
        dicomLib.DICOMPlugin = DICOMPlugin
        modules = {
            "qt": qt,
            "ctk": _ctkModule(),
            "slicer.util": util,
            "slicer.i18n": i18n,
            "slicer.ScriptedLoadableModule": _scriptedLoadableModule(app),
            "DICOMLib": dicomLib,
            "DICOMLib.DICOMUtils": dicomLib.DICOMUtils,
            "SubjectHierarchyPlugins": types.ModuleType("SubjectHierarchyPlugins"),
            "AbstractScriptedSubjectHierarchyPlugin": _abstractScriptedPluginModule(),
        }
        savedModules = {name: sys.modules.get(name) for name in [*modules, "AnonymizeOnSave"]}
        names = ("app", "util", "mrmlScene", "i18n", "dicomDatabase", "qSlicerSubjectHierarchyPluginHandler")
        names += ("qSlicerSubjectHierarchyScriptedPlugin", "qSlicerDICOMExportable", "modules")
        savedAttributes = {name: getattr(slicer, name, None) for name in names}
        sys.modules.update(modules)
        slicer.app, slicer.util, slicer.mrmlScene, slicer.i18n = app, util, scene, i18n
        slicer.dicomDatabase = dicomLib.DICOMUtils.Database(os.path.join(folder, "DICOMDatabase"))
        slicer.qSlicerSubjectHierarchyPluginHandler = PluginHandler
        slicer.qSlicerSubjectHierarchyScriptedPlugin = ScriptedPlugin
        slicer.qSlicerDICOMExportable = DICOMExportable
        # the DICOM module's plugins, registered at startup as each plugin module does (DICOMScalarVolumePlugin.py)
        slicer.modules = types.SimpleNamespace(dicomPlugins={"DICOMScalarVolumePlugin": ScalarVolumeExporter})
        try:
            yield app
        finally:
            module = sys.modules.get("AnonymizeOnSave")
            if module is not None and module.AnonymizeOnSaveLogic._instance is not None:
                module.AnonymizeOnSaveLogic._instance.uninstall()
                module.AnonymizeOnSaveLogic._instance = None
            for name, value in savedModules.items():
                if value is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = value
            PluginHandler._instance = None
            for name, value in savedAttributes.items():
                setattr(slicer, name, value)
            from AnonymizeOnSaveGlue import installation

            installation.current = installation.settingsPanel = None  # the application ended
            if app.dialog is not None:
                app.dialog.deleteLater()
            app.mainWindow.deleteLater()
            QApplication.sendPostedEvents(None, QEvent.DeferredDelete)
