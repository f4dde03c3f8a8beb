"""A patient's values typed into closed-surface segmentations (.seg.vtm + .vtp, compressed appended data and ascii),
models (legacy .vtk binary and ASCII, .vtp) and an SQLite table, and cut short in a long file name: saved with
slicer-core, anonymized, as a shared copy, and cleaned from a plain save by the file tool; the oracle, which decodes
every layer itself, finds none of them in any byte, and finds them all in the plain save."""

import os
import sqlite3
import zipfile

import pytest
import slicer
import vtk
from binaryDataScene import CUT_NAME, FAMILY, LONG_NAME, PATIENT, VALUES, buildBinaryDataScene
from dicomScenes import newScene
from hospitalScenes import leaks

from AnonymizeOnSaveLib import Policy, saveScene, saveSharedCopy
from AnonymizeOnSaveLib.sceneFiles import SceneFileError, cleanPath, scanPath
from AnonymizeOnSaveLib.verify import VerificationError, verifyOutput

FORMATS = ["scene.mrb", "bundle"]
POLICY = Policy(key="binary-data-key")
# Where the plain save holds the values: each reader's format, so the checks below are not vacuous.
PLAIN_PLACES = (
    ".seg_0.vtp",
    ".seq.mrb!",
    "RTSTRUCT contours.seg_0.vtp",
    "Surface.vtk",
    "Surface ascii.vtk",
    "Surface xml.vtp",
    ".sqlite3",
    "_I119.vtk (name)",
)


@pytest.fixture(scope="module")
def saves(tmp_path_factory):
    folder = tmp_path_factory.mktemp("binary")
    result = {"folder": folder}
    for label in ("plain", "anonymized", "shared"):
        os.makedirs(folder / label)
    plain, result["values"] = buildBinaryDataScene()
    anonymized, _ = buildBinaryDataScene()
    for name in FORMATS:
        assert saveScene(plain, str(folder / "plain" / name), anonymize=False)
        assert saveScene(anonymized, str(folder / "anonymized" / name), policy=POLICY)
    shared, _ = buildBinaryDataScene()
    assert saveSharedCopy(shared, str(folder / "shared" / "copy.mrb"), policy=POLICY)
    result["anonymizedScene"] = anonymized
    return result


@pytest.mark.parametrize("name", FORMATS)
def test_the_plain_save_holds_the_values_in_every_binary_format(saves, name):
    places = {place for place, _ in leaks(str(saves["folder"] / "plain" / name), saves["values"])}
    for expected in PLAIN_PLACES:
        assert any(expected in place for place in places), expected


@pytest.mark.parametrize("name", FORMATS)
def test_an_anonymized_save_holds_none_in_any_byte(saves, name):
    assert leaks(str(saves["folder"] / "anonymized" / name), saves["values"]) == []


def test_a_shared_copy_holds_none_in_any_byte(saves):
    assert leaks(str(saves["folder"] / "shared" / "copy.mrb"), saves["values"]) == []


def test_the_live_segments_models_and_table_keep_their_values(saves):
    scene = saves["anonymizedScene"]
    segments = scene.GetFirstNodeByName("Surfaces").GetSegmentation()
    assert segments.GetSegment(f"tumour_{PATIENT['PatientID']}").GetName() == f"{FAMILY} tumour"
    model = scene.GetFirstNodeByName("Surface").GetPolyData()
    assert model.GetFieldData().GetAbstractArray(f"Patient {FAMILY}").GetValue(0) == PATIENT["PatientName"]
    table = scene.GetFirstNodeByClass("vtkMRMLTableNode")
    assert table.GetCellText(0, 0) == PATIENT["PatientName"]
    assert scene.GetFirstNodeByName(LONG_NAME) is not None


@pytest.mark.parametrize("name", FORMATS)
def test_cleaning_a_plain_save_leaves_no_value_and_slicer_reads_it_back(saves, tmp_path, name):
    cleaned = str(tmp_path / name)
    cleanPath(str(saves["folder"] / "plain" / name), cleaned, policy=POLICY)
    assert leaks(cleaned, saves["values"]) == []
    assert not scanPath(cleaned, POLICY)
    # Slicer reads it back as it reads the plain save (which fails on the table alone: vtkMRMLTableSQLiteStorageNode
    # writes no table name into the scene, so no SQLite table is ever read back from a saved scene).
    scene = newScene()
    assert _read(scene, cleaned) == _read(newScene(), str(saves["folder"] / "plain" / name))
    segments = scene.GetFirstNodeByName("Surfaces").GetSegmentation()
    names = [segments.GetSegment(segmentId).GetName() for segmentId in segments.GetSegmentIDs()]
    assert names[0].startswith("ANON^") and names[0].endswith(" tumour") and names[1] == "Kidney"
    assert segments.GetSegment(segments.GetSegmentIDs()[0]).GetRepresentation("Closed surface").GetNumberOfPoints()
    for modelName in ("Surface", "Surface ascii", "Surface xml"):
        polyData = scene.GetFirstNodeByName(modelName).GetPolyData()
        assert polyData.GetNumberOfPoints() == 122 and polyData.GetNumberOfPolys() == 240
        labels = polyData.GetPointData().GetAbstractArray("Point labels")
        assert labels.GetValue(1) == "point 1" and labels.GetValue(7).endswith(" point 7")


def _read(scene, path):
    if path.endswith(".mrb"):
        return scene.ReadFromMRB(path)
    scene.SetURL(os.path.join(path, os.path.basename(path) + ".mrml"))
    return scene.Import()


def _sqliteFile(path, tmp_path):
    with zipfile.ZipFile(path) as bundle:
        (entry,) = [name for name in bundle.namelist() if name.endswith(".sqlite3")]
        target = tmp_path / "table.sqlite3"
        target.write_bytes(bundle.read(entry))
    return str(target)


def test_the_cleaned_sqlite_table_keeps_its_rows_and_holds_no_freed_page(saves, tmp_path):
    cleaned = str(tmp_path / "scene.mrb")
    cleanPath(str(saves["folder"] / "plain" / "scene.mrb"), cleaned, policy=POLICY)
    connection = sqlite3.connect(_sqliteFile(cleaned, tmp_path))
    ((table,),) = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    rows = connection.execute(f'SELECT rowid, * FROM "{table}"').fetchall()
    assert [row[0] for row in rows] == [1, 2] and rows[1][1:] == ("phantom", "none", "13.5")
    assert rows[0][1].startswith("ANON^") and rows[0][3] == "12.5"
    assert connection.execute("PRAGMA freelist_count").fetchone()[0] == 0


def _lz4Model(folder, value):
    """A .vtp a VTK build with LZ4 wrote: no reader here inflates LZ4, so its strings cannot be read."""
    polyData = vtk.vtkPolyData()
    names = vtk.vtkStringArray()
    names.SetName("Patient")
    names.InsertNextValue(value)
    polyData.GetFieldData().AddArray(names)
    writer = vtk.vtkXMLPolyDataWriter()
    writer.SetCompressorTypeToLZ4()
    writer.SetInputData(polyData)
    writer.SetFileName(str(folder / "model.vtp"))
    assert writer.Write()


def test_a_file_no_reader_can_decode_fails_the_check_and_is_removed(tmp_path):
    output = tmp_path / "bundle"
    output.mkdir()
    _lz4Model(output, "somebody else")
    with pytest.raises(VerificationError, match=r"model\.vtp \(unreadable: a VTK XML file compressed with vtkLZ4"):
        verifyOutput(str(output), [(PATIENT["PatientName"], "ANON^X", "names")], POLICY)
    assert not output.exists()


def test_the_file_tool_names_a_file_it_cannot_read(tmp_path):
    _lz4Model(tmp_path, PATIENT["PatientName"])
    with pytest.raises(SceneFileError, match="vtkLZ4DataCompressor cannot be read"):
        scanPath(str(tmp_path), POLICY)


def test_legacy_and_xml_models_keep_every_point_after_cleaning(saves, tmp_path):
    cleaned = str(tmp_path / "bundle")
    cleanPath(str(saves["folder"] / "plain" / "bundle"), cleaned, policy=POLICY)
    for name in ("Surface.vtk", "Surface ascii.vtk", "Surface xml.vtp"):
        before, after = (
            _points(os.path.join(folder, "Data", name)) for folder in (saves["folder"] / "plain" / "bundle", cleaned)
        )
        assert before == after and len(before) == 122


def _points(path):
    reader = vtk.vtkXMLPolyDataReader() if path.endswith(".vtp") else vtk.vtkPolyDataReader()
    reader.SetFileName(path)
    reader.Update()
    points = reader.GetOutput().GetPoints()
    return [points.GetPoint(index) for index in range(points.GetNumberOfPoints())]


def test_slicer_itself_reads_the_segment_ids_and_names_the_cleaner_wrote(saves, tmp_path):
    cleaned = str(tmp_path / "bundle")
    cleanPath(str(saves["folder"] / "plain" / "bundle"), cleaned, policy=POLICY)
    scene = newScene()
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    storage = slicer.vtkMRMLSegmentationStorageNode()
    storage.SetFileName(os.path.join(cleaned, "Data", "Surfaces uncompressed.seg.vtm"))
    assert storage.ReadData(node)
    segmentation = node.GetSegmentation()
    ids = list(segmentation.GetSegmentIDs())
    assert len(ids) == 2 and ids[0].startswith("tumour_") and PATIENT["PatientID"] not in ids[0]
    assert segmentation.GetSegment(ids[0]).GetName().endswith(" tumour")


def test_legacy_models_and_an_sqlite_table_alone_are_cleaned_not_reported_clean(tmp_path):
    """Without VTK XML files (whose header an older check read and refused), the save must still find the values
    in the legacy models' string arrays and the SQLite cells: it once reported success with them written."""
    scene, values = buildBinaryDataScene()
    for name in ("Surface xml", "Surfaces", "Surfaces uncompressed"):
        scene.RemoveNode(scene.GetFirstNodeByName(name))
    assert saveScene(scene, str(tmp_path / "scene.mrb"), policy=POLICY)
    assert leaks(str(tmp_path / "scene.mrb"), values) == []


def _names(path):
    if path.endswith(".mrb"):
        with zipfile.ZipFile(path) as bundle:
            return bundle.namelist()
    return [os.path.join(folder, name) for folder, _, names in os.walk(path) for name in names]


@pytest.mark.parametrize("name", FORMATS)
def test_a_name_cut_inside_the_family_name_is_replaced_whole(saves, tmp_path, name):
    cut = CUT_NAME.split(" family")[0].replace("ü", "%ffc3%ffbc")[:45]  # what ClampFileName keeps
    assert cut.endswith("densch") and any(cut in entry for entry in _names(str(saves["folder"] / "plain" / name)))
    cleaned = str(tmp_path / name)
    cleanPath(str(saves["folder"] / "plain" / name), cleaned, policy=POLICY)
    assert not any("densch" in entry for entry in _names(cleaned))
    assert any("Kidney surface model of the ANON^" in entry for entry in _names(cleaned))
    assert not any("densch" in entry for entry in _names(str(saves["folder"] / "anonymized" / name)))


def test_a_seg_vtm_is_checked_with_the_blocks_it_names_and_nothing_else_in_their_folder(tmp_path):
    """The check after a save reads the blocks a .seg.vtm names (its writer wrote them with it); a block an earlier
    save left in the same folder was not written by this save and is not touched."""
    from AnonymizeOnSaveLib.verify import companionPaths, verifyOutput

    scene, _ = buildBinaryDataScene()
    node = scene.GetFirstNodeByName("Surfaces uncompressed")
    node.GetStorageNode().SetFileName(str(tmp_path / "Surfaces.seg.vtm"))
    assert node.GetStorageNode().WriteData(node)
    stale = tmp_path / "Surfaces.seg" / "Surfaces.seg_7.vtp"
    stale.write_bytes((tmp_path / "Surfaces.seg" / "Surfaces.seg_0.vtp").read_bytes())
    blocks = companionPaths(str(tmp_path / "Surfaces.seg.vtm"))
    assert sorted(os.path.basename(block) for block in blocks) == ["Surfaces.seg_0.vtp", "Surfaces.seg_1.vtp"]
    before = stale.read_bytes()
    known = [(PATIENT["PatientName"], "ANON^X", "names"), (PATIENT["PatientID"], "ANONID", "identifiers")]
    for block in blocks:
        verifyOutput(block, known, POLICY)
    assert leaks(str(tmp_path / "Surfaces.seg" / "Surfaces.seg_0.vtp"), VALUES) == []
    assert stale.read_bytes() == before
