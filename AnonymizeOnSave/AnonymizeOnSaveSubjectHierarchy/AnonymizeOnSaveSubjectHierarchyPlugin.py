"""*Export anonymized DICOM...* in the subject hierarchy's context menu of a DICOM patient, study or series: a
scripted subject hierarchy plugin (the place Slicer lets extensions add item actions, as Segment Editor does),
loaded by path with qSlicerSubjectHierarchyScriptedPlugin.setPythonSource, which makes the class named as this
file. Kept out of the module folder's top level, where Slicer would take a .py file for a module."""

import qt
import slicer
from AbstractScriptedSubjectHierarchyPlugin import AbstractScriptedSubjectHierarchyPlugin
from slicer.i18n import tr as _


class AnonymizeOnSaveSubjectHierarchyPlugin(AbstractScriptedSubjectHierarchyPlugin):
    """A function plugin (it owns no item): one context menu action for DICOM items."""

    filePath = __file__

    def __init__(self, scriptedPlugin):
        scriptedPlugin.name = "AnonymizeOnSave"
        AbstractScriptedSubjectHierarchyPlugin.__init__(self, scriptedPlugin)
        self.exportAction = qt.QAction(_("Export anonymized DICOM..."), scriptedPlugin)
        self.exportAction.objectName = "AnonymizeOnSaveExportDicomAction"
        self.exportAction.toolTip = _("The original DICOM files of the selected items, de-identified with your key.")
        self.exportAction.connect("triggered()", self.onExport)

    def canAddNodeToSubjectHierarchy(self, node, parentItemID):
        return 0.0

    def canOwnSubjectHierarchyItem(self, itemID):
        return 0.0

    def roleForPlugin(self):
        return "N/A"

    def itemContextMenuActions(self):
        return [self.exportAction]

    def sceneContextMenuActions(self):
        return []

    def showContextMenuActionsForItem(self, itemID):
        """Shown for an item of a DICOM load: a patient or study, or a series with its data."""
        self.exportAction.visible = False
        if not itemID:
            return
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        dicom = bool(shNode.GetItemUID(itemID, "DICOM"))
        grouping = shNode.GetItemLevel(itemID) in ("Patient", "Study")
        self.exportAction.visible = dicom and (grouping or shNode.GetItemDataNode(itemID) is not None)

    def onExport(self):
        import AnonymizeOnSave

        AnonymizeOnSave.AnonymizeOnSaveLogic.instance().exportDicomInteractively()
