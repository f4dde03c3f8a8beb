"""The command tells a privacy officer what the run cannot promise: no key (pseudonyms and UIDs random for this run,
different from any other), and refuses a key short enough to guess; Ctrl-C ends with exit 130 and one line saying
what was left (every output before it complete, nothing partial under a name), never a traceback."""

import io
import os

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
    assert code == 130 and err.count("\n") == 1 and "interrupted" in err and "Traceback" not in err
    left = sorted(os.listdir(tmp_path / "out"))
    assert left == ["a.mrml"] and "DOE" not in (tmp_path / "out" / "a.mrml").read_text()


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
