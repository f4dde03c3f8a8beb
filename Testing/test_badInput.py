"""Bad input: one line, exit code 2, no traceback and no output file. Fuzzing the MRML and zip readers."""

import glob
import io
import os
import subprocess
import sys
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from AnonymizeOnSaveLib.__main__ import main
from AnonymizeOnSaveLib.mrmlText import MrmlDocument, MrmlSyntaxError
from AnonymizeOnSaveLib.sceneFiles import SceneFileError, scanPath

VALID_MRML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<MRML version="5">\n'
    '<SubjectHierarchy\n  id="vtkMRMLSubjectHierarchyNode1" name="SubjectHierarchy">\n'
    '   <SubjectHierarchyItem id="3" name="Scene" parent="0" attributes="Level^Scene|">\n'
    '     <SubjectHierarchyItem id="6" name="DOE^JOHN (MRN0042)" parent="3" type="DICOM" uids="DICOM^MRN0042|" '
    'attributes="DICOM.PatientID^MRN0042|DICOM.PatientName^DOE^JOHN|Level^Patient|"></SubjectHierarchyItem>'
    "</SubjectHierarchyItem></SubjectHierarchy>\n</MRML>\n"
)


def _zip(entries, path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)


@pytest.fixture(autouse=True)
def _aKey(monkeypatch):
    """Every run here has a key (a run without one, or with a weak one, warns: test_the_command_warns_...)."""
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", "a-test-key-long-enough")


def _run(arguments):
    out, err = io.StringIO(), io.StringIO()
    code = main(arguments, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _badInputs(tmp_path):
    """name -> path of each kind of bad input the issue lists."""
    inputs = {"missing": str(tmp_path / "missing.mrb")}
    good = tmp_path / "good.mrb"
    _zip([("good/good.mrml", VALID_MRML)], good)
    data = good.read_bytes()
    (tmp_path / "truncated.mrb").write_bytes(data[: len(data) // 2])
    inputs["truncated"] = str(tmp_path / "truncated.mrb")
    corrupt = bytearray(data)
    corrupt[40:60] = b"\xff" * 20  # inside the first entry's compressed data
    (tmp_path / "corrupt.mrb").write_bytes(bytes(corrupt))
    inputs["corrupt"] = str(tmp_path / "corrupt.mrb")
    (tmp_path / "notzip.mrb").write_text("this is not a zip file")
    inputs["not a zip"] = str(tmp_path / "notzip.mrb")
    (tmp_path / "syntax.mrml").write_text(VALID_MRML.replace("</SubjectHierarchy>", "</Subject"))
    inputs["XML syntax"] = str(tmp_path / "syntax.mrml")
    _zip([("../escape.mrml", VALID_MRML)], tmp_path / "traversal.mrb")
    inputs["../ entry"] = str(tmp_path / "traversal.mrb")
    _zip([("/absolute.mrml", VALID_MRML)], tmp_path / "absolute.mrb")
    inputs["absolute entry"] = str(tmp_path / "absolute.mrb")
    _zip([("bomb/bomb.mrml", VALID_MRML + " " * (64 << 20))], tmp_path / "bomb.mrb")
    inputs["zip bomb"] = str(tmp_path / "bomb.mrb")
    (tmp_path / "latin1.mrml").write_bytes(VALID_MRML.replace("DOE", "D\xd6E").encode("latin-1"))
    inputs["not UTF-8"] = str(tmp_path / "latin1.mrml")
    bundle = tmp_path / "linked"
    bundle.mkdir()
    (bundle / "linked.mrml").write_text(VALID_MRML)
    os.symlink("/etc/passwd", bundle / "outside.nrrd")
    inputs["symlink outside"] = str(bundle)
    return inputs


def test_each_bad_input_gives_one_line_exit_2_and_no_output(tmp_path):
    for kind, path in _badInputs(tmp_path).items():
        for command in (["scan", path], ["clean", path, "-o", str(tmp_path / "out")]):
            code, out, err = _run(command)
            assert code == 2, (kind, command[0], out, err)
            assert err.count("\n") == 1 and err.startswith("error: "), (kind, err)
            assert "Traceback" not in err and "DOE" not in err and "MRN0042" not in err
            assert not os.path.exists(tmp_path / "out"), kind
        assert not [name for name in os.listdir(tmp_path) if name.startswith(".anonymizeonsave-")], kind


def test_a_mostly_empty_data_entry_is_not_a_zip_bomb(tmp_path):
    header = b"NRRD0004\ntype: uchar\ndimension: 1\nsizes: 8388608\nencoding: raw\n\n"
    _zip([("s/s.mrml", VALID_MRML), ("s/Data/empty.nrrd", header + b"\0" * (8 << 20))], tmp_path / "s.mrb")
    assert scanPath(str(tmp_path / "s.mrb"))  # scanned (and PHI found), not refused


def test_usage_errors_show_the_usage_line_then_one_error_line(tmp_path):
    for arguments in ([], ["scan"], ["clean", "x.mrb"], ["clean", "x.mrb", "-o", "y", "--in-place"], ["nope"]):
        code, _, err = _run(arguments)
        lines = err.splitlines()
        assert code == 2 and lines[0].startswith("usage: ") and lines[-1].startswith("error: "), (arguments, err)
        assert sum(line.startswith("error: ") for line in lines) == 1, (arguments, err)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzz_the_mrml_reader(data):
    """Mutations of a valid scene: the reader either reads it or raises MrmlSyntaxError, nothing else."""
    text = VALID_MRML
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 8))
        insert = data.draw(st.text(alphabet='<>/="^|&;:# \nabcDICOM.', max_size=6))
        text = text[:position] + insert + text[position + cut :]
    try:
        document = MrmlDocument(text)
        document.sites()
        document.render()
    except MrmlSyntaxError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400), st.integers(0, 1000), st.binary(max_size=8))
def test_fuzz_the_zip_reader(tmp_path_factory, garbage, position, insert):
    """Random bytes and corrupted bundles: scanning either works or raises SceneFileError."""
    folder = tmp_path_factory.mktemp("fuzz")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("f/f.mrml", VALID_MRML)
    valid = buffer.getvalue()
    position %= len(valid)
    for index, data in enumerate([garbage, valid[:position] + insert + valid[position + len(insert) :]]):
        path = folder / f"{index}.mrb"
        path.write_bytes(data)
        try:
            scanPath(str(path))
        except SceneFileError:
            pass


def _interpreters():
    """The base interpreter (no slicer installed) and any Python 3.9 on the machine: the oldest we support."""
    found = [getattr(sys, "_base_executable", None) or "python3"]
    found += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3")))
    return found


@pytest.mark.parametrize("python", _interpreters())
def test_the_cli_runs_on_a_python_without_slicer(tmp_path, python):
    probe = subprocess.run([python, "-c", "import slicer"], capture_output=True, check=False)
    assert probe.returncode != 0, "the base interpreter must not have slicer for this test to mean anything"
    plain = tmp_path / "plain.mrml"
    plain.write_text(VALID_MRML)
    env = {"PYTHONPATH": os.path.abspath("AnonymizeOnSave"), "ANONYMIZE_ON_SAVE_KEY": "cli-key-long-enough-16"}

    def cli(*arguments):
        command = [python, "-m", "AnonymizeOnSaveLib", *arguments]
        return subprocess.run(command, capture_output=True, text=True, env=env, check=False)

    scan = cli("scan", str(plain))
    assert scan.returncode == 1 and "[patient names]" in scan.stdout
    assert "DOE" not in scan.stdout and "MRN0042" not in scan.stdout
    assert cli("scan", "--json", str(plain)).stdout.count('"category"') == len(scan.stdout.splitlines()) - 1
    clean = cli("clean", str(plain), "-o", str(tmp_path / "clean.mrml"))
    assert clean.returncode == 0, clean.stderr
    cleaned = (tmp_path / "clean.mrml").read_text()
    assert "DOE" not in cleaned and "MRN0042" not in cleaned and "ANON^" in cleaned
    assert cli("scan", str(tmp_path / "clean.mrml")).returncode == 0
    broken = cli("scan", str(tmp_path / "missing.mrb"))
    assert broken.returncode == 2 and broken.stderr.count("\n") == 1 and "Traceback" not in broken.stderr


@pytest.mark.parametrize("retain", [["uids"], ["descriptions", "longitudinalDates"]])
def test_cli_retain_options_reach_the_policy(tmp_path, retain):
    plain = tmp_path / "plain.mrml"
    plain.write_text(VALID_MRML)
    options = [argument for option in retain for argument in ("--retain", option)]
    assert _run(["clean", str(plain), "-o", str(tmp_path / "c.mrml"), *options])[0] == 0
    assert "retain=" + ",".join(sorted(retain)) in (tmp_path / "c.mrml").read_text()
