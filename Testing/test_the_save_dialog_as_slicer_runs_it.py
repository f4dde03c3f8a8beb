"""The Save dialog's flows as qSlicerSaveDataDialog runs them (standIns.py, written from its source): an answer of
No, Cancel or No to All to the overwrite question leaves the dialog open for another click; an unchecked scene row
writes no scene; every row is written or not as the user chose. The box keeps the user's choice until the dialog
closes, and a file the save did not write is never touched. Proven against the stand-in dialog, not in Slicer.
"""

import hashlib
import os

import pytest
import vtk
from dicomScenes import leakScan
from qtShim import installQtShim

qt = installQtShim()

from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402
from test_glue import Rig, _rowOf  # noqa: E402

from AnonymizeOnSaveGlue.policySettings import PolicySettings  # noqa: E402
from AnonymizeOnSaveLib import saveScene, session  # noqa: E402


@pytest.fixture(scope="module")
def application():
    return QApplication.instance() or QApplication([])


@pytest.fixture
def rig(application, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    settings = PolicySettings(qt.QSettings(str(tmp_path / "settings.ini"), qt.QSettings.IniFormat), environment={})
    made = Rig(settings, folder)
    yield made
    made.close()


def _digest(path):
    if os.path.isdir(path):
        return sorted((name, _digest(os.path.join(path, name))) for name in os.listdir(path))
    with open(path, "rb") as stream:
        return hashlib.sha256(stream.read()).hexdigest()


def _workingFile(rig, name):
    """The user's working scene, saved plainly earlier: patient data and its link to the DICOM database."""
    path = str(rig.folder / name)
    if not name.endswith((".mrml", ".mrb")):
        os.mkdir(path)
    assert saveScene(rig.scene, path, anonymize=False)
    rig.sample.volumes[0].Modified()  # edited since: the dialog checks the scene row
    assert leakScan(path, rig.sample.phiValues)
    return path, _digest(path)


def _sceneRow(dialog, name, sceneFormat):
    """The user names the scene file and checks its row (an unmodified scene's row starts unchecked)."""
    dialog.sceneFormat = sceneFormat
    dialog.fileWidget.item(0, 0).setText(name)
    dialog.fileWidget.item(0, 0).setCheckState(qt.Qt.Checked)
    dialog.enableNodes(sceneFormat == 0)


@pytest.mark.parametrize(
    "answer", [QMessageBox.No, QMessageBox.Cancel, QMessageBox.NoToAll], ids=["No", "Cancel", "No to All"]
)
@pytest.mark.parametrize("sceneFormat", [1, 2], ids=["mrb", "directory bundle"])
def test_after_refusing_to_replace_the_working_file_a_second_click_saves_anonymized(rig, answer, sceneFormat):
    """qSlicerSaveDataDialogPrivate::save: the scene is not written and accept() returns without closing. The
    user picks another name and clicks Save again: the box is still ticked, and the save is anonymized. The working
    file was not written by the save: it is not searched, cleaned or removed."""
    extension = (".mrml", ".mrb", "")[sceneFormat]
    working, digest = _workingFile(rig, "working" + extension)

    def first(dialog):
        _sceneRow(dialog, "working" + extension, sceneFormat)
        rig.hookUi.checkBox.setChecked(True)
        dialog.overwriteAnswers = [answer]
        rig.clickSave()

    def second(dialog):
        assert rig.hookUi.checkBox.isChecked()  # the user's choice, while the dialog is open
        dialog.fileWidget.item(0, 0).setText("shared" + extension)
        rig.clickSave()

    accepted, shown = rig.openDialog([first, second])
    assert accepted and shown == [True, False] and rig.dialog.questions == [working]
    assert _digest(working) == digest
    assert leakScan(str(rig.folder / ("shared" + extension)), rig.sample.phiValues) == []
    assert rig.stateAtClick.differences() == [] and session.activeSession(rig.scene) is None
    assert not rig.hookUi.checkBox.isChecked()  # the dialog closed: the next save starts plain


def test_a_scene_row_left_unchecked_writes_the_data_anonymized_and_no_scene_file(rig):
    """ "Select modified data only" unchecks the scene row (mustSceneBeSaved() is false): the data rows are written,
    stripped; the working scene file at the scene row's path is not touched."""
    working, digest = _workingFile(rig, "working.mrml")
    before = set(os.listdir(rig.folder))

    def save(dialog):
        _sceneRow(dialog, "working.mrml", 0)
        dialog.selectDataButton.click()
        rig.hookUi.checkBox.setChecked(True)
        rig.clickSave()

    accepted, _ = rig.openDialog([save])
    assert accepted and working not in rig.dialog.questions  # its data files were: the user answered Yes
    assert _digest(working) == digest
    written = sorted(name for name in os.listdir(rig.folder) if name.endswith(".nrrd"))
    assert written and set(os.listdir(rig.folder)) - before <= set(written)
    assert all(leakScan(str(rig.folder / name), rig.sample.phiValues) == [] for name in written)
    # As after a plain save, the storage nodes point at the files written; nothing else changed.
    assert [difference for difference in rig.stateAtClick.differences() if difference[0] != "storage"] == []


def test_no_to_one_data_file_and_yes_to_the_rest_in_an_mrml_save(rig):
    """The answers per data file: No keeps that file and fails the save (the dialog stays open), Yes to All
    answers every later question; the other rows and the scene are written, stripped; the file kept is as it was."""
    assert rig.openDialog([lambda dialog: (rig.hookUi.checkBox.setChecked(True), rig.clickSave())])[0]
    rig.sample.volumes[0].Modified()
    for node in rig.sample.volumes:
        node.StorableModified()
    kept = {}

    def save(dialog):
        rig.hookUi.checkBox.setChecked(True)
        rows = [
            row
            for row in range(1, dialog.fileWidget.rowCount())
            if dialog.fileWidget.item(row, 0).checkState() == qt.Qt.Checked and os.path.exists(dialog.file(row))
        ]
        assert len(rows) >= 2
        kept["path"] = dialog.file(rows[0])
        kept["digest"] = _digest(kept["path"])
        dialog.overwriteAnswers = [QMessageBox.Yes, QMessageBox.No, QMessageBox.YesToAll]  # scene first, then data
        dialog.questions = []
        rig.clickSave()

    accepted, shown = rig.openDialog([save])
    assert not accepted and shown == [True] and len(rig.dialog.questions) == 3
    assert _digest(kept["path"]) == kept["digest"]
    assert leakScan(str(rig.folder), rig.sample.phiValues) == []
    assert session.activeSession(rig.scene) is None


def test_a_refused_save_keeps_the_rows_and_the_box_and_can_be_retried(rig):
    """Our own refusal (a .mrml would rename a data file nothing writes) leaves the dialog open with the rows as the
    user left them and the box ticked; the user checks the row again and saves, anonymized."""
    volume = rig.sample.volumes[2]  # "<patient ID> arterial"
    rig.util.errorDisplay = lambda text, windowTitle=None: rig.util.boxes.append((windowTitle, text))

    def first(dialog):
        rig.hookUi.checkBox.setChecked(True)
        dialog.fileWidget.item(_rowOf(dialog, volume), 0).setCheckState(qt.Qt.Unchecked)
        rig.clickSave()
        QApplication.processEvents()  # the refusal's message

    def second(dialog):
        assert rig.hookUi.checkBox.isChecked() and "1CT1" in dialog.fileWidget.item(_rowOf(dialog, volume), 0).text()
        dialog.fileWidget.item(_rowOf(dialog, volume), 0).setCheckState(qt.Qt.Checked)
        rig.clickSave()

    accepted, shown = rig.openDialog([first, second])
    assert accepted and shown == [True, False] and len(rig.util.boxes) == 1
    assert leakScan(str(rig.folder), rig.sample.phiValues) == []


def _pixels(path):
    reader = vtk.vtkPNGReader()
    reader.SetFileName(path)
    reader.Update()
    scalars = reader.GetOutput().GetPointData().GetScalars()
    return {scalars.GetTuple(index) for index in range(scalars.GetNumberOfTuples())}


def _thumbnail(rig, name, tmp_path):
    """The thumbnail a save wrote: beside a .mrml, in a bundle folder, or extracted from an .mrb."""
    import zipfile

    path = str(rig.folder / name)
    base = os.path.splitext(name)[0]
    if name.endswith(".mrml"):
        return str(rig.folder / (base + ".png"))
    if name.endswith(".mrb"):
        with zipfile.ZipFile(path) as bundle:
            return bundle.extract(f"{base}/{base}.png", str(tmp_path / "extracted"))
    return os.path.join(path, name + ".png")


@pytest.mark.parametrize("sceneFormat", [0, 1, 2], ids=["mrml", "mrb", "directory bundle"])
def test_the_thumbnail_of_an_anonymized_save_shows_nothing(rig, tmp_path, sceneFormat):
    """The Save dialog passes a grab of the layout (node names in the slice controller bars) to the scene writer;
    an anonymized save writes a flat picture instead. A plain save keeps Slicer's picture."""
    names = [("plain", False), ("shared", True)]
    for stem, tick in names:
        name = stem + (".mrml", ".mrb", "")[sceneFormat]

        def save(dialog, name=name, tick=tick):
            _sceneRow(dialog, name, sceneFormat)
            rig.hookUi.checkBox.setChecked(tick)
            rig.clickSave()

        assert rig.openDialog([save])[0]
        for index in range(rig.scene.GetNumberOfNodesByClass("vtkMRMLStorableNode")):
            rig.scene.GetNthNodeByClass(index, "vtkMRMLStorableNode").StorableModified()  # every row checked again
        pixels = _pixels(_thumbnail(rig, name, tmp_path))
        assert (len(pixels) == 1) == tick


@pytest.mark.parametrize("bundle", [False, True], ids=["mrml and data files side by side", "mrb"])
def test_a_ticked_save_cleans_models_segmentations_and_tables_in_every_byte(rig, bundle):
    """The third format for the binary data: a .mrml whose rows write closed-surface segmentations, models and an
    SQLite table beside it, each through its own storage node (slicer-core's writers), then the check."""
    from binaryDataScene import VALUES, _closedSurfaceSegmentation, _model, _planarContours, _sqliteTable
    from hospitalScenes import hospitalDatasets, leaks, loadScalarVolume

    loadScalarVolume(rig.scene, hospitalDatasets()[0], (True, False, False, True))
    _closedSurfaceSegmentation(rig.scene, "Surfaces", compressed=True)
    _planarContours(rig.scene)
    _model(rig.scene, "Surface")
    _model(rig.scene, "Surface xml", extension="vtp")
    _sqliteTable(rig.scene)
    assert rig.saveThroughDialog(bundle=bundle)
    written = {name for _, _, names in os.walk(rig.folder) for name in names}
    if not bundle:
        assert {"Surface.vtk", "Surface xml.vtp", "Surfaces.seg.vtm"} <= written
        assert any(name.endswith(".sqlite3") for name in written)
    assert leaks(str(rig.folder), VALUES) == []
