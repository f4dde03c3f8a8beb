"""What a run tells the person and the script watching it: each error as it happens, one summary line on stderr at
the end, --quiet for errors only; a scene that refers to files the share does not hold is named as such (the names
masked); a mirror tree missing scenes (an error, Ctrl-C) holds INCOMPLETE.txt; clean without a key stops unless
--no-key says random pseudonyms are wanted."""

import io
import json
import os

import vtk
from dicomScenes import newScene
from hospitalScenes import PATIENTS, hospitalDatasets, loadScalarVolume
from sceneText import patientScene

from AnonymizeOnSaveLib import sceneFiles
from AnonymizeOnSaveLib.__main__ import main

KEY = "a-key-long-enough-for-a-hospital"


class _Events(io.StringIO):
    """stderr that records, in order with the scenes read, when each error line was written."""

    def __init__(self, events):
        super().__init__()
        self.events = events

    def write(self, text):
        if text.startswith("error: "):
            self.events.append("error shown")
        return super().write(text)


def _run(*arguments, err=None):
    out, err = io.StringIO(), err or io.StringIO()
    return main([*arguments], out=out, err=err), out.getvalue(), err.getvalue()


def _share(folder, count=3, broken=("b.mrb",)):
    folder.mkdir()
    for number in range(count):
        (folder / f"s{number}.mrml").write_text(patientScene(f"DOE^JOHN{number}", f"MRN00{number}"))
    for name in broken:
        (folder / name).write_bytes(b"not a zip")
    return folder


def test_an_error_is_shown_when_it_happens_not_after_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    share = _share(tmp_path / "share", broken=("a-broken.mrb",))
    events, original = [], sceneFiles.scanPath

    def recorded(path, *arguments, **options):
        events.append(f"read {os.path.basename(path)}")
        return original(path, *arguments, **options)

    monkeypatch.setattr("AnonymizeOnSaveLib.shares.scanPath", recorded)
    code, _, err = _run("scan", str(share), err=_Events(events))
    assert code == 3
    assert events[:3] == ["read a-broken.mrb", "error shown", "read s0.mrml"]
    assert err.splitlines()[-1].startswith("scan: 4 scene(s), 3 with PHI, 1 could not be read or written (")


def test_quiet_leaves_only_errors_and_the_exit_code(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    share = _share(tmp_path / "share")
    code, out, err = _run("scan", "--quiet", str(share))
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "b.mrb" in err
    code, out, err = _run("scan", "--quiet", "--json", str(share))
    assert code == 3 and json.loads(out)["errors"] == 1 and err.count("\n") == 1


def test_a_mirror_missing_a_scene_says_so_in_the_output_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    share = _share(tmp_path / "share")
    code, out, err = _run("clean", "--json", str(share), "-o", str(tmp_path / "out"))
    marker = tmp_path / "out" / "INCOMPLETE.txt"
    assert code == 2 and marker.is_file()
    assert (
        "NOT a complete cleaned copy" in marker.read_text() and "1 scene(s) could not be cleaned" in marker.read_text()
    )
    assert json.loads(out)["incomplete"] == str(marker) and f"see {marker}" in err
    assert "b.mrb" not in marker.read_text()  # a name could hold PHI: the report names it, not the share
    code, _, _ = _run("clean", str(tmp_path / "share" / "s0.mrml"), str(share / "s1.mrml"), "-o", str(tmp_path / "ok"))
    assert code == 0 and not (tmp_path / "ok" / "INCOMPLETE.txt").exists()


def test_clean_without_a_key_stops_unless_no_key_is_given(tmp_path, monkeypatch):
    monkeypatch.delenv("ANONYMIZE_ON_SAVE_KEY", raising=False)
    (tmp_path / "a.mrml").write_text(patientScene("DOE^JOHN", "MRN0042"))
    code, _, err = _run("clean", str(tmp_path / "a.mrml"), "-o", str(tmp_path / "b.mrml"))
    assert code == 2 and "needs a key" in err and "--no-key" in err and err.count("\n") == 1
    assert not (tmp_path / "b.mrml").exists()
    code, _, err = _run("clean", str(tmp_path / "a.mrml"), "-o", str(tmp_path / "b.mrml"), "--no-key")
    assert code == 0 and "random for this run" in err and "DOE" not in (tmp_path / "b.mrml").read_text()
    code, _, err = _run("scan", "--no-key", str(tmp_path / "b.mrml"))
    assert code == 0 and err == ""


def _saveSideBySide(folder, volumeFile):
    """As qSlicerSaveDataDialog writes a .mrml save: each node's file beside the scene file, then the scene."""
    scene = newScene()
    volume = loadScalarVolume(scene, hospitalDatasets()[0], (True, False, False, True))
    points = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Findings")
    points.AddControlPoint(vtk.vtkVector3d(1, 2, 3), "lesion")
    for node, fileName in ((volume, volumeFile), (points, "Findings.mrk.json")):
        node.AddDefaultStorageNode()
        node.GetStorageNode().SetFileName(os.path.join(folder, fileName))
        assert node.GetStorageNode().WriteData(node)
    scene.SetRootDirectory(str(folder))
    scene.SetURL(os.path.join(folder, "case.mrml"))
    assert scene.Commit()


def test_a_scene_whose_files_are_missing_is_reported_with_their_names_masked(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    surname = PATIENTS[0]["PatientName"].split("^")[0]
    folder = tmp_path / "shared"
    folder.mkdir()
    _saveSideBySide(folder, f"{surname} CT.nrrd")
    os.remove(folder / f"{surname} CT.nrrd")
    code, out, _ = _run("scan", "--json", str(folder))
    (report,) = json.loads(out)["files"]
    assert code == 1 and len(report["missing"]) == 1 and surname not in report["missing"][0]
    assert report["missing"][0].endswith(" CT.nrrd")
    code, out, _ = _run("scan", str(folder), "--csv", str(tmp_path / "report.csv"))
    assert "refers to 1 file(s) it does not hold" in out and surname not in out
    rows = (tmp_path / "report.csv").read_text().splitlines()
    assert any(",missing," in row and row.split(",")[2].endswith(" CT.nrrd") for row in rows)
    assert surname not in "".join(rows)
    code, out, _ = _run("clean", str(folder), "-o", str(tmp_path / "out"))
    assert code == 0 and "refers to 1 file(s) it does not hold" in out and surname not in out
    (tmp_path / "whole").mkdir()
    _saveSideBySide(tmp_path / "whole", "CT.nrrd")
    code, out, _ = _run("scan", "--json", str(tmp_path / "whole"))
    assert "missing" not in json.loads(out)["files"][0]


def test_an_output_that_cannot_be_written_is_refused_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    share = _share(tmp_path / "share", broken=())
    read = []
    monkeypatch.setattr("AnonymizeOnSaveLib.shares.cleanPath", lambda *arguments, **options: read.append(1))
    for output in ("/proc/cleaned", "/proc/cleaned/"):  # /proc takes no new file or folder, even from root
        code, _, err = _run("clean", str(share), "-o", output)
        assert code == 2 and "cannot write into the output folder" in err and err.count("\n") == 1
    code, _, err = _run("clean", str(share / "s0.mrml"), "-o", "/proc/s0.mrml")
    assert code == 2 and "cannot write into the output folder" in err
    assert read == []


def test_a_scene_that_fails_after_it_was_read_is_named_with_its_values_masked(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", KEY)
    share = tmp_path / "share"
    share.mkdir()
    (share / "DOE JOHN case.mrml").write_text(patientScene("DOE^JOHN", "MRN0042"))
    (share / "other.mrml").write_text(patientScene("ROE^JANE", "MRN0043"))

    def failing(temporary, target, values, matcher):
        raise sceneFiles.SceneFileError("patient data would remain at a place no reader reaches")

    monkeypatch.setattr(sceneFiles, "_checkWritten", failing)
    code, _, err = _run("clean", str(share), "-o", str(tmp_path / "out"))
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 2 and len(errors) == 2 and "DOE" not in err and "JOHN" not in err and " case.mrml" in err
