"""*Anonymized original DICOM files*, an export type of Slicer's *Export to DICOM...* dialog: a DICOM plugin
(DICOMLib.DICOMPlugin, registered in slicer.modules.dicomPlugins as Slicer's own plugins register), offered for
series loaded from the DICOM database. The dialog (qSlicerDICOMExportDialog.cxx) asks every plugin for exportables
of each selected series (examineForExport), sets the folder it chose on them and calls export(exportables) of the
plugin the user picked; a non-empty answer is shown as the error and the export is not called a success."""

import slicer
from DICOMLib import DICOMPlugin
from slicer.i18n import tr as _

CONFIDENCE = 0.1  # below Slicer's own exporters (0.5): never the dialog's first choice, chosen on purpose


class AnonymizeOnSaveDICOMPlugin(DICOMPlugin):
    """Exports nothing new: the original files of each series, de-identified with the key scenes are saved with."""

    registeredAs = ""  # its key in slicer.modules.dicomPlugins, which the dialog finds it by (pluginClass)

    def __init__(self):
        super().__init__()
        self.loadType = _("Anonymized original DICOM files")

    def examineForExport(self, subjectHierarchyItemID):
        """One exportable for a series with a data node whose files the DICOM database holds."""
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        seriesUid = shNode.GetItemUID(subjectHierarchyItemID, "DICOM")
        database = getattr(slicer, "dicomDatabase", None)
        if not seriesUid or shNode.GetItemDataNode(subjectHierarchyItemID) is None or not database:
            return []
        if not database.filesForSeries(seriesUid, 1):
            return []
        exportable = slicer.qSlicerDICOMExportable()
        exportable.name = self.loadType
        exportable.tooltip = _(
            "The series' original files from the DICOM database, de-identified with your Anonymize On Save key: "
            "a shared copy of the scene links to them."
        )
        exportable.subjectHierarchyItemID = subjectHierarchyItemID
        exportable.pluginClass = self.registeredAs
        exportable.confidence = CONFIDENCE
        return [exportable]

    def export(self, exportables):
        """De-identify the series into the dialog's folder: "" when every file was written and checked, else the
        reason (counts and masked paths, never a value). A warning names files whose pixels were not checked."""
        import AnonymizeOnSave
        from AnonymizeOnSaveLib import PolicyError

        if not exportables:
            return _("Nothing to export")
        logic = AnonymizeOnSave.AnonymizeOnSaveLogic.instance()
        items = [exportable.subjectHierarchyItemID for exportable in exportables]
        folder = exportables[0].directory
        try:
            summary = logic.exportDicomAnonymized(items, folder)
        except (PolicyError, OSError) as error:
            return AnonymizeOnSave.dicomFailureText(error)
        text = AnonymizeOnSave.dicomSummaryText(summary, _("Exported to ") + folder)
        if summary.errors or summary.messages or not summary.cleaned:
            return text
        if summary.pixelsNotChecked:
            logic.warn(_("Anonymize On Save"), text)
        return ""


def register(name):
    """Put the plugin under name where the DICOM module and the export dialog find plugins (the dictionary made if
    the DICOM module has not made it yet, as Slicer's plugins do)."""
    if not hasattr(slicer.modules, "dicomPlugins"):
        slicer.modules.dicomPlugins = {}
    AnonymizeOnSaveDICOMPlugin.registeredAs = name
    slicer.modules.dicomPlugins[name] = AnonymizeOnSaveDICOMPlugin
