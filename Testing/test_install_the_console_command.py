"""The file tool as people install it: a wheel built from the repository, installed into a fresh venv (no Slicer,
nothing else), run as the console command slicer-scene-anonymizer."""

import os
import pathlib
import subprocess
import sys
import venv

from test_badInput import VALID_MRML

from AnonymizeOnSaveLib import __version__

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _run(command, **keywords):
    return subprocess.run(command, capture_output=True, text=True, check=False, **keywords)


def test_the_wheel_installs_a_console_command_that_scans_and_cleans(tmp_path):
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("slicer_scene_anonymizer-*.whl")
    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    installed = _run([str(python), "-m", "pip", "install", "--no-index", "--no-deps", "-q", str(wheel)])
    assert installed.returncode == 0, installed.stderr[-2000:]
    command = environment / "bin" / "slicer-scene-anonymizer"
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "ANONYMIZE_ON_SAVE"))}
    version = _run([str(command), "--version"], env=clean)
    assert version.returncode == 0 and version.stdout.strip() == f"slicer-scene-anonymizer {__version__}"
    assert _run([str(python), "-c", "import slicer"], env=clean).returncode != 0  # nothing but the tool
    scene = tmp_path / "shared.mrml"
    scene.write_text(VALID_MRML, encoding="utf-8")
    scan = _run([str(command), "scan", str(scene)], env=clean)
    assert scan.returncode == 1 and "[patient names]" in scan.stdout and "DOE" not in scan.stdout
    cleaned = _run([str(command), "clean", str(scene), "-o", str(tmp_path / "clean.mrml"), "--no-key"], env=clean)
    assert cleaned.returncode == 0, cleaned.stderr
    assert "MRN0042" not in (tmp_path / "clean.mrml").read_text(encoding="utf-8")
    assert _run([str(command), "scan", str(tmp_path / "clean.mrml")], env=clean).returncode == 0
    dicom = _run([str(command), "dicom", str(scene), "-o", str(tmp_path / "dicom-out"), "--no-key"], env=clean)
    assert dicom.returncode == 2 and "needs pydicom" in dicom.stderr and "Traceback" not in dicom.stderr
    table = _run(
        [
            str(python),
            "-c",
            "import AnonymizeOnSaveLib.dicom, os; print(os.listdir(AnonymizeOnSaveLib.dicom.__path__[0]))",
        ],
        env=clean,
    )
    assert "annexE.csv" in table.stdout  # the standard's table ships with the package
