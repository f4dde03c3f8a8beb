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
import pytest
from dicomArchive import KEY, phiValues, writeArchive
from hospitalScenes import leaks, loadScalarVolume
from PySide6.QtWidgets import QApplication, QFileDialog
from slicerApplication import slicerApplication


@pytest.fixture(scope="module")
def qtApplication():
    return QApplication.instance() or QApplication([])


@pytest.fixture
def app(qtApplication, tmp_path, monkeypatch):
    monkeypatch.delenv("SLICER_ANONYMIZE_ON_SAVE", raising=False)
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    with slicerApplication(str(tmp_path)) as application:
        yield application


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
