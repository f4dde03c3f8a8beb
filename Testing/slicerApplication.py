"""A stand-in Slicer application in which AnonymizeOnSave.py itself runs: the real MRML library (slicer-core),
PySide6 behaving like PythonQt (pythonQt.py), and what only the application has, written from Slicer's source (main,
2026): slicer.app (settings, the core I/O manager that saves through the scene writer and emits fileSaved,
startupCompleted and aboutToQuit, the settings dialog, command options, a layout manager whose slice views have
corner annotations, the main window with its File menu), slicer.util (saveScene through the I/O manager, modal
message boxes, loadUI, childWidgetVariables, lookupTopLevelWidget, openSaveDataDialog running the Save dialog with
exec()), slicer.i18n, slicer.ScriptedLoadableModule, ctk, and DICOMLib.DICOMUtils loading DICOM files the way
Slicer's DICOM plugins do. What it cannot prove: that the real widgets, signals and PythonQt conversions are these.
"""

import contextlib
import logging
import os
import sys
import tempfile
import types
import unittest

import pydicom
import slicer
import vtk
from dicomScenes import newScene
from hospitalScenes import loadScalarVolume
from PySide6.QtCore import Property, QEvent, QObject, QSettings, QTimer, Signal
from PySide6.QtUiTools import QUiLoader
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow, QMenu, QMessageBox, QVBoxLayout, QWidget
from pythonQt import pythonQtBehaviour
from standIns import StandInIOManager, StandInSaveDialog

MODULE_FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "AnonymizeOnSave")


class CommandOptions:
    def __init__(self):
        self.noMainWindow = False


class SettingsDialog:
    """qSlicerSettingsDialog: addPanel(label, panel)."""

    def __init__(self):
        self.panels = {}

    def addPanel(self, label, panel):
        self.panels[label] = panel


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

    def __init__(self, folder, scene):
        super().__init__()
        self.folder = folder
        self.scene = scene
        self._user = QSettings(os.path.join(folder, "Slicer.ini"), QSettings.IniFormat)
        self._default = QSettings(os.path.join(folder, "Slicer-default.ini"), QSettings.IniFormat)
        self.ioManager = StandInIOManager(scene)
        self.dialog = StandInSaveDialog(scene, folder, self.ioManager)  # the Data module registers it at startup
        self._settingsDialog = SettingsDialog()
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
        self.boxes = []

    def _path(self):
        return os.path.join(self.folder, "Slicer.ini")

    slicerUserSettingsFilePath = Property(str, _path)

    def userSettings(self):
        return self._user

    def defaultSettings(self):
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
        QApplication.processEvents()

    def testingEnabled(self):
        return False


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
            logging.log(level, text)
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
    util.mainWindow = lambda: app.mainWindow
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


def _ctkModule():
    ctk = types.ModuleType("ctk")

    class ctkSettingsPanel(QWidget):
        pass

    ctk.ctkSettingsPanel = ctkSettingsPanel
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
        def __init__(self):
            self.files = []

        def patients(self):
            return sorted({pydicom.dcmread(f, stop_before_pixels=True).PatientID for f in self.files})

    @contextlib.contextmanager
    def TemporaryDICOMDatabase(folder):
        database = Database()
        module.database = database
        yield database

    def importDicom(folder, database):
        database.files += [os.path.join(folder, name) for name in sorted(os.listdir(folder))]

    def loadPatientByUID(patientId):
        for fileName in module.database.files:
            dataset = pydicom.dcmread(fileName)
            if dataset.PatientID == patientId:
                loadScalarVolume(slicer.mrmlScene, dataset, (True, False, False, True))
        return True

    module.TemporaryDICOMDatabase = TemporaryDICOMDatabase
    module.importDicom = importDicom
    module.loadPatientByUID = loadPatientByUID
    return module


@contextlib.contextmanager
def slicerApplication(folder):
    """Slicer around the module for the duration of the block; yields slicer.app. Everything is undone after."""
    scene = newScene()
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)  # other tests' dialogs are gone, as in one session
    with pythonQtBehaviour() as qt:
        app = Application(folder, scene)
        i18n = types.ModuleType("slicer.i18n")
        i18n.tr = lambda text: text
        i18n.translate = lambda context, text: text
        util = _utilModule(app)
        dicomLib = types.ModuleType("DICOMLib")
        dicomLib.DICOMUtils = _dicomUtils(app)
        modules = {
            "qt": qt,
            "ctk": _ctkModule(),
            "slicer.util": util,
            "slicer.i18n": i18n,
            "slicer.ScriptedLoadableModule": _scriptedLoadableModule(app),
            "DICOMLib": dicomLib,
            "DICOMLib.DICOMUtils": dicomLib.DICOMUtils,
        }
        savedModules = {name: sys.modules.get(name) for name in [*modules, "AnonymizeOnSave"]}
        savedAttributes = {name: getattr(slicer, name, None) for name in ("app", "util", "mrmlScene", "i18n")}
        sys.modules.update(modules)
        slicer.app, slicer.util, slicer.mrmlScene, slicer.i18n = app, util, scene, i18n
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
            for name, value in savedAttributes.items():
                setattr(slicer, name, value)
            app.dialog.deleteLater()
            app.mainWindow.deleteLater()
            QApplication.sendPostedEvents(None, QEvent.DeferredDelete)
