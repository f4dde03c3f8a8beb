"""Stand-ins for Slicer's Save dialog and slicer.util, reproducing what the glue relies on (SLICER_NOTES §3).

The dialog is a parentless QDialog named qSlicerSaveDataDialog with gridLayout, ShowMoreCheckBox (row 0, column 6),
FileWidget (file names in column 0) and ButtonBox (Save/Cancel), whose accepted() is connected to accept() first,
as setupUi does. accept() runs the whole save synchronously: data files first, then the scene through the core
API (not anonymized by itself), and it can open an overwrite question in a nested event loop.
"""

import os

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
)

from AnonymizeOnSaveLib import saveScene


class StandInSaveDialog(QDialog):
    def __init__(self, scene, folder, dataNode):
        super().__init__(None)
        self.scene, self.folder, self.dataNode = scene, folder, dataNode
        self.setObjectName("qSlicerSaveDataDialog")
        grid = QGridLayout(self)
        grid.setObjectName("gridLayout")
        showMore = QCheckBox("Show options")
        showMore.setObjectName("ShowMoreCheckBox")
        grid.addWidget(showMore, 0, 6)
        self.fileWidget = QTableWidget(2, 7)
        self.fileWidget.setObjectName("FileWidget")
        grid.addWidget(self.fileWidget, 1, 0, 1, 8)
        self.buttonBox = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttonBox.setObjectName("ButtonBox")
        grid.addWidget(self.buttonBox, 2, 5, 1, 2)
        self.buttonBox.accepted.connect(self.accept)  # first, as setupUi connects it
        self.buttonBox.rejected.connect(self.reject)
        self.askOverwrite = False
        self.failSceneWrite = False
        self.accepts = 0
        self.duringQuestion = None  # called inside the nested event loop
        self.populate()

    def populate(self):
        """File names as the dialog computes them when it opens: the data file from the node's name."""
        self.fileWidget.setItem(0, 0, QTableWidgetItem("scene.mrb"))
        self.fileWidget.setItem(1, 0, QTableWidgetItem(self.dataNode.GetName() + ".nrrd"))

    def fileName(self, row):
        return self.fileWidget.item(row, 0).text()

    def accept(self):
        self.accepts += 1
        if self.askOverwrite:
            box = QMessageBox(QMessageBox.Question, "Overwrite?", "The file exists. Overwrite it?")
            box.setStandardButtons(QMessageBox.Yes | QMessageBox.No)

            def answer():
                if self.duringQuestion:
                    self.duringQuestion()
                box.done(QMessageBox.Yes)

            QTimer.singleShot(0, answer)
            if box.exec() != QMessageBox.Yes:
                return
        self.dataNode.AddDefaultStorageNode()
        storage = self.dataNode.GetStorageNode()
        storage.SetFileName(os.path.join(self.folder, self.fileName(1)))
        if not storage.WriteData(self.dataNode):
            return
        target = os.path.join(self.folder, "missing-folder" if self.failSceneWrite else "", self.fileName(0))
        if not saveScene(self.scene, target, anonymize=False):
            return  # like Slicer: a failed save does not close the dialog
        super().accept()


class StandInUtil:
    """slicer.util with a saveScene like Slicer's: saveScene(filename, properties={}) -> bool."""

    def __init__(self, scene):
        self.scene = scene
        self.calls = []

    def saveScene(self, filename, properties={}):  # noqa: B006 - Slicer's own signature
        """Save the current scene.

        Based on the extension name, different save formats are used.
        """
        self.calls.append((filename, dict(properties)))
        return saveScene(self.scene, filename, anonymize=False)
