"""The scan/clean tool on files written by slicer-core: plain saves found and cleaned, nothing else touched."""

import io
import os
import pathlib
import shutil
import zipfile

import pytest
import vtk
from dicomScenes import buildSampleScene, leakScan, newScene, normalizedItemIds
from vtk.util.numpy_support import vtk_to_numpy

from AnonymizeOnSaveLib import Policy, saveScene
from AnonymizeOnSaveLib.sceneFiles import SceneFileError, cleanPath, scanPath

POLICY = Policy(key="files-key")
FORMATS = ["scene.mrb", "scene.mrml", "bundle"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Plain and anonymized saves of the sample scene in every format (written once for the module)."""
    folder = tmp_path_factory.mktemp("saved")
    sample, twin = buildSampleScene(), buildSampleScene()  # one scene per folder: Slicer keeps the last save's paths
    # The same leaf folder name for both: Slicer names a bundle's unnamed data files after the last save's folder.
    os.makedirs(folder / "plain" / "saved")
    os.makedirs(folder / "anonymized" / "saved")
    for name in FORMATS:
        assert saveScene(sample.scene, str(folder / "plain" / "saved" / name), anonymize=False)
        assert saveScene(twin.scene, str(folder / "anonymized" / "saved" / name), policy=POLICY)
    sample.folder = folder
    return sample


@pytest.mark.parametrize("name", FORMATS)
def test_plain_saves_are_found_and_cleaned(saved, tmp_path, name):
    plain = str(saved.folder / "plain" / "saved" / name)
    result = scanPath(plain, POLICY)
    assert result and {"names", "identifiers", "dates", "uids"} <= {f.category for f in result.findings}
    report = ""
    for finding in result.findings:
        report += f"{finding.file} {finding.place} {finding.category}\n"
    assert all(value not in report.replace(plain, "") for value in saved.phiValues)  # places never hold values
    cleaned = str(tmp_path / name)
    cleanPath(plain, cleaned, policy=POLICY)
    assert leakScan(cleaned, saved.phiValues) == []
    assert not scanPath(cleaned, POLICY)
    assert not scanPath(cleaned, Policy(key="someone else's key"))  # anonymized output is recognised as such


@pytest.mark.parametrize("name", FORMATS)
def test_anonymized_saves_scan_clean(saved, name):
    assert not scanPath(str(saved.folder / "anonymized" / "saved" / name), POLICY)


def _sceneText(path):
    if path.endswith(".mrb"):
        with zipfile.ZipFile(path) as bundle:
            (member,) = [n for n in bundle.namelist() if n.endswith(".mrml")]
            return bundle.read(member).decode("utf-8")
    if os.path.isdir(path):
        return pathlib.Path(path, os.path.basename(path) + ".mrml").read_text(encoding="utf-8")
    return pathlib.Path(path).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", FORMATS)
def test_cleaning_a_plain_save_gives_what_an_anonymized_save_writes(saved, tmp_path, name):
    cleaned = str(tmp_path / name)
    cleanPath(str(saved.folder / "plain" / "saved" / name), cleaned, policy=POLICY)
    anonymized = _sceneText(str(saved.folder / "anonymized" / "saved" / name))
    assert normalizedItemIds(_sceneText(cleaned)) == normalizedItemIds(anonymized)


def test_untouched_zip_entries_are_byte_identical(saved, tmp_path):
    plain, cleaned = str(saved.folder / "plain" / "saved" / "scene.mrb"), str(tmp_path / "scene.mrb")
    cleanPath(plain, cleaned, policy=POLICY)
    with zipfile.ZipFile(plain) as before, zipfile.ZipFile(cleaned) as after:
        fields = ("date_time", "compress_type", "CRC", "compress_size", "file_size", "external_attr", "create_system")
        kept = 0
        for old, new in zip(before.infolist(), after.infolist()):
            if old.filename == new.filename and old.CRC == new.CRC:
                assert [getattr(old, f) for f in fields] == [getattr(new, f) for f in fields]
                assert _raw(plain, old) == _raw(cleaned, new)  # the compressed bytes, not recompressed
                kept += 1
        assert kept >= 4  # the volumes and the segmentation have no PHI
        assert len(before.infolist()) == len(after.infolist())
        assert after.testzip() is None


def _raw(path, info):
    with open(path, "rb") as stream:
        stream.seek(info.header_offset + 26)
        nameLength, extraLength = int.from_bytes(stream.read(2), "little"), int.from_bytes(stream.read(2), "little")
        stream.seek(info.header_offset + 30 + nameLength + extraLength)
        return stream.read(info.compress_size)


def test_data_files_named_with_phi_are_renamed_and_the_cleaned_bundle_reloads(saved, tmp_path):
    plain, cleaned = str(saved.folder / "plain" / "saved" / "scene.mrb"), str(tmp_path / "scene.mrb")
    with zipfile.ZipFile(plain) as bundle:
        assert any("1CT1" in name for name in bundle.namelist())  # the user-named volume's file
    cleanPath(plain, cleaned, policy=POLICY)
    with zipfile.ZipFile(cleaned) as bundle:
        assert not any("1CT1" in name for name in bundle.namelist())
    loaded = newScene()
    assert loaded.ReadFromMRB(cleaned)
    for volume in saved.volumes:
        reloaded = loaded.GetNodeByID(volume.GetID())
        assert reloaded.GetImageData() is not None, "a renamed data file was not found again"
        original = vtk_to_numpy(volume.GetImageData().GetPointData().GetScalars())
        assert (vtk_to_numpy(reloaded.GetImageData().GetPointData().GetScalars()) == original).all()
    sh = loaded.GetFirstNodeByClass("vtkMRMLSubjectHierarchyNode")
    children = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), children, True)
    levels = sorted(sh.GetItemLevel(children.GetId(i)) for i in range(children.GetNumberOfIds()))
    assert levels.count("Patient") == 2 and levels.count("Study") == 2
    assert loaded.GetNodeByID(saved.sequence.GetID()).GetNumberOfDataNodes() == saved.sequence.GetNumberOfDataNodes()


def test_in_place_cleaning_replaces_the_file_atomically(saved, tmp_path):
    target = tmp_path / "scene.mrb"
    shutil.copy(saved.folder / "plain" / "saved" / "scene.mrb", target)
    cleanPath(str(target), inPlace=True, policy=POLICY)
    assert leakScan(str(target), saved.phiValues) == []
    assert sorted(os.listdir(tmp_path)) == ["scene.mrb"]  # no temporary left behind
    bundle = tmp_path / "bundle"
    shutil.copytree(saved.folder / "plain" / "saved" / "bundle", bundle)
    cleanPath(str(bundle), inPlace=True, policy=POLICY)
    assert leakScan(str(bundle), saved.phiValues) == []


def test_the_input_is_never_modified(saved, tmp_path):
    plain = saved.folder / "plain" / "saved" / "scene.mrb"
    before = plain.read_bytes()
    cleanPath(str(plain), str(tmp_path / "out.mrb"), policy=POLICY)
    assert plain.read_bytes() == before
    with pytest.raises(SceneFileError):
        cleanPath(str(plain), str(tmp_path / "out.mrb"), policy=POLICY)  # an existing destination is refused


def test_known_values_from_a_live_scene_are_found_anywhere_in_the_xml(saved, tmp_path):
    from AnonymizeOnSaveLib.phiText import PhiTextMatcher

    anonymized = str(saved.folder / "anonymized" / "saved" / "scene.mrml")
    text = pathlib.Path(anonymized).read_text(encoding="utf-8").replace('name="Segmentation"', 'name="Seg 1CT1"')
    leaked = tmp_path / "leaked.mrml"
    leaked.write_text(text, encoding="utf-8")
    matcher = PhiTextMatcher([("1CT1", "ANONX", "identifiers")])
    assert not scanPath(anonymized, POLICY, matcher=matcher)
    assert [f.category for f in scanPath(str(leaked), POLICY, matcher=matcher).findings] == ["knownValue"]


def test_nested_bundles_are_scanned_and_cleaned(saved, tmp_path):
    """A .seq.mrb inside an .mrb (how sequences of segmentations or models are saved) holds a whole scene."""
    inner = tmp_path / "inner.seq.mrb"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("inner/inner.mrml", _sceneText(str(saved.folder / "plain" / "saved" / "scene.mrml")))
    outer = tmp_path / "outer.mrb"
    shutil.copy(saved.folder / "plain" / "saved" / "scene.mrb", outer)
    with zipfile.ZipFile(outer, "a") as bundle:
        bundle.write(inner, "scene/Data/inner.seq.mrb")
    result = scanPath(str(outer), POLICY)
    assert any("inner.seq.mrb!" in finding.place for finding in result.findings)
    cleaned = tmp_path / "clean.mrb"
    cleanPath(str(outer), str(cleaned), policy=POLICY)
    assert leakScan(str(cleaned), saved.phiValues) == []  # leakScan opens nested zips too
    assert not scanPath(str(cleaned), POLICY)
    with zipfile.ZipFile(cleaned) as bundle:
        assert zipfile.is_zipfile(io.BytesIO(bundle.read("scene/Data/inner.seq.mrb")))
