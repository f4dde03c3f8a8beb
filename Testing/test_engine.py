"""The live-scene engine on real MRML (slicer-core): the three save formats, restoring, failing closed."""

import logging
import os
import pathlib
import zipfile

import pytest
import slicer
import vtk
from dicomScenes import (
    LiveState,
    buildSampleScene,
    leakScan,
    newScene,
    normalizedItemIds,
    sceneXml,
    useLiveMrmlPath,
)
from vtk.util.numpy_support import vtk_to_numpy
from writeFaults import beforeEveryWrite

from AnonymizeOnSaveLib import AnonymizationError, Policy, anonymizedScene, installSaveHook, saveScene, session

FORMATS = ["scene.mrml", "scene.mrb", "bundle"]
POLICY = Policy(key="test-key")


@pytest.fixture
def sample():
    return buildSampleScene()


@pytest.mark.parametrize("name", FORMATS)
def test_a_plain_save_leaks_so_the_scan_is_not_vacuous(sample, tmp_path, name):
    assert saveScene(sample.scene, tmp_path / name, anonymize=False)
    assert leakScan(str(tmp_path / name), sample.phiValues)


@pytest.mark.parametrize("name", FORMATS)
def test_anonymized_save_writes_no_phi_and_leaves_the_scene_as_a_plain_save_does(tmp_path, name):
    anonymized, plain = buildSampleScene(), buildSampleScene()
    before = sceneXml(anonymized.scene)
    assert normalizedItemIds(before) == normalizedItemIds(sceneXml(plain.scene))
    assert saveScene(anonymized.scene, _target(tmp_path, "a", name), policy=POLICY)
    assert saveScene(plain.scene, _target(tmp_path, "p", name), anonymize=False)
    assert leakScan(_target(tmp_path, "a", name), anonymized.phiValues) == []
    # Byte for byte the scene a plain save leaves (Slicer's own save adds storage nodes to MRB/bundle saves).
    assert normalizedItemIds(sceneXml(anonymized.scene)) == normalizedItemIds(sceneXml(plain.scene))
    if name.endswith(".mrml"):
        assert sceneXml(anonymized.scene) == before


def _target(tmp_path, folder, name):
    os.makedirs(tmp_path / folder, exist_ok=True)
    return str(tmp_path / folder / name)


def test_sequence_items_attributes_reach_the_header_anonymized(sample, tmp_path):
    target = str(tmp_path / "scene.mrb")
    assert saveScene(sample.scene, target, policy=POLICY)
    with zipfile.ZipFile(target) as bundle:
        headers = [bundle.read(n) for n in bundle.namelist() if n.endswith(".seq.nrrd")]
    assert headers, "the sequence was not written as .seq.nrrd"
    header = headers[0].split(b"\n\n", 1)[0].decode("latin-1")
    attributeLines = [line for line in header.splitlines() if "DICOM.instanceUIDs:=" in line]
    assert len(attributeLines) == sample.sequence.GetNumberOfDataNodes()
    assert all(":=2.25." in line for line in attributeLines)


def test_anonymized_mrb_reloads_with_the_same_hierarchy_and_data(sample, tmp_path):
    target = str(tmp_path / "scene.mrb")
    assert saveScene(sample.scene, target, policy=POLICY)
    loaded = newScene()
    assert loaded.ReadFromMRB(target)

    def shape(scene):
        sh = scene.GetFirstNodeByClass("vtkMRMLSubjectHierarchyNode")
        children = vtk.vtkIdList()
        sh.GetItemChildren(sh.GetSceneItemID(), children, True)
        items = [children.GetId(i) for i in range(children.GetNumberOfIds())]
        return sorted(
            (sh.GetItemLevel(i), sh.GetNumberOfItemChildren(i), sh.GetItemDataNode(i) is not None) for i in items
        )

    assert shape(loaded) == shape(sample.scene)
    for volume in sample.volumes:
        reloaded = loaded.GetNodeByID(volume.GetID())
        assert (vtk_to_numpy(reloaded.GetImageData().GetPointData().GetScalars()) == _voxels(volume)).all()
    sequence = loaded.GetNodeByID(sample.sequence.GetID())
    assert sequence.GetNumberOfDataNodes() == sample.sequence.GetNumberOfDataNodes()
    segmentation = loaded.GetNodeByID(sample.segmentation.GetID())
    assert (
        segmentation.GetSegmentation().GetNumberOfSegments()
        == sample.segmentation.GetSegmentation().GetNumberOfSegments()
    )
    sh = loaded.GetFirstNodeByClass("vtkMRMLSubjectHierarchyNode")
    patients = [i for i in _items(sh) if sh.GetItemLevel(i) == "Patient"]
    assert patients and all(sh.GetItemAttribute(p, "DICOM.PatientIdentityRemoved") == "YES" for p in patients)
    assert all(sh.GetItemAttribute(p, "DICOM.DeidentificationMethod").startswith("AnonymizeOnSave") for p in patients)


def _patientIds(scene):
    sh = scene.GetFirstNodeByClass("vtkMRMLSubjectHierarchyNode")
    return [sh.GetItemUID(item, "DICOM") for item in _items(sh) if sh.GetItemLevel(item) == "Patient"]


def _voxels(volume):
    return vtk_to_numpy(volume.GetImageData().GetPointData().GetScalars())


def _items(sh):
    children = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), children, True)
    return [children.GetId(i) for i in range(children.GetNumberOfIds())]


def test_same_key_gives_the_same_output_in_two_saves_and_two_scenes(tmp_path):
    first, second = buildSampleScene(), buildSampleScene()
    assert saveScene(first.scene, _target(tmp_path, "1", "scene.mrml"), policy=POLICY)
    assert saveScene(second.scene, _target(tmp_path, "2", "scene.mrml"), policy=Policy(key="test-key"))
    assert saveScene(second.scene, _target(tmp_path, "3", "scene.mrml"), policy=Policy(key="other-key"))
    texts = [
        normalizedItemIds(pathlib.Path(_target(tmp_path, folder, "scene.mrml")).read_text(encoding="utf-8"))
        for folder in "123"
    ]
    assert texts[0] == texts[1]
    assert texts[0] != texts[2]


def test_exception_inside_the_block_restores_the_scene(sample):
    before = LiveState(sample.scene)
    with pytest.raises(KeyError), anonymizedScene(sample.scene, POLICY) as report:
        assert report.total > 0
        xml = sceneXml(sample.scene)
        assert all(value not in xml for value in sample.phiValues)
        raise KeyError("boom")
    assert before.differences() == []
    assert session.activeSession(sample.scene) is None


def test_nested_blocks_strip_once(sample):
    before = sceneXml(sample.scene)
    with anonymizedScene(sample.scene, POLICY):
        stripped = sceneXml(sample.scene)
        with anonymizedScene(sample.scene, POLICY):
            assert sceneXml(sample.scene) == stripped
        assert sceneXml(sample.scene) == stripped
    assert sceneXml(sample.scene) == before


def _failingSites(monkeypatch, failAfter):
    """Make the (failAfter+1)-th write of a strip raise, as a broken node would; a restore writes."""
    counter = {"writes": 0, "restoring": False}

    def broken(value):
        if counter["writes"] >= failAfter and not counter["restoring"]:
            raise RuntimeError("simulated failure")
        counter["writes"] += 1

    realRestore = session.AnonymizationSession._restoreApplied

    def restoring(self):
        counter["restoring"] = True
        try:
            realRestore(self)
        finally:
            counter["restoring"] = False

    beforeEveryWrite(monkeypatch, broken)
    monkeypatch.setattr(session.AnonymizationSession, "_restoreApplied", restoring)


@pytest.mark.parametrize("name", FORMATS)
def test_strip_failure_writes_nothing_and_restores_the_scene(sample, tmp_path, monkeypatch, caplog, name):
    useLiveMrmlPath(monkeypatch)
    before = LiveState(sample.scene)
    _failingSites(monkeypatch, failAfter=5)
    assert not saveScene(sample.scene, tmp_path / name, policy=POLICY)
    assert not os.path.exists(tmp_path / name)
    assert before.differences() == []
    assert "anonymization failed, nothing was written" in caplog.text
    assert "could not replace the value at" in caplog.text


def test_a_failure_while_a_mrml_is_cleaned_by_string_writes_nothing(sample, tmp_path, monkeypatch, caplog):
    from AnonymizeOnSaveLib import mrmlString, sceneWriter

    before = LiveState(sample.scene)

    def broken(*arguments, **keywords):
        raise RuntimeError("simulated failure quoting 1CT1")

    monkeypatch.setattr(mrmlString, "planChanges", broken)
    assert not saveScene(sample.scene, tmp_path / "scene.mrml", policy=POLICY)
    assert os.listdir(tmp_path) == [] and before.differences() == []
    assert "anonymization failed, nothing was written (RuntimeError)" in caplog.text and "1CT1" not in caplog.text
    caplog.clear()
    monkeypatch.setattr(sceneWriter, "sceneText", broken)  # Commit to a string
    assert not saveScene(sample.scene, tmp_path / "scene.mrml", policy=POLICY)
    assert os.listdir(tmp_path) == [] and "nothing was written (RuntimeError)" in caplog.text


def test_unwritable_target_returns_false_and_restores(sample, tmp_path, caplog):
    before = LiveState(sample.scene)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert not saveScene(sample.scene, blocker / "scene.mrb", policy=POLICY)
    assert "does not exist" in caplog.text
    occupied = tmp_path / "scene.mrb"
    occupied.mkdir()
    (occupied / "keep").write_text("x")
    assert not saveScene(sample.scene, occupied, policy=POLICY)
    assert (occupied / "keep").read_text() == "x"
    assert before.differences() == []


def test_mrml_save_refuses_data_file_names_with_phi_and_mrb_renames_them(sample, tmp_path, caplog):
    volume = sample.volumes[0]
    volume.AddDefaultStorageNode()
    patientId = _patientIds(sample.scene)[0]
    volume.GetStorageNode().SetFileName(str(tmp_path / f"{patientId} arterial.nrrd"))
    before = LiveState(sample.scene)
    assert not saveScene(sample.scene, _target(tmp_path, "m", "scene.mrml"), policy=POLICY)
    assert "file name" in caplog.text and patientId not in caplog.text
    assert not os.path.exists(_target(tmp_path, "m", "scene.mrml"))
    assert saveScene(sample.scene, _target(tmp_path, "b", "scene.mrb"), policy=POLICY)
    assert leakScan(_target(tmp_path, "b", "scene.mrb"), sample.phiValues) == []
    with zipfile.ZipFile(_target(tmp_path, "b", "scene.mrb")) as bundle:
        assert not any(patientId in name for name in bundle.namelist())
    assert before.differences() == []
    assert volume.GetStorageNode().GetFileName() == str(tmp_path / f"{patientId} arterial.nrrd")


def test_500_save_cycles_do_not_drift(sample, tmp_path):
    before = LiveState(sample.scene)
    target = str(tmp_path / "scene.mrml")
    assert saveScene(sample.scene, target, policy=POLICY)
    first = pathlib.Path(target).read_bytes()
    for _ in range(499):
        assert saveScene(sample.scene, target, policy=POLICY)
    assert pathlib.Path(target).read_bytes() == first
    assert before.differences() == []


def test_save_hook_strips_on_start_restores_on_end_and_nests(sample):
    before = sceneXml(sample.scene)
    hook = installSaveHook(sample.scene, POLICY)
    scene = sample.scene
    scene.StartState(scene.SaveState)
    assert hook.isStripped and hook.lastReport.total > 0
    stripped = sceneXml(scene)
    assert all(value not in stripped for value in sample.phiValues)
    scene.StartState(scene.SaveState)  # nested: no second strip
    scene.EndState(scene.SaveState)
    assert hook.isStripped and sceneXml(scene) == stripped
    scene.EndState(scene.SaveState)
    assert not hook.isStripped and sceneXml(scene) == before
    hook.enabled = False
    scene.StartState(scene.SaveState)
    assert not hook.isStripped and sceneXml(scene) == before
    scene.EndState(scene.SaveState)
    hook.enabled = True
    hook.remove()
    scene.StartState(scene.SaveState)
    assert sceneXml(scene) == before
    scene.EndState(scene.SaveState)


def test_hook_and_save_scene_together_strip_once(tmp_path):
    withHook, alone = buildSampleScene(), buildSampleScene()
    hook = installSaveHook(withHook.scene, POLICY)
    try:
        assert saveScene(withHook.scene, _target(tmp_path, "h", "scene.mrml"), policy=POLICY)
        assert saveScene(alone.scene, _target(tmp_path, "a", "scene.mrml"), policy=POLICY)
    finally:
        hook.remove()
    hooked = normalizedItemIds(pathlib.Path(_target(tmp_path, "h", "scene.mrml")).read_text(encoding="utf-8"))
    assert hooked == normalizedItemIds(pathlib.Path(_target(tmp_path, "a", "scene.mrml")).read_text(encoding="utf-8"))


def test_hook_anonymizes_a_plain_save_scene_call_and_its_failure_blocks_the_write(sample, tmp_path, monkeypatch):
    hook = installSaveHook(sample.scene, POLICY)
    try:
        assert saveScene(sample.scene, _target(tmp_path, "ok", "scene.mrb"), anonymize=False)
        assert leakScan(_target(tmp_path, "ok", "scene.mrb"), sample.phiValues) == []
        _failingSites(monkeypatch, failAfter=3)
        before = LiveState(sample.scene)
        assert not saveScene(sample.scene, _target(tmp_path, "bad", "scene.mrb"), anonymize=False)
        assert isinstance(hook.lastError, AnonymizationError)
        assert not os.path.exists(_target(tmp_path, "bad", "scene.mrb"))
        assert before.differences() == []
    finally:
        hook.remove()


def test_no_phi_in_logs_or_console_output(sample, tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    volume = sample.volumes[0]
    volume.AddDefaultStorageNode()
    volume.GetStorageNode().SetFileName(str(tmp_path / f"{_patientIds(sample.scene)[0]}.nrrd"))
    assert not saveScene(sample.scene, _target(tmp_path, "m", "scene.mrml"), policy=POLICY)  # refused, logged
    assert saveScene(sample.scene, _target(tmp_path, "b", "scene.mrb"), policy=POLICY)
    with anonymizedScene(sample.scene, POLICY):
        pass
    captured = capfd.readouterr()
    output = caplog.text + captured.out + captured.err
    assert all(value not in output for value in sample.phiValues)


def test_an_empty_scene_saves(tmp_path):
    scene = slicer.vtkMRMLScene()
    assert saveScene(scene, tmp_path / "empty.mrb", policy=POLICY)
    assert zipfile.is_zipfile(tmp_path / "empty.mrb")


def test_each_anonymized_save_appends_one_audit_line_without_phi(sample, tmp_path, monkeypatch):
    log = tmp_path / "settings" / "audit.jsonl"
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_AUDIT_LOG", str(log))
    patientFolder = tmp_path / _patientIds(sample.scene)[0]
    patientFolder.mkdir()
    assert saveScene(sample.scene, patientFolder / "scene.mrb", policy=POLICY)
    assert saveScene(sample.scene, tmp_path / "plain.mrb", anonymize=False)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert all(value not in lines[0] for value in sample.phiValues)
    assert '"uids"' in lines[0] and "scene.mrb" in lines[0]


@pytest.mark.parametrize("name", FORMATS)
def test_a_writer_that_reports_success_without_writing_is_a_failure(sample, tmp_path, monkeypatch, caplog, name):
    scene = sample.scene
    monkeypatch.setattr(scene, "Commit", lambda *arguments: True, raising=False)
    monkeypatch.setattr(scene, "WriteToMRB", lambda *arguments: True, raising=False)
    monkeypatch.setattr(scene, "SaveSceneToSlicerDataBundleDirectory", lambda *arguments: True, raising=False)
    assert not saveScene(scene, tmp_path / name, policy=POLICY)
    assert "wrote no scene file" in caplog.text
    assert not os.path.exists(tmp_path / name)  # not even the empty bundle directory


def test_a_uid_maps_to_the_same_new_uid_everywhere_it_appears(sample, tmp_path):
    target = _target(tmp_path, "u", "scene.mrb")
    assert saveScene(sample.scene, target, policy=POLICY)
    loaded = newScene()
    assert loaded.ReadFromMRB(target)
    sh = loaded.GetFirstNodeByClass("vtkMRMLSubjectHierarchyNode")
    volume = loaded.GetNodeByID(sample.volumes[0].GetID())
    series = sh.GetItemByDataNode(volume)
    study = sh.GetItemParent(series)
    instances = sh.GetItemUID(series, "DICOMInstanceUID")
    assert instances.startswith("2.25.") and instances == volume.GetAttribute("DICOM.instanceUIDs")
    assert sh.GetItemUID(study, "DICOM") == sh.GetItemAttribute(study, "DICOM.StudyInstanceUID")
    patient = sh.GetItemParent(study)
    assert sh.GetItemUID(patient, "DICOM") == sh.GetItemAttribute(patient, "DICOM.PatientID")
    assert sh.GetItemByUID("DICOM", sh.GetItemUID(study, "DICOM")) == study  # lookups by UID still work


@pytest.mark.parametrize("name", FORMATS)
def test_a_file_name_holding_phi_is_refused(sample, tmp_path, caplog, name):
    patientId = _patientIds(sample.scene)[0]
    before = LiveState(sample.scene)
    target = tmp_path / f"{patientId} {name}"
    assert not saveScene(sample.scene, target, policy=POLICY)
    assert not os.path.exists(target) and before.differences() == []
    assert "file name holds patient data" in caplog.text and patientId not in caplog.text.replace(str(tmp_path), "")


def test_a_hooked_plain_save_scene_call_follows_the_mrml_rule_for_its_own_target(sample, tmp_path, caplog):
    volume = sample.volumes[2]  # "<patient ID> arterial", saved before under that name
    volume.AddDefaultStorageNode()
    volume.GetStorageNode().SetFileName(str(tmp_path / f"{volume.GetName()}.nrrd"))
    sample.scene.SetURL(str(tmp_path / "earlier.mrb"))  # the scene's last save was a bundle
    hook = installSaveHook(sample.scene, POLICY)
    try:
        before = LiveState(sample.scene)
        assert not saveScene(sample.scene, _target(tmp_path, "m", "scene.mrml"), anonymize=False)
        assert not os.path.exists(_target(tmp_path, "m", "scene.mrml")) and before.differences() == []
        assert "cannot rename data files" in caplog.text
    finally:
        hook.remove()


def test_a_live_scene_planned_again_decides_no_rule_again_and_another_policy_decides_all(monkeypatch):
    """What a rule makes of a value in a context is remembered for the policy (a big hierarchy saved again decides
    120k values again otherwise); the same values under other retain options are decided again, differently."""
    from AnonymizeOnSaveLib import planner

    scene = buildSampleScene().scene
    decided = []
    realDecision = planner._decision
    monkeypatch.setattr(planner, "_decision", lambda site, policy: decided.append(1) or realDecision(site, policy))
    first = planner.planChanges(session._sites(scene), Policy(key="decided-once-key"))
    assert decided
    del decided[:]
    again = planner.planChanges(session._sites(scene), Policy(key="decided-once-key"))
    assert decided == []
    assert [(change.site.place, change.value) for change in again] == [(c.site.place, c.value) for c in first]
    retaining = planner.planChanges(session._sites(scene), Policy(key="decided-once-key", retain={"longitudinalDates"}))
    assert decided
    shifted = {change.site.place: change.value for change in retaining if change.category == "dates"}
    removed = {change.site.place: change.value for change in first if change.category == "dates"}
    assert shifted and shifted != removed
