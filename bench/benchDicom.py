"""make bench, DICOM: the batch de-identifier against dicognito (installed for the benchmark only) and a plain copy,
on the same 500 CT and MR files (pydicom's samples, 10 patients of 50 instances, PHI in many tags), one process per
run, interleaved and alternating. Prints files/s, median (min-max), and marks a missed target.

Targets (issue 22): one process at least as fast as dicognito; --jobs 2 at least 1.7x one process.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import pydicom
from pydicom.data import get_testdata_file

FILES, PATIENTS, REPEATS = 500, 10, 3
HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = os.path.join(HERE, "..", "AnonymizeOnSave")


def writeFiles(folder):
    for number in range(FILES):
        dataset = pydicom.dcmread(get_testdata_file(("CT_small.dcm", "MR_small.dcm")[number % 2]))
        patient = number % PATIENTS
        dataset.PatientName, dataset.PatientID = f"Patient{patient}^Given{patient}", f"MRN{patient:06d}"
        dataset.AccessionNumber, dataset.InstitutionName = f"A{number:07d}", "General Hospital"
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID"):
            setattr(dataset, keyword, pydicom.uid.generate_uid(entropy_srcs=[keyword, str(patient)]))
        dataset.SOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=[str(number)])
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        folder_ = os.path.join(folder, f"patient{patient}")
        os.makedirs(folder_, exist_ok=True)
        dataset.save_as(os.path.join(folder_, f"IMG{number:04d}"), enforce_file_format=True)


def commands(source, output, keyFile):
    ours = [sys.executable, "-m", "AnonymizeOnSaveLib", "dicom", source, "-o", output, "--key-file", keyFile, "--quiet"]
    dicognito = [sys.executable, "-c", "import sys; from dicognito.__main__ import main; main(sys.argv[1:])"]
    return {
        "ours, 1 process": ours,
        "ours, --jobs 2": [*ours, "--jobs", "2"],
        "dicognito 0.19": [*dicognito, source, "--output-directory", output],
        "cp -r": ["cp", "-r", source, output],
    }


def main():
    work = tempfile.mkdtemp(prefix="anonymizeonsave-bench-")
    try:
        source, keyFile = os.path.join(work, "in"), os.path.join(work, "key")
        writeFiles(source)
        with open(keyFile, "w") as stream:
            stream.write("bench-key-long-enough-for-dicom")
        environment = {**os.environ, "PYTHONPATH": LIBRARY}
        rates = {}
        for run in range(REPEATS):
            names = list(commands(source, "", keyFile))
            for name in names if run % 2 == 0 else reversed(names):
                output = os.path.join(work, f"out-{run}-{names.index(name)}")
                start = time.perf_counter()
                done = subprocess.run(commands(source, output, keyFile)[name], env=environment, capture_output=True)
                elapsed = time.perf_counter() - start
                if done.returncode != 0:
                    raise SystemExit(f"{name} failed: {done.stderr.decode(errors='replace')[-500:]}")
                rates.setdefault(name, []).append(FILES / elapsed)
                shutil.rmtree(output, ignore_errors=True)
        print(f"\nDICOM batch: {FILES} files, files/s, median (min-max) of {REPEATS} interleaved runs")
        for name, values in rates.items():
            print(f"  {name:18s} {statistics.median(values):8.1f} ({min(values):.1f}-{max(values):.1f})")
        one, two = statistics.median(rates["ours, 1 process"]), statistics.median(rates["ours, --jobs 2"])
        other, copy = statistics.median(rates["dicognito 0.19"]), statistics.median(rates["cp -r"])
        print(f"  ratio to a plain copy: {one / copy:.3f} (one process), {two / copy:.3f} (--jobs 2)")
        print("\nTargets:")
        print(f"  one process vs dicognito: {one / other:.2f} x (target >= 1){'  MISSED' if one < other else ''}")
        print(f"  --jobs 2 vs one process:  {two / one:.2f} x (target >= 1.7){'  MISSED' if two < 1.7 * one else ''}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
