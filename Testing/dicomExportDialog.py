"""Slicer's *Export to DICOM...* dialog as a stand-in, written from Slicer's source (main, 2026):
qSlicerDICOMExportDialog.cxx (examineSelectedItem, exportSeries, onExport), qSlicerDICOMExportable.h, DICOMLib's
DICOMPlugin.py base class, and DICOMScalarVolumePlugin.examineForExport (the exporter every volume gets, confidence
0.5). Proven against this stand-in only: the real dialog's widgets and PythonQt's conversions are not these."""

import logging
import os
import tempfile
import time
import traceback

import slicer
import vtk


class DICOMPlugin:
    """DICOMLib.DICOMPlugin: the base of every DICOM plugin; loadType, the pre-cached tags, and the virtual calls
    answering nothing (examineForImport [], examineForExport [], export "")."""

    def __init__(self):
        self.loadType = "Generic DICOM"
        self.loadableCache = {}
        self.tags = {"seriesInstanceUID": "0020,000E", "modality": "0008,0060", "instanceUID": "0008,0018"}
        self.tempDir = None

    def examineForImport(self, fileList):
        return []

    def examineForExport(self, subjectHierarchyItemID):
        return []

    def export(self, exportable):
        return ""


class DICOMExportable:
    """qSlicerDICOMExportable: its properties (name, tooltip, subjectHierarchyItemID, pluginClass, directory,
    confidence) and tags."""

    def __init__(self):
        self.name = self.tooltip = self.pluginClass = self.directory = ""
        self.subjectHierarchyItemID, self.confidence, self._tags = 0, 0.0, {}

    def setTag(self, name, value):
        self._tags[name] = value

    def tag(self, name):
        return self._tags.get(name, "")


class ScalarVolumeExporter(DICOMPlugin):
    """DICOMScalarVolumePlugin, its examineForExport: one exportable (confidence 0.5) for a scalar volume node. Its
    export (new files made from the voxels) is not this stand-in's: choosing it fails."""

    def examineForExport(self, subjectHierarchyItemID):
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        dataNode = shNode.GetItemDataNode(subjectHierarchyItemID)
        if dataNode is None or not dataNode.IsA("vtkMRMLScalarVolumeNode"):
            return []
        exportable = slicer.qSlicerDICOMExportable()
        exportable.name, exportable.subjectHierarchyItemID = "Scalar Volume", subjectHierarchyItemID
        exportable.pluginClass, exportable.confidence = "DICOMScalarVolumePlugin", 0.5
        return [exportable]

    def export(self, exportables):
        raise NotImplementedError("the stand-in does not make DICOM files from voxels")


class ExportDialog:
    """qSlicerDICOMExportDialog for the item the user right-clicked (currentItemID): rows of exportables grouped by
    plugin, highest mean confidence first (examineSelectedItem); export(row, folder, toFolder) as onExport runs it.
    errorLabel and the success box's text are kept as the dialog shows them."""

    def __init__(self, currentItemID):
        self.errorLabel, self.success = "", ""
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        if shNode.GetItemLevel(currentItemID) == "Study":  # every child of a study, data node or not
            children = vtk.vtkIdList()
            shNode.GetItemChildren(currentItemID, children, False)
            series = [children.GetId(index) for index in range(children.GetNumberOfIds())]
        elif shNode.GetItemDataNode(currentItemID) is not None:
            series = [currentItemID]
        else:
            raise ValueError("Can only export data node or study item")  # qCritical, and an empty list
        byPlugin = {}
        for itemId in series:
            exportables = []
            for pluginClass in slicer.modules.dicomPlugins:
                plugin = slicer.modules.dicomPlugins[pluginClass]()
                try:
                    exportables.extend(plugin.examineForExport(itemId))
                except Exception:
                    logging.error(f"Failed to get exportables from plugin {type(plugin).__name__}")
                    traceback.print_exc()
            for exportable in exportables:
                byPlugin.setdefault(exportable.pluginClass, []).append(exportable)
        ordered = sorted(byPlugin.values(), key=lambda found: -sum(e.confidence for e in found) / len(found))
        self.rows = [(f"{found[0].name} ({found[0].pluginClass})", found) for found in ordered]

    def rowOf(self, pluginClass):
        return next(index for index, (_, found) in enumerate(self.rows) if found[0].pluginClass == pluginClass)

    def export(self, row, folder, toFolder=True):
        """onExport with the row selected (0: the one the dialog selects) and the output folder; with toFolder off
        the files go to a temporary folder, are indexed into the database by copy and that folder's top-level files
        are removed (subfolders stay, as in Slicer). True on success."""
        self.errorLabel = ""
        if not toFolder:
            stamp = time.strftime("%Y%m%d_%H%M%S")
            folder = os.path.join(tempfile.mkdtemp(dir=slicer.app.folder), f"DICOMExportTemp_{stamp}")
            os.makedirs(folder)
        done = self._exportSeries(self.rows[row][1], folder)
        if not toFolder:
            if done:
                from DICOMLib import DICOMUtils

                DICOMUtils.importDicom(folder, slicer.dicomDatabase, True)  # ctkDICOMIndexer.addDirectory(copy)
            for name in os.listdir(folder):
                if os.path.isfile(os.path.join(folder, name)):
                    os.remove(os.path.join(folder, name))
            if not os.listdir(folder):
                os.rmdir(folder)
        if done:
            self.success = "DICOM dataset successfully exported to " + (folder if toFolder else "the DICOM database")
        return done

    def _exportSeries(self, exportables, folder):
        for exportable in exportables:
            exportable.directory = folder
        plugin = slicer.modules.dicomPlugins[exportables[0].pluginClass]()
        try:
            errorMessage = plugin.export(exportables)
        except Exception:
            errorMessage = "DICOM export failed. See application log for details"
            logging.error(f"Failed to export using plugin {type(plugin).__name__}")
            traceback.print_exc()
        if errorMessage is None:
            self.errorLabel = "Error occurred in exporter"
            return False
        if errorMessage:
            self.errorLabel = errorMessage
            return False
        return True
