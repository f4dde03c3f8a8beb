"""'Save anonymized copy for sharing': the copy holds no PHI, the working scene keeps its files and unsaved state."""

import os

import pytest
import vtk
from dicomScenes import LiveState, buildSampleScene, leakScan

from AnonymizeOnSaveLib import Policy, lastReport, saveScene, saveSharedCopy

POLICY = Policy(key="share-key")


def _working(scene):
    modified = vtk.vtkCollection()
    sceneModified = scene.GetModifiedSinceRead(modified)
    nodes = [scene.GetNthNode(i) for i in range(scene.GetNumberOfNodes())]
    return {
        "url": scene.GetURL(),
        "root": scene.GetRootDirectory(),
        "nodes": sorted(node.GetID() for node in nodes),
        "files": sorted((n.GetID(), n.GetFileName() or "") for n in nodes if n.IsA("vtkMRMLStorageNode")),
        "sceneModified": sceneModified,
        "modified": sorted(modified.GetItemAsObject(i).GetID() for i in range(modified.GetNumberOfItems())),
        "storable": sorted(n.GetID() for n in nodes if n.IsA("vtkMRMLStorableNode") and n.GetModifiedSinceRead()),
    }


@pytest.mark.parametrize("unsavedChange", [False, True])
def test_a_shared_copy_leaves_the_working_scene_pointing_at_its_files(tmp_path, unsavedChange):
    sample = buildSampleScene()
    scene = sample.scene
    working = str(tmp_path / "work" / "working.mrml")
    os.makedirs(os.path.dirname(working))
    for volume in sample.volumes:  # the user's working files, saved plainly next to the scene
        volume.AddDefaultStorageNode()
        volume.GetStorageNode().SetFileName(str(tmp_path / "work" / f"{volume.GetID()}.nrrd"))
        assert volume.GetStorageNode().WriteData(volume)
    assert saveScene(scene, working, anonymize=False)
    if unsavedChange:
        sample.volumes[0].SetName("renamed after the save")
    before, live = _working(scene), LiveState(scene)
    shared = str(tmp_path / "share" / "shared.mrb")
    os.makedirs(os.path.dirname(shared))
    assert saveSharedCopy(scene, shared, policy=POLICY)
    assert leakScan(shared, sample.phiValues) == []
    assert lastReport(scene).total > 0
    assert _working(scene) == before
    assert live.differences() == []


def test_a_shared_copy_must_be_a_bundle(tmp_path):
    with pytest.raises(ValueError):
        saveSharedCopy(buildSampleScene().scene, str(tmp_path / "x.mrml"), policy=POLICY)
