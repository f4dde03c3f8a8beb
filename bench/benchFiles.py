"""Cleaning a large MRB against a plain file copy of it, and scanning it (issue 4: at most 1.5x a copy).

Builds a plain save of the DICOM sample scene and adds one large data entry (a NRRD header and random bytes,
stored, as an already gzip'd volume would be), then times, side by side: shutil.copyfile, cleanPath, scanPath.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile

from dicomScenes import buildSampleScene

from AnonymizeOnSaveLib import Policy, saveScene
from AnonymizeOnSaveLib.sceneFiles import cleanPath, scanPath


def bigBundle(folder, sizeMb):
    plain = os.path.join(folder, "plain.mrb")
    assert saveScene(buildSampleScene().scene, plain, anonymize=False)
    with zipfile.ZipFile(plain, "a") as bundle:
        with bundle.open("plain/Data/large volume.nrrd", "w", force_zip64=False) as entry:
            entry.write(b"NRRD0004\ntype: uchar\ndimension: 1\nsizes: %d\nencoding: gzip\n\n" % (sizeMb << 20))
            for _ in range(sizeMb):
                entry.write(os.urandom(1 << 20))
    return plain


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    policy = Policy(key="bench")
    with tempfile.TemporaryDirectory(dir=".") as folder:
        source = bigBundle(folder, arguments.size_mb)
        copies, cleans, scans = [], [], []
        for run in range(arguments.repeats):
            for times, action in (
                (copies, lambda target: shutil.copyfile(source, target)),
                (cleans, lambda target: cleanPath(source, target, policy=policy)),
            ):
                target = os.path.join(folder, f"out-{run}.mrb")
                start = time.perf_counter()
                action(target)
                times.append(time.perf_counter() - start)
                if os.path.getsize(target) < 0.99 * os.path.getsize(source):
                    raise SystemExit("the output lost data: the benchmark measures nothing")
                os.remove(target)
            start = time.perf_counter()
            scanPath(source, policy)
            scans.append(time.perf_counter() - start)
        copy, clean, scan = (statistics.median(t) for t in (copies, cleans, scans))
        size = os.path.getsize(source) / (1 << 20)
        print(f"MRB of {size:.0f} MB: plain copy {copy:.2f} s, clean {clean:.2f} s, ratio {clean / copy:.2f}")
        print(f"scan (scene XML and headers only) {scan:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
