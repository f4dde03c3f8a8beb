"""Stand-ins for Slicer's Save dialog, core I/O manager and slicer.util, written from Slicer's source (main, 2026):
Base/QTGUI/qSlicerSaveDataDialog.cxx, Base/QTCore/qSlicerCoreIOManager.cxx, Modules/Loadable/Data/
qSlicerSceneWriter.cxx and Base/Python/slicer/util.py. What they reproduce, because the glue depends on it:

- the dialog is a parentless QDialog named qSlicerSaveDataDialog, reused for the session, opened with exec();
  every exec() rebuilds its table (setRowCount(0), the scene in row 0, one row per storable node);
- columns: file name 0 (the check state selects the row), format 1, directory 2 (a ctkPathLineEdit cell widget:
  each file is written to QDir(currentPath) / its name), node type 5 (the scene row's item holds SceneTypeRole ==
  "Scene"); the scene file name carries its extension (.mrml, .mrb, none for a bundle);
- the data-bundle button switches the scene format to .mrb and hides every data row (enableNodes(false));
- ButtonBox.accepted is connected to accept() first (setupUi); accept() saves and closes only on success: data
  rows through the I/O manager, then an overwrite question (QMessageBox.question, a nested event loop) when the
  scene file exists, then the scene through saveNodes("SceneFile");
- the I/O manager writes through the scene writer (chosen by suffix) and emits fileSaved(properties) after each
  successful write, with properties["fileName"];
- slicer.util.errorDisplay/warningDisplay run a modal box (exec), a nested event loop.
"""

import os

import slicer
from PySide6.QtCore import Property, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

FILE_NAME, FORMAT, DIRECTORY, NODE_NAME, NODE_TYPE = 0, 1, 2, 4, 5
SCENE_FORMATS = ("MRML Scene (.mrml)", "Medical Reality Bundle (.mrb)", "Slicer Data Bundle (*)")


def writeScene(scene, fileName):
    """qSlicerSceneWriter::write: the format by suffix; the scene moves to what it wrote; nothing is verified."""
    folder = os.path.dirname(fileName)
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        return False
    messages = slicer.vtkMRMLMessageCollection()
    if fileName.lower().endswith(".mrml"):
        scene.SetURL(fileName)
        scene.SetRootDirectory(folder)
        return bool(scene.Commit())
    if fileName.lower().endswith(".mrb"):
        scene.SetURL(fileName)
        scene.SetRootDirectory(folder)
        ok = bool(scene.WriteToMRB(fileName, None, messages))
        if ok:
            scene.SetStorableNodesModifiedSinceRead()
        return ok
    if os.path.isdir(fileName) and os.listdir(fileName):
        return False
    os.makedirs(fileName, exist_ok=True)
    return bool(scene.SaveSceneToSlicerDataBundleDirectory(fileName, None, messages))


def _rows(table):
    """The row count, read so that it works under PySide6 and under PythonQt (where it is a property)."""
    return table.property("rowCount")


class StandInIOManager(QObject):
    """qSlicerCoreIOManager: saveNodes(fileType, properties) -> bool, then fileSaved(properties)."""

    fileSaved = Signal(dict)

    def __init__(self, scene):
        super().__init__()
        self.scene = scene
        self.failSceneWrite = False

    def saveNodes(self, fileType, properties):
        fileName = properties.get("fileName")
        if not fileName:
            return False
        if fileType == "SceneFile":
            if self.failSceneWrite:
                return False
            ok = writeScene(self.scene, fileName)
        else:
            node = self.scene.GetNodeByID(properties["nodeID"])
            if node.GetStorageNode() is None:
                node.AddDefaultStorageNode()
            storage = node.GetStorageNode()
            storage.SetFileName(fileName)
            ok = bool(storage.WriteData(node))
        if ok:
            self.fileSaved.emit(dict(properties))
        return ok


class DirectoryButton(QWidget):
    """ctkDirectoryButton: the folder new rows start in, as its ``directory`` property. Setting it moves no row
    (qSlicerSaveDataDialog follows directorySelected, which only the button's own browse dialog emits)."""

    def __init__(self, directory=""):
        super().__init__()
        self._directory = directory

    def _get(self):
        return self._directory

    def _set(self, value):
        self._directory = value

    directory = Property(str, _get, _set)


class PathLineEdit(QWidget):
    """ctkPathLineEdit: a row's folder, as its ``currentPath`` property."""

    def __init__(self, path=""):
        super().__init__()
        self._path = path

    def _get(self):
        return self._path

    def _set(self, value):
        self._path = value

    currentPath = Property(str, _get, _set)


class StandInSaveDialog(QDialog):
    def __init__(self, scene, folder, ioManager):
        super().__init__(None)
        self.scene, self.ioManager = scene, ioManager
        self.directoryButton = DirectoryButton(folder)
        self.directoryButton.setObjectName("DirectoryButton")
        self.setObjectName("qSlicerSaveDataDialog")
        grid = QGridLayout(self)
        grid.setObjectName("gridLayout")
        showMore = QCheckBox("Show options")
        showMore.setObjectName("ShowMoreCheckBox")
        grid.addWidget(showMore, 0, 6)
        self.dataBundleButton = QPushButton("Data bundle")
        self.dataBundleButton.setObjectName("DataBundleButton")
        self.dataBundleButton.clicked.connect(self.saveSceneAsDataBundle)
        grid.addWidget(self.dataBundleButton, 0, 0)
        grid.addWidget(self.directoryButton, 0, 1)
        self.fileWidget = QTableWidget(0, 7)
        self.fileWidget.setObjectName("FileWidget")
        grid.addWidget(self.fileWidget, 1, 0, 1, 8)
        self.buttonBox = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttonBox.setObjectName("ButtonBox")
        grid.addWidget(self.buttonBox, 2, 5, 1, 2)
        self.buttonBox.accepted.connect(self.accept)  # first, as setupUi connects it
        self.buttonBox.rejected.connect(self.reject)
        self.accepts = 0
        self.saves = 0
        self.sceneFormat = 0
        self.duringQuestion = None  # called inside the overwrite question's nested event loop
        self.whileOpen = None  # called once the dialog's event loop runs (the user at work)

    # --- populate ---

    def populateItems(self):
        self.fileWidget.setRowCount(0)
        self._addRow(self._sceneFileName(), "Scene", "Scene")
        for index in range(self.scene.GetNumberOfNodes()):
            node = self.scene.GetNthNode(index)
            if node.IsA("vtkMRMLStorableNode") and not node.GetHideFromEditors() and node.GetSaveWithScene():
                storage = node.GetStorageNode()
                fileName = os.path.basename(storage.GetFileName() or "") if storage is not None else ""
                self._addRow(fileName or node.GetName() + ".nrrd", node.GetName(), node.GetID())
        self.enableNodes(self.sceneFormat == 0)

    def _sceneFileName(self):
        url = self.scene.GetURL()
        base = os.path.splitext(os.path.basename(url))[0] if url else "2026-11-25-Scene"
        return base + (".mrml", ".mrb", "")[self.sceneFormat]

    def _addRow(self, fileName, nodeName, nodeType):
        row = _rows(self.fileWidget)
        self.fileWidget.insertRow(row)
        nameItem = QTableWidgetItem(fileName)
        nameItem.setCheckState(Qt.Checked)
        self.fileWidget.setItem(row, FILE_NAME, nameItem)
        self.fileWidget.setItem(row, NODE_NAME, QTableWidgetItem(nodeName))
        typeItem = QTableWidgetItem(nodeType)
        typeItem.setData(Qt.UserRole, "Scene" if nodeType == "Scene" else nodeType)
        self.fileWidget.setItem(row, NODE_TYPE, typeItem)
        self.fileWidget.setCellWidget(row, DIRECTORY, PathLineEdit(self.folder))

    def saveSceneAsDataBundle(self):
        self.sceneFormat = 1 if self.sceneFormat == 0 else 0
        item = self.fileWidget.item(0, FILE_NAME)
        item.setText(os.path.splitext(item.text())[0] + (".mrml", ".mrb", "")[self.sceneFormat])
        self.enableNodes(self.sceneFormat == 0)

    def enableNodes(self, enabled):
        for row in range(1, _rows(self.fileWidget)):
            self.fileWidget.setRowHidden(row, not enabled)

    def exec(self):
        """qSlicerSaveDataDialog::exec: rebuild the table, then run the dialog's own event loop."""
        self.populateItems()
        if self.whileOpen is not None:
            QTimer.singleShot(0, self.whileOpen)
        return super().exec()

    # --- save ---

    @property
    def folder(self):
        return DirectoryButton.directory.fget(self.directoryButton)

    def file(self, row):
        """qSlicerSaveDataDialogPrivate::file(row): the row's folder and its file name."""
        folder = self.fileWidget.cellWidget(row, DIRECTORY).property("currentPath")
        return os.path.join(folder, self.fileWidget.item(row, FILE_NAME).text())

    def sceneFile(self):
        return self.file(0)

    def accept(self):
        self.accepts += 1
        if self.save():
            self.done(QDialog.Accepted)

    def save(self):
        sceneFile = self.sceneFile()
        if os.path.exists(sceneFile) and not self._confirmOverwrite(sceneFile):
            return False
        for row in range(1, _rows(self.fileWidget)):
            item = self.fileWidget.item(row, FILE_NAME)
            if self.fileWidget.isRowHidden(row) or item.checkState() != Qt.Checked:
                continue
            properties = {"nodeID": self.fileWidget.item(row, NODE_TYPE).text()}
            properties["fileName"] = self.file(row)
            if not self.ioManager.saveNodes("VolumeFile", properties):
                return False
        if not self.ioManager.saveNodes("SceneFile", {"fileName": sceneFile, "screenShot": None}):
            return False
        self.saves += 1
        return True

    def _confirmOverwrite(self, fileName):
        box = QMessageBox(QMessageBox.Question, "Saving file...", "The file already exists. Replace it?")
        box.setStandardButtons(QMessageBox.Yes | QMessageBox.No)

        def answer():
            if self.duringQuestion:
                self.duringQuestion()
            box.done(QMessageBox.Yes)

        QTimer.singleShot(0, answer)
        return box.exec() == QMessageBox.Yes


class StandInUtil:
    """slicer.util: saveScene(filename, properties={}) -> bool through the I/O manager; modal message boxes."""

    def __init__(self, scene, ioManager=None, dialog=None):
        self.scene = scene
        self.ioManager = ioManager or StandInIOManager(scene)
        self.dialog = dialog
        self.calls = []
        self.boxes = []

    def saveScene(self, filename, properties={}):  # noqa: B006 - Slicer's own signature
        """Save the current scene.

        Based on the extension name, different save formats are used.
        """
        self.calls.append((filename, dict(properties)))
        properties["fileName"] = filename
        return self.ioManager.saveNodes("SceneFile", properties)

    def _messageDisplay(self, icon, text, windowTitle=None):
        self.boxes.append((windowTitle, text))
        box = QMessageBox(icon, windowTitle or "Slicer", text)
        QTimer.singleShot(20, box.accept)  # the user reads it and clicks OK
        return box.exec()

    def errorDisplay(self, text, windowTitle=None, **kwargs):
        return self._messageDisplay(QMessageBox.Critical, text, windowTitle)

    def warningDisplay(self, text, windowTitle=None, **kwargs):
        return self._messageDisplay(QMessageBox.Warning, text, windowTitle)

    def openSaveDataDialog(self):
        return self.dialog.exec() == QDialog.Accepted
