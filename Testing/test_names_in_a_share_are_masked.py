"""A share whose folders and scene files are named after the patient ("Pérez José/Pérez_José_CT.mrml"): scan and
clean report every path with the patient's values masked, and the cleaned mirror tree names its folders and files
without them (a scene file the file tool's own scan would flag is not written under that name); and a clean leaves
an audit record per scene, with no value in it."""

import io
import json
import os

from hospitalScenes import leaks
from sceneText import patientScene

from AnonymizeOnSaveLib.__main__ import main

NAME, PID = "Pérez^José", "ES-7731-0042"
SCENE = patientScene(NAME, PID)


def _run(*arguments):
    out, err = io.StringIO(), io.StringIO()
    return main(list(arguments), out=out, err=err), out.getvalue(), err.getvalue()


def test_paths_in_reports_and_names_in_the_output_hold_no_value(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", "names-in-a-share-key")
    case = tmp_path / "share" / "Pérez José"
    case.mkdir(parents=True)
    (case / "Pérez_José_CT.mrml").write_text(SCENE, encoding="utf-8")
    code, out, _ = _run("scan", str(tmp_path / "share"))
    assert code == 1 and "Pérez" not in out and "José" not in out
    code, out, _ = _run("scan", str(tmp_path / "share"), "--json")
    assert "Pérez" not in out and "Jos\\u00e9" not in out and json.loads(out)["found"]
    code, out, err = _run("clean", str(tmp_path / "share"), "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert "Pérez" not in out.split("cleaned into")[0]
    written = [
        os.path.relpath(os.path.join(d, f), tmp_path / "out") for d, _, fs in os.walk(tmp_path / "out") for f in fs
    ]
    assert len(written) == 1 and "Pérez" not in written[0] and "José" not in written[0]
    assert leaks(str(tmp_path / "out"), [NAME, PID]) == []
    assert os.listdir(tmp_path / "out") == [written[0].split(os.sep)[0]]  # no empty folder left under the old name


def test_a_clean_leaves_an_audit_record_per_scene_without_any_value(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", "names-in-a-share-key")
    share = tmp_path / "share"
    share.mkdir()
    for name in ("a.mrml", "b.mrml"):
        (share / name).write_text(SCENE, encoding="utf-8")
    log = tmp_path / "audit.jsonl"
    code, _, err = _run("clean", str(share), "-o", str(tmp_path / "out"), "--audit-log", str(log))
    assert code == 0, err
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 2 and all(record["policy"]["keyId"] and record["counts"] for record in records)
    assert "Pérez" not in log.read_text(encoding="utf-8") and PID not in log.read_text(encoding="utf-8")
