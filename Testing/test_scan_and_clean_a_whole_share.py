"""A research group's share: folders of scenes in every format, some already clean, one broken, other files beside
them. Scanned and cleaned in one run, in one process or several, with reports and progress."""

import csv
import io
import json
import os
import re
import shutil

import pytest
from dicomScenes import buildSampleScene, leakScan

from AnonymizeOnSaveLib import Policy, saveScene
from AnonymizeOnSaveLib.__main__ import main

KEY = "share-key-for-these-tests"


@pytest.fixture(scope="module")
def share(tmp_path_factory):
    root = tmp_path_factory.mktemp("share")
    sample = buildSampleScene()
    for relative, anonymize in (("site1/a.mrb", False), ("site1/b.mrml", False), ("site2/bundle", False)):
        os.makedirs(os.path.dirname(root / relative), exist_ok=True)
        assert saveScene(sample.scene, str(root / relative), anonymize=anonymize)
    os.makedirs(root / "clean")
    assert saveScene(sample.scene, str(root / "clean" / "c.mrb"), policy=Policy(key=KEY))
    os.makedirs(root / "bad")
    (root / "bad" / "d.mrb").write_bytes(b"not a zip")
    os.makedirs(root / "notes")
    (root / "notes" / "readme.txt").write_text("see the scenes")
    (root / "notes" / "image.dcm").write_bytes(b"\0" * 128 + b"DICM")  # a DICOM file: never copied by a clean
    sample.root = root
    return sample


@pytest.fixture
def cli(tmp_path):
    """The command line with the share's key: cli(*arguments, err=None) -> (exit code, stdout, stderr)."""
    keyFile = tmp_path / "key"
    keyFile.write_text(KEY)

    def run(*arguments, err=None):
        out, err = io.StringIO(), err or io.StringIO()
        code = main([*arguments, "--key-file", str(keyFile)], out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    return run


def test_a_scan_of_the_share_reports_every_scene_goes_on_past_the_broken_one_and_skips_other_files(cli, share):
    code, out, err = cli("scan", str(share.root))
    assert code == 3  # PHI found (1) and a file that could not be read (2): a script testing for 1 sees both
    (error,) = [line for line in err.splitlines() if line.startswith("error: ")]
    assert "d.mrb" in error and err.splitlines()[-1].startswith("scan: 5 scene(s), 3 with PHI, 1 without PHI")
    for name in ("a.mrb", "b.mrml", "bundle"):
        assert f"{name}: " in out and any(
            line.endswith("PHI value(s) found") and name in line for line in out.splitlines()
        )
    assert any(line.endswith("c.mrb: no PHI found") for line in out.splitlines())
    assert "2 file(s) that are not scene files were skipped" in out
    assert not any(value in out for value in share.phiValues)


def test_the_json_and_csv_reports_and_several_processes_agree(cli, share, tmp_path):
    _, one, _ = cli("scan", str(share.root), "--json", "--csv", str(tmp_path / "report.csv"))
    _, two, _ = cli("scan", str(share.root), "--json", "--jobs", "2")
    report, other = json.loads(one), json.loads(two)
    assert report.pop("time") and other.pop("time") and report == other
    assert report["tool"]["name"] == "slicer-scene-anonymizer" and report["command"] == "scan"
    assert report["keyId"] and KEY not in one and report["options"] == {"retain": [], "recognisers": True}
    statuses = {os.path.relpath(f["path"], share.root): f["status"] for f in report["files"]}
    assert statuses == {
        "site1/a.mrb": "found",
        "site1/b.mrml": "found",
        "site2/bundle": "found",
        "clean/c.mrb": "clean",
        "bad/d.mrb": "error",
    }
    assert report["errors"] == 1 and len(report["skipped"]) == 2
    rows = list(csv.DictReader((tmp_path / "report.csv").open(encoding="utf-8")))
    assert {row["status"] for row in rows} == {"found", "clean", "error", "skipped"}
    assert sum(row["status"] == "found" for row in rows) == sum(len(f["findings"]) for f in report["files"])


def test_a_clean_writes_a_mirror_tree_of_clean_scenes_only(cli, share, tmp_path):
    mirror = tmp_path / "mirror"
    code, _, err = cli("clean", str(share.root), "-o", str(mirror), "--jobs", "2")
    assert code == 2 and "d.mrb" in err
    written = sorted(os.path.relpath(os.path.join(d, f), mirror) for d, _, fs in os.walk(mirror) for f in fs)
    assert "site1/a.mrb" in written and "site1/b.mrml" in written and "clean/c.mrb" in written
    assert any(name.startswith("site2/bundle/") for name in written)
    assert not any(name.startswith(("notes/", "bad/")) for name in written)  # other files are never copied
    assert leakScan(str(mirror), share.phiValues) == []
    assert cli("scan", str(mirror))[0] == 0
    assert cli("clean", str(share.root), "-o", str(mirror))[0] == 2  # an output folder that is not empty


def test_the_json_report_of_a_clean_says_what_it_replaced(cli, share, tmp_path):
    _, out, _ = cli("clean", str(share.root), "-o", str(tmp_path / "mirror"), "--json")
    report = json.loads(out)
    assert report["found"] is True and report["cleaned"] == 4 and report["errors"] == 1
    _, out, _ = cli("clean", str(tmp_path / "mirror" / "clean"), "-o", str(tmp_path / "again"), "--json")
    assert json.loads(out)["found"] is False and json.loads(out)["cleaned"] == 1


def test_a_clean_in_place_cleans_every_scene_of_a_copy(cli, share, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(share.root, copy)
    shutil.rmtree(copy / "bad")
    assert cli("clean", str(copy), "--in-place")[0] == 0
    assert leakScan(str(copy / "site1"), share.phiValues) == [] and cli("scan", str(copy))[0] == 0
    assert (copy / "notes" / "image.dcm").exists()  # untouched


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_shows_on_a_terminal_only(cli, share):
    terminal = Terminal()
    cli("scan", str(share.root / "site1"), err=terminal)
    shown = terminal.getvalue()
    assert shown.count("\r") == 2 and "2/2 files" in shown and "s left" in shown and "MB/s" in shown
    assert "\r" not in cli("scan", str(share.root / "site1"))[2]


def test_the_pseudonyms_crosswalk_gives_what_a_clean_wrote(cli, share, tmp_path):
    code, out, _ = cli("pseudonyms", "1CT1,CompressedSamples^CT1")
    assert code == 0
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert cli("clean", str(share.root / "site1" / "b.mrml"), "-o", str(tmp_path / "b.mrml"))[0] == 0
    cleaned = (tmp_path / "b.mrml").read_text(encoding="utf-8")
    assert (
        f"DICOM.PatientID^{row['PseudonymID']}|" in cleaned and f"DICOM.PatientName^{row['PseudonymName']}|" in cleaned
    )
    studyUid = re.search(r"DICOM\^([0-9.]+)\|", (share.root / "site1" / "b.mrml").read_text(encoding="utf-8"))[1]
    code, out, _ = cli("pseudonyms", "--uids", studyUid)
    ((uid, pseudonymUid),) = [row for row in csv.reader(io.StringIO(out))][1:]
    assert code == 0 and uid == studyUid and f"DICOM^{pseudonymUid}|" in cleaned and studyUid not in cleaned
    assert pseudonymUid.startswith(row["UIDRoot"] + ".") and row["UIDRoot"] == "2.25"
    assert all(uid.startswith("2.25.") for uid in re.findall(r"DICOM\^([0-9.]+)\|", cleaned))
    missing = io.StringIO()
    assert main(["pseudonyms", "1CT1"], out=io.StringIO(), err=missing) == 2 and "key" in missing.getvalue()
