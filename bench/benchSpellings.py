"""make bench: what the spellings (issue 19) add to an anonymized save, against the code before them.

The code before the spellings (BEFORE, the commit before the tokenizer arrived) is checked out into the system's
temp folder; each run saves a subject hierarchy of 10k DICOM items plain, then anonymized under a new key (first
save), then again under that key (repeated save), in a fresh process, old and new interleaved with their order
alternating; both with the live design (issue 23's .mrml by string came after). Printed: the extra cost
(anonymized minus plain) of each, median (min-max), and the growth.
Target: the extra cost grows by at most 10%.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BEFORE = "fbe36ef"
ITEMS = 10000
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _oneRun(root):
    """In a fresh process: (plain, first, repeated) seconds for a save of ITEMS items with the code under root."""
    sys.path[:0] = [os.path.join(root, "AnonymizeOnSave"), os.path.join(root, "Testing"), os.path.join(HERE, "bench")]
    from benchmark import hierarchyScene

    from AnonymizeOnSaveLib import Policy, saveScene, sceneWriter

    if hasattr(sceneWriter, "stringPathServes"):  # the same design on both sides: the live one (before issue 23)
        sceneWriter.stringPathServes = lambda scene: False
    scene = hierarchyScene(ITEMS)
    times = []
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        scene.SetURL(os.path.join(folder, "plain.mrml"))
        scene.Commit()
        times.append(time.perf_counter() - start)
        for name in ("first.mrml", "again.mrml"):
            start = time.perf_counter()
            if not saveScene(scene, os.path.join(folder, name), policy=Policy(key="spellings bench")):
                raise SystemExit("benchmark save failed")
            times.append(time.perf_counter() - start)
    print(*times)


def _spread(values):
    return f"{statistics.median(values):6.3f} ({min(values):.3f}-{max(values):.3f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--run", help=argparse.SUPPRESS)  # the code's root, in the measuring process
    arguments = parser.parse_args()
    if arguments.run:
        return _oneRun(arguments.run)
    folder = tempfile.mkdtemp(prefix="spellings-bench-")
    before = os.path.join(folder, "before")
    try:
        made = subprocess.run(["git", "-C", HERE, "worktree", "add", "--detach", before, BEFORE], capture_output=True)
        if made.returncode:
            print(f"\nSpellings: not measured, the code before them ({BEFORE}) cannot be checked out here")
            return 1
        extra = {before: {"first": [], "repeated": []}, HERE: {"first": [], "repeated": []}}
        for run in range(arguments.repeats):
            for root in (before, HERE) if run % 2 == 0 else (HERE, before):
                done = subprocess.run(
                    [sys.executable, __file__, "--run", root], capture_output=True, text=True, check=True
                )
                plain, first, repeated = map(float, done.stdout.split())
                extra[root]["first"].append(first - plain)
                extra[root]["repeated"].append(repeated - plain)
        print(
            f"\nSpellings at {ITEMS} items: extra cost of an anonymized .mrml save, s, median (min-max) of "
            f"{arguments.repeats} interleaved runs"
        )
        for kind in ("first", "repeated"):
            old, new = statistics.median(extra[before][kind]), statistics.median(extra[HERE][kind])
            growth = new / old - 1
            print(
                f"  {kind:9s} before {_spread(extra[before][kind])}   now {_spread(extra[HERE][kind])}   "
                f"growth {growth * 100:+5.1f} % (target <= +10 %){'' if growth <= 0.10 else '  MISSED'}"
            )
    finally:
        subprocess.run(["git", "-C", HERE, "worktree", "remove", "--force", before], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
