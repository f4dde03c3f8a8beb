"""*Import DICOM anonymized...* and *Export anonymized DICOM...*, run in the stand-in Slicer (slicerApplication.py:
a ctkDICOMDatabase stand-in with DICOMUtils.importDicom's signature and failure answer, the subject hierarchy plugin
handler's currentItems): an import leaves only pseudonyms in the database and no staging folder; an export of the
selected patient gets the UIDs a shared copy of the scene gets under the same key. Proven against stand-ins only."""

import importlib
import os
import tempfile
import types
import zipfile

import pydicom
from dicomArchive import KEY, phiValues, writeArchive
from hospitalScenes import leaks, loadScalarVolume
from PySide6.QtWidgets import QFileDialog


def _widget(app):
    import AnonymizeOnSave

    module = importlib.reload(AnonymizeOnSave)
    module.AnonymizeOnSave(types.SimpleNamespace())
    app.startupCompleted.emit()
    logic = module.AnonymizeOnSaveLogic.instance()
    logic.settings.setKey(KEY)
    widget = module.AnonymizeOnSaveWidget()
    widget.setup()
    return module, logic, widget


def _staging():
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("anonymizeonsave-import-")}


def test_an_import_leaves_only_pseudonyms_in_the_database(app, tmp_path, monkeypatch):
    import slicer

    _, _, widget = _widget(app)
    archive = writeArchive(str(tmp_path / "pacs"))
    before = _staging()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *arguments: str(tmp_path / "pacs")))
    widget.ui.importDicomButton.click()
    assert len(slicer.dicomDatabase.files) == len(archive)
    assert all(path.startswith(slicer.dicomDatabase.folder) for path in slicer.dicomDatabase.files)
    assert leaks(slicer.dicomDatabase.folder, phiValues(archive.values())) == []
    assert f"{len(archive)} file(s) de-identified" in widget.ui.resultLabel.text and _staging() == before


def test_the_file_menu_imports_too_and_a_refusing_database_is_said(app, tmp_path, monkeypatch):
    import slicer

    _widget(app)
    writeArchive(str(tmp_path / "pacs"))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *arguments: str(tmp_path / "pacs")))
    (action,) = [a for a in app.fileMenu.actions() if a.objectName == "AnonymizeOnSaveDicomImportAction"]
    action.trigger()
    assert slicer.dicomDatabase.files and "de-identified" in app.boxes[-1][1]
    files = list(slicer.dicomDatabase.files)
    slicer.dicomDatabase.folder = str(tmp_path / "not-a-folder" / "x")  # the copy fails: importDicom answers False
    open(tmp_path / "not-a-folder", "w").close()
    action.trigger()
    assert "did not take" in app.boxes[-1][1] and slicer.dicomDatabase.files[: len(files)] == files


def test_an_export_of_the_selected_patient_matches_a_shared_copy_of_the_scene(app, tmp_path, monkeypatch):
    import slicer
    from DICOMLib import DICOMUtils

    _, logic, widget = _widget(app)
    archive = writeArchive(str(tmp_path / "pacs"))
    DICOMUtils.importDicom(str(tmp_path / "pacs"), slicer.dicomDatabase)  # the originals, linked where they are
    dataset = next(iter(archive.values()))
    loadScalarVolume(slicer.mrmlScene, dataset, (True, False, False, True))
    widget.ui.exportDicomButton.click()
    assert "Select the patients" in widget.ui.resultLabel.text
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
    patient = sh.GetItemByUID("DICOM", str(dataset.PatientID))
    slicer.qSlicerSubjectHierarchyPluginHandler.instance().select([patient])
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *arguments: str(tmp_path / "export")))
    widget.ui.exportDicomButton.click()
    exported = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path / "export") for f in fs]
    assert len(exported) == 1 and "1 file(s) de-identified" in widget.ui.resultLabel.text
    assert leaks(str(tmp_path / "export"), phiValues(archive.values())) == []
    assert logic.saveSharedCopy(str(tmp_path / "shared.mrb"))
    with zipfile.ZipFile(tmp_path / "shared.mrb") as bundle:
        scene = next(bundle.read(n).decode() for n in bundle.namelist() if n.endswith(".mrml"))
    output = pydicom.dcmread(exported[0])
    for uid in (output.StudyInstanceUID, output.SeriesInstanceUID, output.SOPInstanceUID):
        assert str(uid) in scene  # the recipient's series and scene link up


def test_a_progress_dialog_counts_the_files_and_cancel_imports_nothing(app, tmp_path, monkeypatch):
    import slicer

    _, _, widget = _widget(app)
    archive = writeArchive(str(tmp_path / "pacs"))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *arguments: str(tmp_path / "pacs")))
    widget.ui.importDicomButton.click()
    dialog = app.progressDialogs[-1]
    assert dialog.maximum == len(archive) and dialog.value in (len(archive), -1)  # full, or reset when closed
    imported = len(slicer.dicomDatabase.files)
    app.cancelProgressAfter = 2  # the user presses Cancel after two files
    before = _staging()
    widget.ui.importDicomButton.click()
    assert (
        len(slicer.dicomDatabase.files) == imported and "canceled: nothing was imported" in widget.ui.resultLabel.text
    )
    assert _staging() == before


def test_the_subject_hierarchy_context_menu_exports_a_dicom_patient(app, tmp_path, monkeypatch):
    import slicer
    from DICOMLib import DICOMUtils

    module, _, _ = _widget(app)
    handler = slicer.qSlicerSubjectHierarchyPluginHandler.instance()
    plugin = handler.pluginByName("AnonymizeOnSave")
    (action,) = plugin.itemContextMenuActions()
    archive = writeArchive(str(tmp_path / "pacs"))
    DICOMUtils.importDicom(str(tmp_path / "pacs"), slicer.dicomDatabase)
    dataset = next(iter(archive.values()))
    loadScalarVolume(slicer.mrmlScene, dataset, (True, False, False, True))
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
    patient = sh.GetItemByUID("DICOM", str(dataset.PatientID))
    other = sh.CreateItem(sh.GetSceneItemID(), slicer.mrmlScene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode"))
    plugin.showContextMenuActionsForItem(other)
    assert not action.visible  # not a DICOM item
    plugin.showContextMenuActionsForItem(patient)
    assert action.visible
    handler.select([patient])
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *arguments: str(tmp_path / "export")))
    action.trigger()
    exported = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path / "export") for f in fs]
    assert len(exported) == 1 and "1 file(s) de-identified" in app.boxes[-1][1]
    assert leaks(str(tmp_path / "export"), phiValues(archive.values())) == []
    module.registerSubjectHierarchyPlugin()  # a Reload registers nothing twice
    assert [p.name for p in handler.plugins].count("AnonymizeOnSave") == 1


def _loadedSeries(tmp_path):
    """The archive in the database where it lies, and its first patient's series loaded: (archive, dataset, item)."""
    import slicer
    from DICOMLib import DICOMUtils

    archive = writeArchive(str(tmp_path / "pacs"))
    DICOMUtils.importDicom(str(tmp_path / "pacs"), slicer.dicomDatabase)
    dataset = next(iter(archive.values()))
    volume = loadScalarVolume(slicer.mrmlScene, dataset, (True, False, False, True))
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
    return archive, dataset, sh.GetItemByDataNode(volume)


def test_export_to_dicom_offers_the_anonymized_originals_after_slicers_own_exporter(app, tmp_path):
    """Slicer's Export to DICOM dialog (stand-in written from qSlicerDICOMExportDialog.cxx) lists the anonymized
    originals as an export type below the scalar volume exporter it selects first; chosen, the series' original file
    is written de-identified to the folder, with the UIDs a shared copy of the scene gets, and the dialog says
    success."""
    import slicer
    from dicomExportDialog import ExportDialog

    module, logic, _ = _widget(app)
    archive, _, seriesItem = _loadedSeries(tmp_path)
    dialog = ExportDialog(seriesItem)
    assert [row for row, _ in dialog.rows] == [
        "Scalar Volume (DICOMScalarVolumePlugin)",
        f"Anonymized original DICOM files ({module.DICOM_EXPORT_PLUGIN})",
    ]
    assert dialog.export(dialog.rowOf(module.DICOM_EXPORT_PLUGIN), str(tmp_path / "export"))
    exported = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path / "export") for f in fs]
    assert len(exported) == 1 and dialog.errorLabel == "" and dialog.success.endswith(str(tmp_path / "export"))
    assert leaks(str(tmp_path / "export"), phiValues(archive.values())) == []
    assert logic.saveSharedCopy(str(tmp_path / "shared.mrb"))
    with zipfile.ZipFile(tmp_path / "shared.mrb") as bundle:
        scene = next(bundle.read(n).decode() for n in bundle.namelist() if n.endswith(".mrml"))
    assert str(pydicom.dcmread(exported[0]).SeriesInstanceUID) in scene
    other = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode")  # a volume with no DICOM files behind it
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
    item = sh.CreateItem(sh.GetSceneItemID(), other)  # as Slicer's subject hierarchy plugins add every data node
    assert [row for row, _ in ExportDialog(item).rows] == ["Scalar Volume (DICOMScalarVolumePlugin)"]


def test_export_to_dicom_into_the_database_adds_only_pseudonyms(app, tmp_path):
    """With "Export to folder" off the dialog indexes what the plugin wrote into the DICOM database by copy: the
    new files hold pseudonyms only."""
    import slicer
    from dicomExportDialog import ExportDialog

    module, _, _ = _widget(app)
    archive, _, seriesItem = _loadedSeries(tmp_path)
    before = list(slicer.dicomDatabase.files)
    dialog = ExportDialog(seriesItem)
    assert dialog.export(dialog.rowOf(module.DICOM_EXPORT_PLUGIN), "", toFolder=False)
    added = [path for path in slicer.dicomDatabase.files if path not in before]
    assert len(added) == 1 and dialog.success == "DICOM dataset successfully exported to the DICOM database"
    assert leaks(os.path.dirname(added[0]), phiValues(archive.values())) == []


def test_export_to_dicom_fails_with_the_cause_when_a_file_is_not_written(app, tmp_path):
    """A series whose file the database lists but the disk lacks: the dialog shows the cause (no value in it) and
    does not call the export a success."""
    import slicer
    from dicomExportDialog import ExportDialog

    module, _, _ = _widget(app)
    archive, dataset, seriesItem = _loadedSeries(tmp_path)
    dialog = ExportDialog(seriesItem)
    row = dialog.rowOf(module.DICOM_EXPORT_PLUGIN)
    os.remove(slicer.dicomDatabase.filesForSeries(str(dataset.SeriesInstanceUID))[0])
    assert not dialog.export(row, str(tmp_path / "export"))
    assert "not on disk" in dialog.errorLabel and dialog.success == ""
    assert not any(value in dialog.errorLabel for value in phiValues(archive.values()))


def test_the_export_type_is_gone_once_the_module_is_uninstalled(app, tmp_path):
    import slicer

    module, logic, _ = _widget(app)
    assert module.DICOM_EXPORT_PLUGIN in slicer.modules.dicomPlugins
    logic.uninstall()
    assert list(slicer.modules.dicomPlugins) == ["DICOMScalarVolumePlugin"]


def test_a_failure_is_said_without_the_path_it_names(app):
    """An OS error names the file it failed on, and DICOM folders are often named after the patient: the message
    keeps the reason only; the database's own message is kept whole."""
    from AnonymizeOnSaveLib.dicom.databaseActions import DicomImportError

    module, _, _ = _widget(app)
    text = module.dicomFailureText(FileNotFoundError(2, "No such file or directory", "/pacs/Müller^Jörg/IMG0001"))
    assert text.endswith("No such file or directory") and "Müller" not in text
    assert module.dicomFailureText(DicomImportError("the database did not take them")).endswith("did not take them")
