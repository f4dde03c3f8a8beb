"""A headless anonymized save of a .mrml is written by string (mrmlString.py): the scene committed to a string,
cleaned and searched in memory, then written. On every scene the tests build and under each policy the file is byte
for byte the one the live design (strip, Commit, verify, restore) writes, with the same report; no byte of PHI is
ever on disk; the live scene is never touched (no value, no pending event, its modified state as a plain save
leaves it); a scene holding hidden storable nodes, whose data Commit writes beside the .mrml, takes the live
design."""

import os
import stat

import pytest
import slicer
from binaryDataScene import buildBinaryDataScene
from dicomScenes import LiveState, buildSampleScene, leakScan, newScene, useLiveMrmlPath
from everyPlaceScene import buildSceneWithPhiEverywhere
from hospitalScenes import buildHospitalScene, leaks

from AnonymizeOnSaveLib import Policy, lastReport, mrmlString, saveScene, sceneWriter, session

KEY = "mrml-by-string-key-long-enough"
POLICIES = {
    "default": Policy(key=KEY),
    "recognisers": Policy(key=KEY).withRecognisers(True),
    "retaining": Policy(key=KEY, retain={"longitudinalDates", "descriptions"}),
}


def _sample():
    sample = buildSampleScene()
    return sample.scene, sample.phiValues


SCENES = {
    "sample": _sample,
    "hospital": buildHospitalScene,
    "everyPlace": buildSceneWithPhiEverywhere,
    "binaryData": buildBinaryDataScene,
}


def _saved(scene, folder, policy):
    """The bytes of the .mrml a save writes into folder; None when the save refuses (nothing is written then)."""
    os.makedirs(folder)
    path = os.path.join(folder, "scene.mrml")
    if not saveScene(scene, path, policy=policy):
        assert os.listdir(folder) == []
        return None
    assert lastReport(scene).verifications  # its bytes were searched (for the values it held)
    return open(path, "rb").read()


@pytest.mark.parametrize("policyName", POLICIES)
@pytest.mark.parametrize("sceneName", SCENES)
def test_the_file_written_by_string_is_the_one_the_live_design_writes(tmp_path, monkeypatch, sceneName, policyName):
    """Both write the same bytes, or both refuse (retained descriptions that hold a name are refused by both)."""
    scene, values = SCENES[sceneName]()
    # A scene with hidden storable nodes (the colour tables users add) is saved by the live design either way.
    assert mrmlString.stringPathServes(scene) == (sceneName != "everyPlace")
    policy = POLICIES[policyName]
    stripped = []
    with monkeypatch.context() as spy:
        realStrip = session.AnonymizationSession.strip
        spy.setattr(session.AnonymizationSession, "strip", lambda self: stripped.append(1) or realStrip(self))
        byString = _saved(scene, str(tmp_path / "string"), policy)
    assert bool(stripped) == (sceneName == "everyPlace")  # the text stood for the scene: not sent to the live design
    with monkeypatch.context() as live:
        useLiveMrmlPath(live)
        byLiveDesign = _saved(scene, str(tmp_path / "live"), policy)
    assert byString == byLiveDesign
    if policyName != "retaining":
        assert byString is not None and leaks(str(tmp_path / "string" / "scene.mrml"), values) == []


def test_no_byte_of_patient_data_is_on_disk_at_any_moment(tmp_path, monkeypatch):
    """What reaches the folder: nothing until the cleaned text is written under a temporary name, renamed into
    place; the live scene was never stripped (no session) nor changed."""
    sample = buildSampleScene()
    before = LiveState(sample.scene)
    realWrite, seen = sceneWriter.writeAtomically, []

    def watchedWrite(fileName, text):
        assert os.listdir(tmp_path) == [] and session.activeSession(sample.scene) is None
        seen.append(text)
        realWrite(fileName, text)

    monkeypatch.setattr(sceneWriter, "writeAtomically", watchedWrite)
    monkeypatch.setattr(session.AnonymizationSession, "strip", lambda self: pytest.fail("the live scene was stripped"))
    assert saveScene(sample.scene, str(tmp_path / "scene.mrml"), policy=POLICIES["default"])
    assert len(seen) == 1 and os.listdir(tmp_path) == ["scene.mrml"]
    assert leakScan(str(tmp_path), sample.phiValues) == []
    assert before.differences() == []


def test_the_live_scene_keeps_no_pending_event_and_reads_as_a_plain_save_leaves_it(tmp_path):
    """The hierarchy node's modification time is unchanged and no held event waits on it (the live design leaves
    one per changed item pending); the scene reads as saved, as after a plain save."""
    sample = buildSampleScene()
    scene = sample.scene
    shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    mtime = shNode.GetMTime()
    assert saveScene(scene, str(tmp_path / "scene.mrml"), policy=POLICIES["default"])
    assert shNode.GetMTime() == mtime and not shNode.GetModifiedEventPending()
    plain = buildSampleScene().scene
    assert saveScene(plain, str(tmp_path / "plain.mrml"), anonymize=False)
    assert scene.GetModifiedSinceRead() == plain.GetModifiedSinceRead()


def test_a_scene_with_hidden_storable_nodes_takes_the_live_design(tmp_path, monkeypatch):
    """Commit writes the data of hidden storable nodes into "<scene>_Private" (vtkMRMLScene::SavePrivateStorableNodes
    in Slicer's main; not in the slicer-core wheel), which a string Commit skips: such a scene is stripped live."""
    sample = buildSampleScene()
    table = sample.scene.AddNewNodeByClass("vtkMRMLTableNode", "hidden table")
    table.SetHideFromEditors(True)
    assert not mrmlString.stringPathServes(sample.scene)
    stripped = []
    realStrip = session.AnonymizationSession.strip
    monkeypatch.setattr(session.AnonymizationSession, "strip", lambda self: stripped.append(1) or realStrip(self))
    assert saveScene(sample.scene, str(tmp_path / "scene.mrml"), policy=POLICIES["default"])
    assert stripped and leakScan(str(tmp_path), sample.phiValues) == []
    table.SetSaveWithScene(False)
    assert mrmlString.stringPathServes(sample.scene)


def test_an_empty_scene_and_a_scene_saved_twice_are_written_the_same_way(tmp_path, monkeypatch):
    scene = newScene()
    first = _saved(scene, str(tmp_path / "a"), POLICIES["default"])
    with monkeypatch.context() as live:
        useLiveMrmlPath(live)
        assert _saved(scene, str(tmp_path / "b"), POLICIES["default"]) == first
    sample = buildSampleScene()
    once = _saved(sample.scene, str(tmp_path / "c"), POLICIES["default"])
    assert _saved(sample.scene, str(tmp_path / "d"), POLICIES["default"]) == once


def test_a_scene_saved_again_is_cleaned_again_once_anything_changed(tmp_path):
    """The last cleaned text is reused only for the very same text under the same key and options: a value typed
    since, another key, another option each clean the scene again; a name holding a value is refused either way."""
    sample = buildSampleScene()
    scene, policy = sample.scene, POLICIES["default"]
    first = _saved(scene, str(tmp_path / "a"), policy)
    assert _saved(scene, str(tmp_path / "b"), policy) == first
    patientId = sample.phiValues[1]
    sample.volumes[0].SetName(f"{patientId} typed later")
    changed = _saved(scene, str(tmp_path / "c"), policy)
    assert changed != first and b"typed later" in changed
    assert leakScan(str(tmp_path / "c"), sample.phiValues) == []
    otherKey = _saved(scene, str(tmp_path / "d"), Policy(key="another key long enough"))
    otherOptions = _saved(scene, str(tmp_path / "e"), POLICIES["retaining"])
    assert len({changed, otherKey, otherOptions}) == 3
    assert not saveScene(scene, str(tmp_path / f"{patientId}.mrml"), policy=policy)
    assert not os.path.exists(tmp_path / f"{patientId}.mrml")


def test_the_file_gets_the_permissions_a_plain_save_gives_it(tmp_path):
    """Written under a private temporary name first, the file still gets what Commit's file gets: what the umask
    leaves of rw-rw-rw- for a new file, the replaced file's own permissions otherwise."""
    scene = buildSampleScene().scene
    plain, anonymized = tmp_path / "plain.mrml", tmp_path / "anonymized.mrml"
    assert saveScene(scene, str(plain), anonymize=False)
    assert saveScene(scene, str(anonymized), policy=POLICIES["default"])
    assert stat.S_IMODE(os.stat(anonymized).st_mode) == stat.S_IMODE(os.stat(plain).st_mode)
    os.chmod(anonymized, 0o640)
    assert saveScene(scene, str(anonymized), policy=POLICIES["default"])
    assert stat.S_IMODE(os.stat(anonymized).st_mode) == 0o640


# --- found by an adversarial hunt: each written first against the code before its fix, which failed it -----------


def _patientScene():
    """A patient item, as Slicer's DICOM plugins make it, with synthetic values."""
    scene = newScene()
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    patient = sh.CreateHierarchyItem(sh.GetSceneItemID(), "Quixworth^Ferdinand", "Patient")
    sh.SetItemUID(patient, "DICOM", "PID778812")
    sh.SetItemAttribute(patient, "DICOM.PatientID", "PID778812")
    sh.SetItemAttribute(patient, "DICOM.PatientName", "Quixworth^Ferdinand")
    return scene, sh, patient


@pytest.mark.parametrize(
    "attribute, value", [("DICOM.PatientComments", "ok|Zorblax^Quinn"), ("DICOM.PatientID", "PID778812|Zorblax^9")]
)
def test_a_hierarchy_value_holding_a_bar_and_a_caret_is_saved_by_the_live_design(tmp_path, attribute, value):
    """Slicer writes item values unescaped ("name^value|"): "ok|Zorblax^Quinn" reads back as a second entry, which no
    rule covers. The text does not stand for the scene, so the live design saves it, and removes the value."""
    scene, sh, patient = _patientScene()
    sh.SetItemAttribute(patient, attribute, value)
    assert saveScene(scene, str(tmp_path / "scene.mrml"), policy=POLICIES["default"])
    assert leaks(str(tmp_path / "scene.mrml"), ["Zorblax", "Quixworth", "PID778812"]) == []


@pytest.mark.parametrize("owner", ("item", "node"))
@pytest.mark.parametrize(
    "name, value",
    [
        ("DICOM.Modality^ReferringPhysician", "Zorblax^Quinn"),
        ("DICOM.Modality:OperatorsName", "Zorblax^Quinn"),
        ("Note|Extra", "Quixworth^Ferdinand"),
    ],
)
def test_an_attribute_name_holding_a_separator_is_saved_by_the_live_design(tmp_path, monkeypatch, owner, name, value):
    """Slicer writes attribute names unescaped too: "DICOM.Modality^ReferringPhysician^<value>" reads back as a
    Modality (kept) holding the value, "Note|Extra^<value>" as part of the entry before it. Such a text does not
    stand for the scene either (its names have other lengths): the live design saves it (an unknown DICOM attribute
    is removed, a known value replaced), found by a hunt: the string path wrote the first two."""
    scene, sh, patient = _patientScene()
    if owner == "item":
        sh.SetItemAttribute(sh.CreateStudyItem(patient, "Study"), name, value)
    else:
        scene.AddNewNodeByClass("vtkMRMLScriptedModuleNode").SetAttribute(name, value)
    reviewer = value.replace("^", " ")
    scene.AddNewNodeByClass("vtkMRMLScriptedModuleNode").SetDescription(f"reviewed by {reviewer}")
    written = {}
    for design in ("string", "live"):
        with monkeypatch.context() as patched:
            if design == "live":
                useLiveMrmlPath(patched)
            (tmp_path / design).mkdir()
            assert saveScene(scene, str(tmp_path / design / "scene.mrml"), policy=POLICIES["default"])
        written[design] = (tmp_path / design / "scene.mrml").read_bytes()
    assert leaks(str(tmp_path / "string" / "scene.mrml"), ["Zorblax", "Quixworth", "PID778812"]) == []
    assert written["string"] == written["live"]


def test_values_of_nodes_the_text_does_not_hold_are_searched_for_in_it(tmp_path):
    """A node not saved with the scene and a sequence's data node hold a patient's values; a description typed in a
    saved node repeats them: they are found there, as the live design finds them."""
    scene = newScene()
    holder = scene.AddNewNodeByClass("vtkMRMLScriptedModuleNode", "import info")
    holder.SetAttribute("DICOM.PatientName", "Quixworth^Ferdinand")
    holder.SetAttribute("DICOM.PatientID", "PID778812")
    holder.SetSaveWithScene(False)
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "cine")
    frame = slicer.vtkMRMLScalarVolumeNode()
    frame.SetAttribute("DICOM.PatientName", "Vexmoor^Odile")
    sequence.SetDataNodeAtValue(frame, "0")
    scene.AddNewNodeByClass("vtkMRMLTextNode", "note").SetDescription("Ferdinand Quixworth PID778812; Odile Vexmoor")
    assert saveScene(scene, str(tmp_path / "scene.mrml"), policy=POLICIES["default"])
    assert leaks(str(tmp_path / "scene.mrml"), ["Quixworth", "Ferdinand", "PID778812", "Vexmoor", "Odile"]) == []


@pytest.mark.parametrize("name", ["A long scene name about Quixwo_AB12.mrml", "Quixworth%20scene.mrml"])
def test_a_name_holding_a_value_is_refused_also_when_the_last_text_is_reused(tmp_path, name):
    """Cut short as Slicer clamps long names, or %-escaped: refused on a first save and after a reuse alike."""
    scene, _, _ = _patientScene()
    assert not saveScene(scene, str(tmp_path / name), policy=POLICIES["default"])
    assert saveScene(scene, str(tmp_path / "scene.mrml"), policy=POLICIES["default"])
    assert not saveScene(scene, str(tmp_path / name), policy=POLICIES["default"])
    assert os.listdir(tmp_path) == ["scene.mrml"]


def test_a_refused_save_leaves_the_scene_pointing_where_it_did_and_keeps_no_text(tmp_path):
    scene, _, _ = _patientScene()
    scene.SetURL("/data/original.mrml")
    scene.SetRootDirectory("/data")
    assert not saveScene(scene, str(tmp_path / "Quixworth Ferdinand.mrml"), policy=POLICIES["default"])
    assert (scene.GetURL(), scene.GetRootDirectory(), scene.GetSceneXMLString()) == ("/data/original.mrml", "/data", "")
    assert saveScene(scene, str(tmp_path / "scene.mrml"), policy=POLICIES["default"])
    assert scene.GetURL() == str(tmp_path / "scene.mrml") and scene.GetSceneXMLString() == ""


def test_a_save_hooks_refusal_inside_a_callers_bracket_is_respected(tmp_path):
    from AnonymizeOnSaveLib import installSaveHook

    scene, _, _ = _patientScene()
    hook = installSaveHook(scene)
    hook.refusal = "the settings cannot be read"
    scene.StartState(scene.SaveState)
    try:
        assert not saveScene(scene, str(tmp_path / "scene.mrml"), policy=POLICIES["default"])
    finally:
        scene.EndState(scene.SaveState)
        hook.remove()
    assert os.listdir(tmp_path) == []


def test_a_linked_target_is_written_through_as_commit_writes_it(tmp_path):
    """A symbolic link stays a link to the file now written; a file with another hard link is rewritten in place,
    so both names hold the anonymized scene (a rename would leave the other name with the old content)."""
    scene, _, _ = _patientScene()
    (tmp_path / "real.mrml").write_text("old plain save")
    os.symlink(tmp_path / "real.mrml", tmp_path / "scene.mrml")
    assert saveScene(scene, str(tmp_path / "scene.mrml"), policy=POLICIES["default"])
    assert os.path.islink(tmp_path / "scene.mrml") and b"old" not in (tmp_path / "real.mrml").read_bytes()
    os.link(tmp_path / "real.mrml", tmp_path / "other name.mrml")
    (tmp_path / "real.mrml").write_text("old plain save")
    assert saveScene(scene, str(tmp_path / "real.mrml"), policy=POLICIES["default"])
    assert (tmp_path / "other name.mrml").read_bytes() == (tmp_path / "real.mrml").read_bytes()
    assert leaks(str(tmp_path), ["Quixworth", "PID778812"]) == []


def test_a_control_character_typed_in_a_name_is_saved_by_the_live_design(tmp_path):
    """Commit writes it as it is, which no XML reader takes: the live design saves the scene."""
    scene, _, _ = _patientScene()
    scene.AddNewNodeByClass("vtkMRMLTextNode", "note\x0b1")
    assert saveScene(scene, str(tmp_path / "scene.mrml"), policy=POLICIES["default"])
    assert leaks(str(tmp_path / "scene.mrml"), ["Quixworth", "PID778812"]) == []


def test_a_name_that_is_not_text_is_refused_without_ending_the_process(tmp_path, caplog):
    """What os.listdir gives for bytes that are not UTF-8: VTK aborted the process on it (both designs)."""
    scene, _, _ = _patientScene()
    assert not saveScene(scene, str(tmp_path) + "/sc\udcffene.mrml", policy=POLICIES["default"])
    assert "not valid text" in caplog.text and os.listdir(tmp_path) == []


@pytest.mark.parametrize("design", ["string", "live"])
def test_a_name_escaped_as_urls_escape_it_is_refused_before_writing_and_never_logged(
    tmp_path, monkeypatch, caplog, design
):
    """ "M%C3%BCllersch%C3%B6n.mrml" for a patient Müllerschön (Slicer escapes as %ffc3; other software as %C3): the
    live design wrote it, found the name after writing, and logged the target as written."""
    if design == "live":
        useLiveMrmlPath(monkeypatch)
    scene, sh, patient = _patientScene()
    sh.SetItemAttribute(patient, "DICOM.PatientName", "Müllerschön^Jürgen")
    assert not saveScene(scene, str(tmp_path / "M%C3%BCllersch%C3%B6n.mrml"), policy=POLICIES["default"])
    assert os.listdir(tmp_path) == [] and "holds patient data" in caplog.text
    assert "%C3%BC" not in caplog.text and "Müller" not in caplog.text


@pytest.mark.parametrize("design", ["string", "live"])
def test_a_patient_kept_only_by_a_scene_view_is_not_written(tmp_path, monkeypatch, design):
    """A scene view keeps a copy of the scene; the patient item was removed since. Commit writes the copy: the live
    design, whose strip never sees it, wrote its name and ID; its check now scans the output whole when the scene has
    scene views. The string path reads the copy with the rest of the text (counted with it: not sent live)."""
    if design == "live":
        useLiveMrmlPath(monkeypatch)
    scene, sh, patient = _patientScene()
    view = slicer.vtkMRMLSceneViewNode()
    scene.AddNode(view)
    view.StoreScene()
    sh.RemoveItem(patient)
    assert saveScene(scene, str(tmp_path / "scene.mrml"), policy=POLICIES["default"])
    assert leaks(str(tmp_path / "scene.mrml"), ["Quixworth", "Ferdinand", "PID778812"]) == []


@pytest.mark.parametrize("design", ["string", "live"])
def test_an_audit_log_that_cannot_be_written_is_said_and_the_save_stays_done(tmp_path, monkeypatch, caplog, design):
    from AnonymizeOnSaveLib import audit

    if design == "live":
        useLiveMrmlPath(monkeypatch)
    scene, _, _ = _patientScene()
    blocker = tmp_path / "not a folder"
    blocker.write_text("")
    audit.setAuditLog(str(blocker / "audit.jsonl"))
    try:
        assert saveScene(scene, str(tmp_path / "scene.mrml"), policy=POLICIES["default"])
    finally:
        audit.setAuditLog(None)
    assert "audit record of a save could not be written" in caplog.text and "not saved" not in caplog.text


@pytest.mark.parametrize("case", ["a surname alone", "an attribute name holding ';'", "its only attribute removed"])
def test_the_string_path_writes_the_live_designs_bytes_in_the_hunts_cases(tmp_path, monkeypatch, case):
    """A surname typed alone gets the pseudonym the live design gives it (the values of a sequence's data nodes
    come after the text's, as they do live); a node attribute name holding ';' (written unescaped) sends the scene
    to the live design; a node whose only attribute is removed has no attributes="" (Commit writes none then)."""
    sample = buildSampleScene()
    node = sample.scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "vol")
    if case == "a surname alone":
        node.SetDescription("CompressedSamples alone")
    elif case == "its only attribute removed":
        node.SetAttribute("DICOM.PatientComments", "called on 555-0142")
    else:
        node.SetAttribute("x;y:z", "1CT1")
    byString = _saved(sample.scene, str(tmp_path / "string"), POLICIES["default"])
    with monkeypatch.context() as live:
        useLiveMrmlPath(live)
        assert _saved(sample.scene, str(tmp_path / "live"), POLICIES["default"]) == byString
    assert leakScan(str(tmp_path / "string"), sample.phiValues) == []


@pytest.mark.parametrize("design", ["string", "live"])
def test_a_data_file_named_with_a_value_after_a_percent_sign_is_refused(tmp_path, monkeypatch, design):
    """'95%Becker.nrrd' for a patient Becker ("%Be" is no escape): a .mrml cannot rename its data files, so the
    save is refused and nothing is written (a hunt found both designs writing it)."""
    if design == "live":
        useLiveMrmlPath(monkeypatch)
    scene, sh, patient = _patientScene()
    sh.SetItemAttribute(patient, "DICOM.PatientName", "Becker^Fay")
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "volume")
    volume.AddDefaultStorageNode()
    volume.GetStorageNode().SetFileName(str(tmp_path / "95%Becker.nrrd"))
    assert not saveScene(scene, str(tmp_path / "scene.mrml"), policy=POLICIES["default"])
    assert not os.path.exists(tmp_path / "scene.mrml")
