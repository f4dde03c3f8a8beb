"""The command tells a privacy officer what the run cannot promise: no key (pseudonyms and UIDs random for this run,
different from any other), and refuses a key short enough to guess; Ctrl-C ends with exit 130 and a last line saying
what was left (every output before it complete, nothing partial under a name, INCOMPLETE.txt in a mirror tree),
never a traceback: in-process, and with SIGINT sent to a real process, in one process and in several."""

import io
import os
import signal
import subprocess
import sys
import time

import pytest
from sceneText import patientScene

from AnonymizeOnSaveLib import sceneFiles
from AnonymizeOnSaveLib.__main__ import main

SCENE = patientScene("DOE^JOHN", "MRN0042")


def _run(arguments):
    out, err = io.StringIO(), io.StringIO()
    return main(arguments, out=out, err=err), err.getvalue()


def test_a_run_without_a_key_says_so_and_a_weak_key_is_refused(tmp_path, monkeypatch):
    (tmp_path / "a.mrml").write_text(SCENE)
    monkeypatch.delenv("ANONYMIZE_ON_SAVE_KEY", raising=False)
    code, err = _run(["scan", str(tmp_path / "a.mrml")])
    assert code == 1 and "warning: no key" in err and "random for this run" in err
    (tmp_path / "weak").write_text("secret")
    code, err = _run(["scan", str(tmp_path / "a.mrml"), "--key-file", str(tmp_path / "weak")])
    assert code == 2 and "shorter than 16 bytes" in err and err.count("\n") == 1
    (tmp_path / "strong").write_text("a-key-long-enough-for-a-hospital")
    code, err = _run(["scan", str(tmp_path / "a.mrml"), "--key-file", str(tmp_path / "strong")])
    assert code == 1 and "warning" not in err


def test_ctrl_c_during_a_clean_leaves_complete_outputs_and_exits_130(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", "a-key-long-enough-for-a-hospital")
    share = tmp_path / "share"
    share.mkdir()
    for name in ("a.mrml", "b.mrml"):
        (share / name).write_text(SCENE)
    written = []
    original = sceneFiles._checkWritten

    def interruptedOnTheSecond(temporary, target, values, matcher):
        """The user presses Ctrl-C while the second scene is being written (after its temporary file exists)."""
        if written:
            raise KeyboardInterrupt
        written.append(target)
        return original(temporary, target, values, matcher)

    monkeypatch.setattr(sceneFiles, "_checkWritten", interruptedOnTheSecond)
    code, err = _run(["clean", str(share), "-o", str(tmp_path / "out")])
    assert code == 130 and "Traceback" not in err
    assert err.splitlines()[-1] == (
        "error: interrupted: 1 scene(s) were not cleaned; every output written is complete (nothing partial is left"
        " under any name)"
    )
    left = sorted(os.listdir(tmp_path / "out"))
    assert left == ["INCOMPLETE.txt", "a.mrml"] and "DOE" not in (tmp_path / "out" / "a.mrml").read_text()
    assert "1 scene(s) were not cleaned: the run was interrupted" in (tmp_path / "out" / "INCOMPLETE.txt").read_text()


def test_the_output_is_checked_before_any_work_and_an_empty_input_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", "a-key-long-enough-for-a-hospital")
    (tmp_path / "a.mrml").write_text(SCENE)
    code, err = _run(["clean", str(tmp_path / "a.mrml"), "-o", str(tmp_path / "x.mrb")])
    assert code == 2 and "name ending in .mrml" in err and not (tmp_path / "x.mrb").exists()
    (tmp_path / "into").mkdir()
    code, err = _run(["clean", str(tmp_path / "a.mrml"), "-o", str(tmp_path / "into") + os.sep])
    assert code == 0 and os.listdir(tmp_path / "into") == ["a.mrml"]
    code, err = _run(["clean", str(tmp_path / "a.mrml"), "-o", str(tmp_path / "new") + os.sep])
    assert code == 0 and os.listdir(tmp_path / "new") == ["a.mrml"]
    (tmp_path / "empty").mkdir()
    code, err = _run(["scan", str(tmp_path / "empty")])
    assert code == 0 and "no scene file found" in err


def _bigShare(folder, count):
    """Enough scenes that a clean takes seconds: a Ctrl-C lands in the middle of it."""
    folder.mkdir()
    items = "".join(
        f'<SubjectHierarchyItem id="{10 + n}" name="Series {n} of DOE^JOHN" parent="6" type="DICOM" '
        f'attributes="DICOM.SeriesDescription^DOE JOHN CT {n}|"></SubjectHierarchyItem>'
        for n in range(300)
    )
    scene = SCENE.replace(
        "</SubjectHierarchyItem></SubjectHierarchyItem>", items + "</SubjectHierarchyItem></SubjectHierarchyItem>"
    )
    for number in range(count):
        (folder / f"scene{number:03d}.mrml").write_text(scene)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigint_to_a_real_clean_exits_130_with_no_traceback_and_nothing_partial(tmp_path, jobs):
    _bigShare(tmp_path / "share", 400)
    output = tmp_path / "out"
    environment = {
        **os.environ,
        "PYTHONPATH": os.path.abspath("AnonymizeOnSave"),
        "ANONYMIZE_ON_SAVE_KEY": "a-key-long-enough-for-a-hospital",
    }
    command = [sys.executable, "-m", "AnonymizeOnSaveLib", "clean", str(tmp_path / "share"), "-o", str(output)]
    process = subprocess.Popen(
        [*command, "--jobs", jobs], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while len(list(output.glob("scene*.mrml"))) < 2 and time.monotonic() < deadline:  # two scenes written whole
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-2000:]
    assert "Traceback" not in err and err.splitlines()[-1].startswith("error: interrupted: ")
    written = sorted(os.listdir(output))
    assert "INCOMPLETE.txt" in written and not any(name.startswith(".anonymizeonsave-") for name in written)
    scenes = [name for name in written if name.endswith(".mrml")]
    assert 2 <= len(scenes) < 400
    for name in scenes:
        text = (output / name).read_text()
        assert text.rstrip().endswith("</MRML>") and "DOE" not in text
