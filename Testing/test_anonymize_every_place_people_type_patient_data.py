"""Patient values typed into every place Slicer writes (markups labels and descriptions, segment names, IDs and
tags, table cells and column names, short and long text, colour names, module parameters, sequence indices), in
a scene with every node type, saved with slicer-core in the three formats: no byte of any file holds one, only
the matched part of a label or cell is replaced, the live scene keeps every value and is left as a plain save
leaves it, and cleaning a plain save with the file tool gives the anonymized save byte for byte."""

import os
import pathlib
import re
import zipfile

import pytest
import slicer
from dicomScenes import LiveState, buildSampleScene, newScene, normalizedItemIds, savedState
from everyPlaceScene import buildSceneWithPhiEverywhere, dataState
from hospitalScenes import leaks
from sceneChanges import shItems

from AnonymizeOnSaveLib import Policy, saveScene
from AnonymizeOnSaveLib.sceneFiles import cleanPath, scanPath

FORMATS = ["scene.mrb", "scene.mrml", "bundle"]
POLICY = Policy(key="every-place-key")
DATA_SUFFIXES = (".mrk.json", ".tsv", ".txt", ".csv", ".ctbl", ".seg.nrrd")


def _saveTwins(folder, **scene):
    """Each format saved anonymized from one scene and plainly from its twin; the states before and after."""
    (anonymized, values), (plain, _) = buildSceneWithPhiEverywhere(**scene), buildSceneWithPhiEverywhere(**scene)
    result = {"folder": folder, "values": values, "scene": anonymized, "data": dataState(anonymized)}
    result["live"], result["plainLive"], result["states"] = LiveState(anonymized), LiveState(plain), []
    for label in ("anonymized", "plain"):
        os.makedirs(folder / label / "saved")  # the same leaf folder: Slicer names some files after it
    for name in FORMATS:
        assert saveScene(anonymized, str(folder / "anonymized" / "saved" / name), policy=POLICY)
        assert saveScene(plain, str(folder / "plain" / "saved" / name), anonymize=False)
        result["states"].append((savedState(anonymized), savedState(plain)))
    return result


@pytest.fixture(scope="module")
def saves(tmp_path_factory):
    """Seven markups, segments, a table, texts, colour tables, parameters, a date-indexed sequence, a model and a
    transform, with the values of four patients (Latin with accents, Irish, Japanese, Cyrillic) and a Korean one's
    image sequence."""
    return _saveTwins(tmp_path_factory.mktemp("every"))


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """The same, with the patients whose series names Slicer writes into data file names whole: a Cyrillic or
    Korean series description is cut to 50 characters of escapes in a plain save's file names, so the file tool
    cannot give those files the name the live save gives them (the oracle above checks they hold no PHI)."""
    return _saveTwins(tmp_path_factory.mktemp("twins"), patients=(0, 2, 3), sequencePatient=1)


def _path(saves, label, name):
    return str(saves["folder"] / label / "saved" / name)


@pytest.mark.parametrize("name", FORMATS)
def test_no_value_typed_anywhere_reaches_a_byte_written(saves, name):
    assert leaks(_path(saves, "anonymized", name), saves["values"]) == []
    # The oracle finds them in the plain save, in the data files too: the check above is not vacuous.
    places = {place for place, _ in leaks(_path(saves, "plain", name), saves["values"])}
    expected = (".mrml",) if name.endswith(".mrml") else (".mrml", *DATA_SUFFIXES)
    for suffix in expected:
        assert any(place.split(" (")[0].endswith(suffix) for place in places), suffix


def _files(path):
    """relative name -> bytes, for every file of a save (the entries of an .mrb)."""
    if path.endswith(".mrb"):
        with zipfile.ZipFile(path) as bundle:
            return {info.filename: bundle.read(info) for info in bundle.infolist() if not info.is_dir()}
    if os.path.isfile(path):
        return {os.path.basename(path): pathlib.Path(path).read_bytes()}
    return {
        os.path.relpath(os.path.join(folder, name), path): pathlib.Path(folder, name).read_bytes()
        for folder, _, names in os.walk(path)
        for name in names
    }


def _text(files, suffix):
    (name,) = [name for name in files if name.endswith(suffix)]
    return files[name].decode("utf-8")


def test_only_the_matched_part_of_data_is_replaced_and_the_bundle_reloads(saves):
    path = _path(saves, "anonymized", "scene.mrb")
    files = _files(path)
    table = _text(files, "Measurements.tsv").splitlines()
    assert table[0].split("\t")[:3] == ["Patient", "MRN", "Volume (ml)"] and table[0].endswith(" mm")
    assert [row.split("\t")[2:] for row in table[1:]] == [["12.5", "3"], ["3.0", "4"]]
    assert all(row.split("\t")[0].startswith("ANON^") for row in table[1:])
    assert "Report for ANON^" in _text(files, "Report.txt")
    reloaded = newScene()
    assert reloaded.ReadFromMRB(path)
    points = reloaded.GetFirstNodeByName("Findings 0")
    assert points.GetNthControlPointLabel(0).endswith(" tumour") and points.GetNthControlPointLabel(1) == "Findings 0-2"
    assert ", born [date], ANON" in points.GetNthControlPointDescription(0)
    segments = reloaded.GetFirstNodeByClass("vtkMRMLSegmentationNode").GetSegmentation()
    names = [segments.GetSegment(segmentId).GetName() for segmentId in segments.GetSegmentIDs()]
    assert names[0].endswith(" liver") and names[2] == "Kidney"
    colors = reloaded.GetFirstNodeByName("Organs")
    assert colors.GetColorName(0) == "background" and colors.GetColorName(1).endswith(" liver")
    parameters = reloaded.GetFirstNodeByClass("vtkMRMLScriptedModuleNode")
    assert parameters.GetParameter("Threshold") == "120" and parameters.GetParameter("Patient").startswith("ANON^")
    assert isinstance(points, slicer.vtkMRMLMarkupsFiducialNode)


def test_the_live_scene_keeps_every_value_and_is_left_as_a_plain_save_leaves_it(twins):
    assert dataState(twins["scene"]) == twins["data"]
    # What changed is what the plain save changed in its twin: the file names Slicer gives hidden nodes' data.
    changed = repr(twins["live"].differences()).replace("/anonymized/saved", "/plain/saved")
    assert changed == repr(twins["plainLive"].differences())
    for anonymized, plain in twins["states"]:  # after each format: modified flags, owners, lookups
        assert anonymized == plain


def _comparable(name, data):
    """What may differ between two saves of twin scenes: item IDs (a process-wide counter) and the temporary
    folder Slicer's colour table writer names in its first comment line (a plain save writes it too)."""
    if name.endswith(".mrml"):
        return normalizedItemIds(data.decode("utf-8")).encode("utf-8")
    if name.endswith(".ctbl"):
        return re.sub(rb"^# Color table file [^\n]*", b"", data)
    return data


@pytest.mark.parametrize("name", FORMATS)
def test_cleaning_a_plain_save_gives_byte_for_byte_what_the_anonymized_save_writes(twins, tmp_path, name):
    cleaned = str(tmp_path / name)
    cleanPath(_path(twins, "plain", name), cleaned, policy=POLICY)
    want, got = _files(_path(twins, "anonymized", name)), _files(cleaned)
    assert sorted(got) == sorted(want)
    different = [entry for entry in want if _comparable(entry, got[entry]) != _comparable(entry, want[entry])]
    assert different == []
    assert len(want) >= (1 if name.endswith(".mrml") else 20)
    assert not scanPath(cleaned, POLICY)


@pytest.mark.parametrize("name", FORMATS)
def test_a_name_the_patient_item_keeps_after_its_patient_name_was_corrected_is_searched_everywhere(tmp_path, name):
    """A loaded patient's item is named after the patient; a typo corrected in DICOM.PatientName afterwards leaves
    the old spelling in the item's name, and wherever the user typed it: it is searched for too."""
    scene = buildSampleScene().scene
    sh, patients = shItems(scene, "Patient")
    sh.SetItemName(patients[0], "Quackenbush^Eleanor (1CT1)")  # as loaded, before the correction
    sh.SetItemAttribute(patients[0], "DICOM.PatientName", "Quackenbusch^Eleanor")
    scene.AddNewNodeByClass("vtkMRMLScriptedModuleNode", "Quackenbush liver follow-up")
    assert saveScene(scene, str(tmp_path / name), policy=POLICY)
    assert leaks(str(tmp_path / name), ["Quackenbush^Eleanor", "Quackenbusch^Eleanor"]) == []


@pytest.mark.parametrize("name", FORMATS)
def test_a_patient_item_without_a_patient_name_is_saved_with_its_name_replaced(tmp_path, name):
    """A DICOM patient item that holds only its ID (no DICOM.PatientName): its name is replaced by the pseudonym of
    the ID (the save failed on it once), and the file tool reads it the same way."""
    scene = newScene()
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    patient = sh.CreateSubjectItem(sh.GetSceneItemID(), "Quackenbush^Eleanor (PID778812)")
    sh.SetItemUID(patient, "DICOM", "PID778812")
    assert saveScene(scene, str(tmp_path / name), policy=POLICY)
    assert leaks(str(tmp_path / name), ["Quackenbush^Eleanor", "PID778812"]) == []
    assert saveScene(scene, str(tmp_path / f"plain-{name}"), anonymize=False)
    assert scanPath(str(tmp_path / f"plain-{name}"), POLICY).findings


@pytest.mark.parametrize("name", ["scene.mrml", "scene.mrb"])
@pytest.mark.parametrize(
    ("itemName", "patientName"),
    [
        ("Anonymized (1CT1)", "CompressedSamples^CT1"),  # a user hiding the name in the item
        ("No name", "CompressedSamples^CT1"),
        ("Singleton^Mary (1CT1)", "CompressedSamples^CT1"),
        ("ANON^0QE4CDZ82H (1CT1)", "CompressedSamples^CT1"),  # named after a pseudonym, by hand or a tool
        ("No name (1CT1)", "No name"),  # Slicer's name for a file without one
        ("ANONYMIZED (1CT1)", "ANONYMIZED"),  # other tools' output
        ("Frame^Janet (1CT1)", "Frame^Janet"),  # a surname that is a word of Slicer's attribute names
    ],
)
def test_patient_names_and_item_names_made_of_common_words_are_saved(tmp_path, name, itemName, patientName):
    """Names made of words Slicer or this tool write into every scene (fileName, FrameOfReferenceUID, Anonymized
    study, YES) failed every save when searched alone (a hunt found each)."""
    scene = buildSampleScene().scene
    sh, patients = shItems(scene, "Patient")
    sh.SetItemName(patients[0], itemName)
    sh.SetItemAttribute(patients[0], "DICOM.PatientName", patientName)
    assert saveScene(scene, str(tmp_path / name), policy=POLICY)
