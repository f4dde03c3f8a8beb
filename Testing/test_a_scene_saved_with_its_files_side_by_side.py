"""*File > Save* writes a .mrml and its data files side by side in one folder (no Data folder), under any name the
user chose. Shared as it is, the folder is one scene unit: scan reads its data files, clean writes every file the
scene refers to into the output (renamed with its reference), and Slicer loads the cleaned scene with its data."""

import io
import os

import vtk
from dicomScenes import newScene
from hospitalScenes import PATIENTS, hospitalDatasets, leaks, loadScalarVolume

from AnonymizeOnSaveLib.__main__ import main

PATIENT = PATIENTS[0]
VALUES = [PATIENT["PatientName"], PATIENT["PatientID"]]


def _saveSideBySide(folder):
    """As qSlicerSaveDataDialog writes a .mrml save: each node's file beside the scene file, then the scene."""
    scene = newScene()
    volume = loadScalarVolume(scene, hospitalDatasets()[0], (True, False, False, True))
    points = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Findings")
    points.AddControlPoint(vtk.vtkVector3d(1, 2, 3), f"{PATIENT['PatientName'].split('^')[0]} lesion")
    for node, fileName in ((volume, "CT.nrrd"), (points, "Findings.mrk.json")):
        node.AddDefaultStorageNode()
        node.GetStorageNode().SetFileName(os.path.join(folder, fileName))
        assert node.GetStorageNode().WriteData(node)
    scene.SetRootDirectory(folder)
    scene.SetURL(os.path.join(folder, "my case.mrml"))
    assert scene.Commit()


def _run(keyFile, *arguments):
    out, err = io.StringIO(), io.StringIO()
    return main([*arguments, "--key-file", str(keyFile)], out=out, err=err), out.getvalue(), err.getvalue()


def test_a_folder_saved_with_file_save_is_cleaned_as_one_scene(tmp_path):
    key = tmp_path / "key"
    key.write_text("side-by-side-key-long-enough")
    share = tmp_path / "share"
    (share / "case 7").mkdir(parents=True)
    _saveSideBySide(str(share / "case 7"))
    assert sorted(os.listdir(share / "case 7")) == ["CT.nrrd", "Findings.mrk.json", "my case.mrml"]
    code, out, _ = _run(key, "scan", str(share))
    assert code == 1 and "skipped" not in out and "Findings.mrk.json" in out
    code, _, err = _run(key, "clean", str(share), "-o", str(tmp_path / "out"))
    assert code == 0, err
    cleaned = tmp_path / "out" / "case 7"
    assert sorted(os.listdir(cleaned)) == ["CT.nrrd", "Findings.mrk.json", "my case.mrml"]
    assert leaks(str(tmp_path / "out"), VALUES) == []
    scene = newScene()
    scene.SetURL(str(cleaned / "my case.mrml"))
    assert scene.Import()
    assert scene.GetFirstNodeByName("Findings").GetNumberOfControlPoints() == 1
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    assert volume.GetImageData() is not None and volume.GetImageData().GetNumberOfPoints() > 0
