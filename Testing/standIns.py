"""Stand-ins for Slicer's Save dialog, core I/O manager and slicer.util, written from Slicer's source (main, commit
583e9b37d5, 2026): Base/QTGUI/qSlicerSaveDataDialog.cxx, Base/QTCore/qSlicerCoreIOManager.cxx,
Modules/Loadable/Data/qSlicerSceneWriter.cxx, Libs/MRML/Core/vtkMRMLScene.cxx and Base/Python/slicer/util.py. Each
method names the function it follows. They are as unforgiving as those, branch by branch:

- the dialog is a parentless QDialog named qSlicerSaveDataDialog, reused for the session, opened with exec(); every
  exec() rebuilds its table: the scene in row 0, checked only when the scene is modified since read; one row per
  storable node shown to editors, named after the node with the characters Slicer drops from file names dropped
  (its storage node renamed to match), checked only when the node is modified since read;
- accept() saves and closes only on success; save() asks before replacing an existing scene file and each existing
  data file (Yes, No, Yes to All, No to All, Cancel; the answers come from overwriteAnswers, a user's clicks); after
  No to the scene the data rows are still written and the scene is not; after No to a data file the other rows and
  the scene are; Cancel stops the rest; a failed write, a data file refused, or a bundle folder that is not empty
  leave the dialog open for another click on Save;
- the scene writer gets the layout's screenshot (a picture of the views with their node names) as its thumbnail;
- the I/O manager creates a missing folder, fails without a scene writer (the Data module's), and emits
  fileSaved(properties), the caller's properties, after each successful write;
- slicer.util message boxes are modal (a nested event loop), logged, and not shown in testing mode nor without a
  main window.
"""

import logging
import os
import re

import numpy
import slicer
import vtk
from PySide6.QtCore import Property, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter
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
from vtk.util import numpy_support

FILE_NAME, FORMAT, DIRECTORY, NODE_NAME, NODE_TYPE, STATUS = 0, 1, 2, 4, 5, 6
SCENE_TYPE_ROLE = Qt.UserRole
SCENE_FORMATS = ("MRML Scene (.mrml)", "Medical Reality Bundle (.mrb)", "Slicer Data Bundle (*)")
_FILE_NAME_CHARACTER = re.compile(r"[A-Za-z0-9 \-_.()$!~#'%^{}]")


def forceFileNameValidCharacters(name):
    """qSlicerCoreIOManager::forceFileNameValidCharacters: keeps the characters fileNameRegularExpression() allows
    ("Müller: CT" -> "Mller CT"), trimmed."""
    return "".join(character for character in name if _FILE_NAME_CHARACTER.fullmatch(character)).strip()


def grabLayout(scene, size=(320, 120)):
    """ctk::grabVTKWidget of the layout viewport, as qMRMLUtils::qImageToVtkImageData makes it: the slice
    controller bars show the names of the volumes in the views."""
    image = QImage(size[0], size[1], QImage.Format_RGB888)
    image.fill(QColor(20, 20, 30))
    painter = QPainter(image)
    painter.setPen(QColor(230, 230, 230))
    volumes = [
        scene.GetNthNodeByClass(i, "vtkMRMLVolumeNode")
        for i in range(scene.GetNumberOfNodesByClass("vtkMRMLVolumeNode"))
    ]
    for line, volume in enumerate(volumes[:6]):
        painter.drawText(4, 16 + 18 * line, volume.GetName())
    painter.end()
    pixels = numpy.frombuffer(image.constBits(), numpy.uint8).reshape(size[1], image.bytesPerLine())
    pixels = numpy.ascontiguousarray(pixels[::-1, : 3 * size[0]]).reshape(-1, 3)
    data = vtk.vtkImageData()
    data.SetDimensions(size[0], size[1], 1)
    data.GetPointData().SetScalars(numpy_support.numpy_to_vtk(pixels, deep=True))
    return data


def writeScene(scene, properties, messageBox):
    """qSlicerSceneWriter::write: the format by suffix (writeToMRML, writeToMRB, writeToDirectory); the scene moves
    to what it wrote; nothing is verified. messageBox(text): the modal box writeToDirectory opens."""
    fileName = properties["fileName"]
    folder = os.path.dirname(fileName)
    if not os.access(folder, os.W_OK):
        return False
    screenShot = properties.get("screenShot")
    screenShot = screenShot if isinstance(screenShot, vtk.vtkImageData) else None  # else an empty QPixmap
    messages = slicer.vtkMRMLMessageCollection()
    if fileName.endswith(".mrml"):
        scene.SetURL(fileName)
        scene.SetRootDirectory(folder)
        if screenShot is not None:
            scene.SaveSceneScreenshot(screenShot)  # vtkSlicerApplicationLogic::SaveSceneScreenshot
        return bool(scene.Commit())
    if fileName.endswith(".mrb"):
        scene.SetURL(fileName)
        scene.SetRootDirectory(folder)
        if not scene.WriteToMRB(fileName, screenShot, messages):
            return False
        scene.SetStorableNodesModifiedSinceRead()
        return True
    os.makedirs(fileName, exist_ok=True)
    if os.listdir(fileName):
        messageBox("Selected directory contains files or directories. Please choose an empty directory.")
        return False
    return bool(scene.SaveSceneToSlicerDataBundleDirectory(fileName, screenShot, messages))


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
        self.sceneWriterRegistered = True  # by the Data module
        self.messageBox = lambda text: None

    def saveNodes(self, fileType, properties):
        """saveNodes: no file name or no writer fails; a missing folder is created; fileSaved after a write."""
        fileName = properties.get("fileName")
        if not fileName or (fileType == "SceneFile" and not self.sceneWriterRegistered):
            return False
        folder = os.path.dirname(os.path.abspath(fileName))
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError:
            return False
        if fileType == "SceneFile":
            ok = not self.failSceneWrite and writeScene(self.scene, properties, self.messageBox)
        else:
            node = self.scene.GetNodeByID(properties["nodeID"])  # qSlicerNodeWriter::write
            if node.GetStorageNode() is None:
                node.AddDefaultStorageNode()
            storage = node.GetStorageNode()
            storage.SetFileName(fileName)
            ok = bool(storage.WriteData(node))
        if ok:
            self.fileSaved.emit(properties)
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
    """qSlicerSaveDataDialogPrivate."""

    def __init__(self, scene, folder, ioManager):
        super().__init__(None)
        self.scene, self.ioManager = scene, ioManager
        if folder and not scene.GetURL():
            scene.SetRootDirectory(folder)  # where Slicer's new scenes start: the default scene folder
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
        self.selectDataButton = QPushButton("Select modified data only")
        self.selectDataButton.setObjectName("SelectDataButton")
        self.selectDataButton.clicked.connect(self.selectModifiedData)
        grid.addWidget(self.selectDataButton, 0, 2)
        grid.addWidget(self.directoryButton, 0, 1)
        self.fileWidget = QTableWidget(0, 7)
        self.fileWidget.setObjectName("FileWidget")
        grid.addWidget(self.fileWidget, 1, 0, 1, 8)
        self.buttonBox = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttonBox.setObjectName("ButtonBox")
        grid.addWidget(self.buttonBox, 2, 5, 1, 2)
        self.buttonBox.accepted.connect(self.accept)  # first, as setupUi connects it
        self.buttonBox.rejected.connect(self.reject)
        self.ioManager.messageBox = self._modal
        self.accepts = 0
        self.saves = 0
        self.sceneFormat = 0
        self.overwriteAnswers = []  # the user's answers to the overwrite questions, in order (else Yes, the default)
        self.questions = []  # the files the overwrite question asked about
        self.duringQuestion = None  # called inside the overwrite question's nested event loop
        self.whileOpen = None  # called once the dialog's event loop runs (the user at work)
        self.confirmOverwriteAnswer = QMessageBox.Ignore
        self.cancelRequested = False

    # --- populate ---

    def populateItems(self):
        """populateItems: the scene first, then every storable node; rows shown as the scene format allows."""
        self.fileWidget.setRowCount(0)
        if not os.path.isdir(self.scene.GetRootDirectory() or ""):
            self.scene.SetRootDirectory(".")
        self.directoryButton.setProperty("directory", self.scene.GetRootDirectory())
        self.populateScene()
        for index in range(self.scene.GetNumberOfNodesByClass("vtkMRMLStorableNode")):
            self.populateNode(self.scene.GetNthNodeByClass(index, "vtkMRMLStorableNode"))
        self.enableNodes(self.sceneFormat == 0)

    def populateScene(self):
        """populateScene: the scene's URL (else "<date>-Scene.mrml" in the root folder); checked when modified."""
        url = self.scene.GetURL()
        path = os.path.join(self.scene.GetRootDirectory(), url or "2026-12-05-Scene.mrml")
        base = os.path.splitext(os.path.basename(path))[0]
        modified = bool(self.scene.GetModifiedSinceRead())
        self._addRow(base + (".mrml", ".mrb", "")[self.sceneFormat], os.path.dirname(os.path.abspath(path)), modified)
        self.fileWidget.item(0, NODE_TYPE).setData(SCENE_TYPE_ROLE, "Scene")

    def nodeFileInfo(self, node):
        """nodeFileInfo: a storage node is added when there is none, and its file is renamed after the node."""
        safeName = forceFileNameValidCharacters(node.GetName() or "")
        storage = node.GetStorageNode()
        if storage is None:
            if not node.AddDefaultStorageNode():
                return None
            storage = node.GetStorageNode()
            if storage is None:
                return None
        elif storage.GetFileName() and node.GetName() and storage.GetFileNameWithoutExtension() != safeName:
            folder = os.path.dirname(storage.GetFileName())
            storage.SetFileName(os.path.join(folder, safeName + storage.GetSupportedFileExtension()))
            node.StorableModified()
        if not storage.GetFileName():
            extension = storage.GetDefaultWriteFileExtension()
            name = safeName + ("." + extension if extension else "")
            storage.SetFileName(os.path.join(self.directoryButton.property("directory"), name))
        fileName = storage.GetFileName()
        return fileName if os.path.isabs(fileName) else os.path.join(self.scene.GetRootDirectory(), fileName)

    def populateNode(self, node):
        """populateNode: storable nodes shown to editors and saved with the scene; checked when modified."""
        if node.GetHideFromEditors() or not node.GetSaveWithScene():
            return
        fileName = self.nodeFileInfo(node)
        if not fileName:
            return
        row = self._addRow(os.path.basename(fileName), os.path.dirname(fileName), bool(node.GetModifiedSinceRead()))
        self.fileWidget.item(row, NODE_NAME).setText(node.GetName())
        self.fileWidget.item(row, NODE_NAME).setData(Qt.ToolTipRole, f"{node.GetID()} {node.GetStorageNode().GetID()}")
        self.fileWidget.item(row, NODE_TYPE).setText(node.GetNodeTagName())

    def _addRow(self, fileName, folder, checked):
        row = _rows(self.fileWidget)
        self.fileWidget.insertRow(row)
        nameItem = QTableWidgetItem(fileName)
        nameItem.setCheckState(Qt.Checked if checked else Qt.Unchecked)
        self.fileWidget.setItem(row, FILE_NAME, nameItem)
        self.fileWidget.setItem(row, NODE_NAME, QTableWidgetItem(""))
        self.fileWidget.setItem(row, NODE_TYPE, QTableWidgetItem(""))
        self.fileWidget.setItem(row, STATUS, QTableWidgetItem("Modified" if checked else "Not Modified"))
        self.fileWidget.setCellWidget(row, DIRECTORY, PathLineEdit(folder))
        return row

    def saveSceneAsDataBundle(self):
        """saveSceneAsDataBundle: toggles the scene row between .mrb and .mrml (onSceneFormatChanged hides the
        data rows for a bundle)."""
        self.sceneFormat = 1 if self.sceneFormat == 0 else 0
        item = self.fileWidget.item(0, FILE_NAME)
        item.setText(os.path.splitext(item.text())[0] + (".mrml", ".mrb", "")[self.sceneFormat])
        self.enableNodes(self.sceneFormat == 0)

    def selectModifiedData(self):
        """selectModifiedData: only the modified data rows; the scene row is unchecked."""
        for row in range(_rows(self.fileWidget)):
            modified = self.fileWidget.item(row, STATUS).text() == "Modified"
            isScene = self.fileWidget.item(row, NODE_TYPE).data(SCENE_TYPE_ROLE) == "Scene"
            self.fileWidget.item(row, FILE_NAME).setCheckState(Qt.Checked if modified and not isScene else Qt.Unchecked)

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

    def file(self, row):
        """file(row): the row's folder and its file name."""
        folder = self.fileWidget.cellWidget(row, DIRECTORY).property("currentPath")
        return os.path.join(folder, self.fileWidget.item(row, FILE_NAME).text())

    def sceneFile(self):
        return self.file(0)

    def accept(self):
        """accept: closes only when save() succeeded."""
        self.accepts += 1
        if self.save():
            self.done(QDialog.Accepted)

    def save(self):
        """save: the scene file's question first, then the data rows, then the scene unless refused or cancelled."""
        success = True
        self.confirmOverwriteAnswer = QMessageBox.Ignore
        self.cancelRequested = False
        sceneFile = self.sceneFile()
        saveSceneFile = self.fileWidget.item(0, FILE_NAME).checkState() == Qt.Checked  # mustSceneBeSaved
        if saveSceneFile and os.path.exists(sceneFile):
            saveSceneFile = self.confirmOverwrite(sceneFile)
            success = saveSceneFile
        rootBefore = self.scene.GetRootDirectory()
        self.scene.SetRootDirectory(os.path.dirname(os.path.abspath(sceneFile)))
        if not self.saveNodes():
            success = False
        if saveSceneFile and not self.cancelRequested:
            if not self.saveScene():
                success = False
        else:
            self.scene.SetRootDirectory(rootBefore)
        if success:
            self.saves += 1
        return success

    def saveNodes(self):
        """saveNodes: every shown, checked data row; an existing file only if the user agrees; a written row is
        unchecked."""
        done = True
        for row in range(1, _rows(self.fileWidget)):
            item = self.fileWidget.item(row, FILE_NAME)
            if self.cancelRequested or self.fileWidget.isRowHidden(row) or item.checkState() != Qt.Checked:
                continue
            fileName = self.file(row)
            if os.path.exists(fileName) and not self.confirmOverwrite(fileName):
                done = False
                continue
            nodeID = self.fileWidget.item(row, NODE_NAME).data(Qt.ToolTipRole).split()[0]
            properties = {"nodeID": nodeID, "fileName": os.path.abspath(fileName), "fileFormat": ""}
            if not self.ioManager.saveNodes("VolumeFile", properties):
                done = False
                continue
            item.setCheckState(Qt.Unchecked)
            self.fileWidget.item(row, STATUS).setText("Not Modified")
        return done

    def saveScene(self):
        """saveScene: the layout's screenshot goes to the scene writer with the file name."""
        properties = {"fileName": os.path.abspath(self.sceneFile()), "screenShot": grabLayout(self.scene)}
        return self.ioManager.saveNodes("SceneFile", properties)

    def confirmOverwrite(self, fileName):
        """confirmOverwrite: a modal question (a nested event loop) with five answers, unless the user answered
        Yes to All or No to All in this save."""
        answer = self.confirmOverwriteAnswer
        if answer not in (QMessageBox.NoToAll, QMessageBox.YesToAll):
            self.questions.append(fileName)
            answer = self._question(fileName)
            if answer in (QMessageBox.YesToAll, QMessageBox.NoToAll):
                self.confirmOverwriteAnswer = answer
            if answer == QMessageBox.Cancel:
                self.cancelRequested = True
        return answer in (QMessageBox.Yes, QMessageBox.YesToAll)

    def _question(self, fileName):
        buttons = QMessageBox.Yes | QMessageBox.No | QMessageBox.YesToAll | QMessageBox.NoToAll | QMessageBox.Cancel
        box = QMessageBox(
            QMessageBox.Question, "Saving file...", f"The file: {fileName} already exists.", buttons, self
        )
        answer = self.overwriteAnswers.pop(0) if self.overwriteAnswers else QMessageBox.Yes

        def click():
            if self.duringQuestion:
                self.duringQuestion()
            box.done(answer)

        QTimer.singleShot(0, click)
        return box.exec()

    def _modal(self, text):
        box = QMessageBox(QMessageBox.Warning, "Slicer", text, QMessageBox.Ok, self)
        QTimer.singleShot(0, box.accept)
        box.exec()


class StandInUtil:
    """slicer.util: saveScene(filename, properties={}) -> bool through the I/O manager; message boxes as
    _messageDisplay shows them: logged, then modal, except in testing mode or without a main window."""

    def __init__(self, scene, ioManager=None, dialog=None):
        self.scene = scene
        self.ioManager = ioManager or StandInIOManager(scene)
        self.dialog = dialog
        self.calls = []
        self.boxes = []
        self.testingEnabled = False
        self.hasMainWindow = True

    def saveScene(self, filename, properties={}):  # noqa: B006 - Slicer's own signature
        """Save the current scene.

        Based on the extension name, different save formats are used.
        """
        self.calls.append((filename, dict(properties)))
        properties["fileName"] = filename
        return self.ioManager.saveNodes("SceneFile", properties)

    def _messageDisplay(self, icon, text, windowTitle=None):
        logging.log(logging.ERROR if icon == QMessageBox.Critical else logging.WARNING, text)
        if self.testingEnabled or not self.hasMainWindow:
            return None
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
