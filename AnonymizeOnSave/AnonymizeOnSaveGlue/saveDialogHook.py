"""The "Anonymize subject hierarchy" checkbox in Slicer's Save dialog, and the bracket around the dialog's save.

The dialog (qSlicerSaveDataDialog's private, parentless QDialog) runs the whole save in accept(), connected to
ButtonBox.accepted in setupUi. QDialogButtonBox emits clicked() before accepted(): the save starts there, and
ends in a slot connected to accepted() after Slicer's own, which runs once accept() has returned - also when it
opened the overwrite question in a nested event loop. accept() leaves the dialog open when save() fails (an answer
of No or Cancel to an overwrite question, a failed write, a bundle folder that is not empty): the user may click
Save again, so the box keeps its state until the dialog closes (finished). Cancel and close end any bracket still
open. The Data module owns the dialog and is unloaded before extensions see aboutToQuit: once it is destroyed, the
hook touches none of its widgets.
"""

import logging
import os

from slicer.i18n import tr as _

from AnonymizeOnSaveLib import AnonymizationError, PolicyError, scenePhiMatcher
from AnonymizeOnSaveLib.fileNames import replaceInFileName

from .policySettings import EVERY_SAVE
from .saveBracket import SaveBracket

DIALOG_NAME = "qSlicerSaveDataDialog"
FILE_NAME_COLUMN = 0  # qSlicerSaveDataDialogPrivate::FileNameColumn, also SelectColumn (its check state)
FILE_DIRECTORY_COLUMN = 2  # FileDirectoryColumn: a ctkPathLineEdit cell widget (currentPath)
NODE_NAME_COLUMN = 4  # NodeNameColumn; its item's tool tip is "<node ID> <storage node ID>" (createNodeNameItem)
NODE_TYPE_COLUMN = 5  # NodeTypeColumn; the scene row's item there has SceneTypeRole (Qt::UserRole) == "Scene"
CHECKBOX_ROW, CHECKBOX_COLUMN = 0, 5  # left of ShowMoreCheckBox (row 0, column 6 in qSlicerSaveDataDialog.ui)


def qtProperty(qobject, name):
    """A Qt property's value: PythonQt exposes properties as attributes (hiding the getter), PySide6 as getters."""
    value = getattr(qobject, name)
    return value() if callable(value) else value


def findSaveDialog(application):
    """The Save dialog: a parentless QDialog that lives for the whole session."""
    for widget in application.topLevelWidgets():
        if qtProperty(widget, "objectName") == DIALOG_NAME:
            return widget
    return None


class SaveDialogHook:
    """Adds the checkbox and brackets the dialog's save while it is checked.

    warn(title, text) shows an error; annotations (optional) has hide()/restore() for what the MRB thumbnail
    would show (slice view corner annotations).
    """

    def __init__(self, qt, dialog, scene, hook, settings, warn, postSaveCheck=None, annotations=None):
        self.qt, self.dialog, self.scene, self.hook, self.settings = qt, dialog, scene, hook, settings
        self.warn, self.postSaveCheck, self.annotations = warn, postSaveCheck, annotations
        self.bracket = None
        self.dialogDestroyed = False
        self._hidden = False
        self._renamed = []  # (row item, the name the user left) of rows this save renamed
        grid = dialog.findChild(qt.QGridLayout, "gridLayout")
        self.buttonBox = dialog.findChild(qt.QDialogButtonBox, "ButtonBox")
        self.fileWidget = dialog.findChild(qt.QTableWidget, "FileWidget")
        if grid is None or self.buttonBox is None:
            raise RuntimeError("Slicer's Save dialog does not have the expected layout")
        self.checkBox = qt.QCheckBox(_("Anonymize subject hierarchy"))
        self.checkBox.setObjectName("AnonymizeOnSaveCheckBox")
        grid.addWidget(self.checkBox, CHECKBOX_ROW, CHECKBOX_COLUMN)
        self.refresh()
        self._connections = (
            (self.buttonBox.clicked, self.onClicked),
            (self.buttonBox.accepted, self.endSave),
            (self.buttonBox.rejected, self.endSave),
            (dialog.finished, self.onFinished),
            (dialog.destroyed, self.onDialogDestroyed),
        )
        for signal, slot in self._connections:
            signal.connect(slot)

    def refresh(self):
        """Show the policy: ticked and disabled when every save is anonymized, else unticked (one save at a time)."""
        if self.dialogDestroyed:
            return
        everySave = self.settings.mode() == EVERY_SAVE
        self.checkBox.setChecked(everySave)
        self.checkBox.setEnabled(not everySave)
        if everySave:
            reason = self.settings.lockReason() or _("the Anonymize On Save policy is 'Every save'")
            self.checkBox.setToolTip(_("Every scene save is anonymized: ") + reason)
        else:
            self.checkBox.setToolTip(
                _(
                    "Write this save without patient names, IDs, birth dates, study and series details, DICOM UIDs "
                    "and dates (and any node or file name holding them). The session is not changed. Do not tick "
                    "it for your working scene: a scene saved anonymized loses its link to the DICOM database. "
                    "To share, use File > Save anonymized copy for sharing."
                )
            )

    def remove(self):
        """Take the box out of the dialog; after the dialog was destroyed, only end a bracket still open."""
        self.endSave()
        if self.dialogDestroyed:
            return
        for signal, slot in self._connections:
            signal.disconnect(slot)
        self.checkBox.setParent(None)
        self.checkBox.deleteLater()

    def onDialogDestroyed(self, *arguments):
        """The Data module was unloaded (application exit): its widgets are gone, ours with them."""
        self.dialogDestroyed = True
        self.endSave()

    def onFinished(self, *arguments):
        """The dialog closed: end any bracket, and the next save starts as the policy says."""
        self.endSave()
        self.refresh()

    def onClicked(self, button):
        if self.buttonBox.buttonRole(button) != self.qt.QDialogButtonBox.AcceptRole or self.bracket is not None:
            return
        if not self.checkBox.isChecked():
            return
        try:
            self._startSave()
        except Exception as error:
            self._refuse(error)

    def _refuse(self, error):
        """Fail closed: this click must not reach accept(), whatever happens after; the rows are as the user left
        them.

        QDialogButtonBox emits accepted() right after clicked() returns, with no event processed in between: with
        its signals blocked now, that emission is dropped. The warning (a modal box with its own event loop in
        Slicer) and the unblocking wait for a zero-delay timer, which cannot fire before that point.
        """
        self.buttonBox.blockSignals(True)
        cause = str(error) if isinstance(error, (AnonymizationError, PolicyError)) else type(error).__name__
        try:
            self._restoreRowNames()
            self.endSave()
        finally:
            self.qt.QTimer.singleShot(0, lambda: self._afterRefusal(cause))

    def _afterRefusal(self, cause):
        if not self.dialogDestroyed:
            self.buttonBox.blockSignals(False)
        message = _("The scene could not be anonymized, so nothing was saved: ") + cause
        try:
            self.warn(_("Scene not saved"), message)
        except Exception as error:  # the save is refused either way; the message must not be lost
            logging.error("AnonymizeOnSave: %s (the warning could not be shown: %s)", message, type(error).__name__)

    def _startSave(self):
        policy = self.settings.policy()
        written = self._writtenStorageNodeIDs()
        self._cleanFileNames(policy)
        if self.annotations is not None:
            self.annotations.hide()
            self._hidden = True
        self.bracket = SaveBracket(
            self.scene, self.hook, policy, self.postSaveCheck, target=self._sceneFile(), writtenStorageNodeIDs=written
        )
        try:
            self.bracket.begin()
        except AnonymizationError:
            self.bracket = None
            raise

    def _rows(self):
        return range(qtProperty(self.fileWidget, "rowCount")) if self.fileWidget is not None else range(0)

    def _isSceneRow(self, row):
        typeItem = self.fileWidget.item(row, NODE_TYPE_COLUMN)
        return typeItem is not None and typeItem.data(self.qt.Qt.UserRole) == "Scene"

    def _sceneFile(self):
        """The scene row's file, as qSlicerSaveDataDialogPrivate::sceneFile() makes it: its folder (the row's path
        edit) joined with its name ("Scene.mrml", "Scene.mrb", a bundle folder's name); None when there is none."""
        for row in self._rows():
            if self._isSceneRow(row):
                nameItem = self.fileWidget.item(row, FILE_NAME_COLUMN)
                folderEdit = self.fileWidget.cellWidget(row, FILE_DIRECTORY_COLUMN)
                folder = folderEdit.property("currentPath") if folderEdit is not None else None
                name = nameItem.text() if nameItem is not None else None
                return os.path.join(folder, name) if name and folder else name
        return None

    def _writtenStorageNodeIDs(self):
        """The storage nodes of the data rows the dialog writes (qSlicerSaveDataDialogPrivate::saveNodes: shown and
        checked), from each row's node name tool tip, "<node ID> <storage node ID>"."""
        written = set()
        for row in self._rows():
            nameItem = self.fileWidget.item(row, FILE_NAME_COLUMN)
            nodeItem = self.fileWidget.item(row, NODE_NAME_COLUMN)
            if self._isSceneRow(row) or self.fileWidget.isRowHidden(row) or nameItem is None or nodeItem is None:
                continue
            if nameItem.checkState() == self.qt.Qt.Checked:
                written.update(str(nodeItem.data(self.qt.Qt.ToolTipRole) or "").split()[1:2])
        return written

    def _cleanFileNames(self, policy):
        """Data files are named after nodes ("MRN123 arterial.nrrd"): no written file name may carry PHI."""
        matcher = scenePhiMatcher(self.scene, policy)
        self._renamed = []
        for row in self._rows():
            item = self.fileWidget.item(row, FILE_NAME_COLUMN)
            if item is not None:
                name = item.text()
                clean = replaceInFileName(matcher, name)
                if clean != name:
                    self._renamed.append((item, name))
                    item.setText(clean)

    def _restoreRowNames(self):
        renamed, self._renamed = self._renamed, []
        for item, name in renamed:
            item.setText(name)

    def endSave(self, *arguments):
        """End any bracket still open (the box keeps its state: the dialog may stay open for another try)."""
        bracket, self.bracket = self.bracket, None
        self._renamed = []
        if bracket is not None:
            bracket.end()
        self._restoreAnnotations()

    def _restoreAnnotations(self):
        if self._hidden:
            self._hidden = False
            self.annotations.restore()
