"""A whole share of scene files: every scene under the files and folders given, scanned or cleaned in one run (in
several processes if asked), past files that cannot be read, with a report per file and progress on a terminal.

A scene is a .mrml, a .mrb (.seq.mrb too), a NRRD file or header, or a bundle folder (a folder holding a .mrml of its
own name, taken whole). Other files are listed as skipped: a clean never copies them into its output tree, since a
share may also hold DICOM files or documents that this tool does not clean.
"""

import csv
import os
import signal
import time
from collections import namedtuple
from concurrent.futures import ProcessPoolExecutor
from urllib.parse import quote

from . import profile
from .fileNames import holdsValue, replaceInFileName
from .phiText import PhiTextMatcher
from .sceneFiles import SceneFileError, cleanPath, scanPath, valuesOf

SCENE_SUFFIXES = (".mrml", ".mrb", ".nrrd", ".nhdr")

Scene = namedtuple("Scene", "path relative size")
Outcome = namedtuple("Outcome", "scene status findings counts error output shown missing")
"""status: "clean" (nothing found), "found" (scan), "cleaned", "error"; findings: (place, category) pairs; shown:
the scene's path as reports show it (every value found in it masked); missing: the files the scene refers to that
the share does not hold (masked)."""


class Interrupted(Exception):
    """The run was interrupted (Ctrl-C): outcomes holds every scene finished, each complete, in the scenes' order."""

    def __init__(self, outcomes):
        super().__init__("interrupted")
        self.outcomes = outcomes


def isBundleFolder(path):
    """A folder Slicer saved a scene into: its scene file named after it; (a folder renamed since) its only scene
    file beside the Data folder its files are in; or, as *File > Save* writes a .mrml, scene files beside the data
    files they refer to (one unit: cleaned together, so every reference still finds its file)."""
    if os.path.isfile(os.path.join(path, os.path.basename(os.path.normpath(path)) + ".mrml")):
        return True
    names = os.listdir(path)
    scenes = [name for name in names if name.lower().endswith(".mrml")]
    if len(scenes) == 1 and os.path.isdir(os.path.join(path, "Data")):
        return True
    others = [name for name in names if not name.lower().endswith(".mrml") and os.path.isfile(os.path.join(path, name))]
    return bool(scenes and others) and any(_refersTo(os.path.join(path, scene), others) for scene in scenes)


def _refersTo(sceneFile, names):
    """Whether a scene file names any of these files (as a storage node's fileName, URL-encoded as Slicer writes)."""
    try:
        with open(sceneFile, "rb") as stream:
            text = stream.read().decode("utf-8", "replace")
    except OSError:
        return False
    return any(f'"{name}"' in text or f'"{quote(name, safe="", errors="surrogateescape")}"' in text for name in names)


def _size(path):
    """The bytes of a scene, for progress (a link counts as itself: it may lead nowhere)."""
    if os.path.isdir(path):
        return sum(os.lstat(os.path.join(d, f)).st_size for d, _, fs in os.walk(path) for f in fs)
    return os.path.getsize(path) if os.path.isfile(path) else 0


def findScenes(paths):
    """(scenes, skipped): every scene under the given files and folders, and the other files found in folders."""
    scenes, skipped = [], []
    for given in paths:
        if not os.path.isdir(given) or isBundleFolder(given):
            scenes.append(Scene(given, os.path.basename(os.path.normpath(given)), _size(given)))
            continue
        for folder, folders, files in os.walk(given):
            folders.sort()
            bundles = [name for name in folders if isBundleFolder(os.path.join(folder, name))]
            folders[:] = [name for name in folders if name not in bundles]
            for name in bundles + sorted(files):
                path = os.path.join(folder, name)
                relative = os.path.relpath(path, given)
                if name in bundles or name.lower().endswith(SCENE_SUFFIXES):
                    scenes.append(Scene(path, relative, _size(path)))
                else:
                    skipped.append(path)
    return scenes, skipped


def _scanOne(scene, policy, matcher=None):
    try:
        result = scanPath(scene.path, policy, matcher)
    except SceneFileError as error:
        return Outcome(scene, "error", [], {}, str(error), None, _shownOnError(error, scene), [])
    findings = [(finding.place, finding.category) for finding in result.findings]
    shown = replaceInFileName(result.matcher, scene.path)
    status = "found" if result else "clean"
    return Outcome(scene, status, findings, dict(result.report.counts), None, None, shown, result.missing)


def _cleanOne(scene, policy, destination, mirrored=False, shareValues=()):
    """destination: the output path, or None to clean in place; mirrored: in a mirror tree, whose names are cleaned
    like any other place (a scene named after its patient is not written under that name); shareValues: the values
    of the share's other scenes, replaced here too."""
    try:
        if destination is not None:
            os.makedirs(os.path.dirname(destination) or ".", exist_ok=True)
        inPlace = destination is None
        result = cleanPath(scene.path, destination, inPlace, policy, laterValues=shareValues)
        output = result.output
        if mirrored and destination.endswith(scene.relative):
            root = destination[: len(destination) - len(scene.relative)]
            output = os.path.join(root, replaceInFileName(result.matcher, scene.relative))
            if output != destination:
                if os.path.lexists(output):
                    raise SceneFileError("two scenes get the same name once cleaned; clean them into separate folders")
                os.makedirs(os.path.dirname(output), exist_ok=True)
                os.rename(destination, output)
                _removeEmptyFolders(os.path.dirname(destination), root)
    except (SceneFileError, OSError) as error:
        message = str(error) if isinstance(error, SceneFileError) else (error.strerror or type(error).__name__)
        return Outcome(scene, "error", [], {}, message, None, _shownOnError(error, scene), [])
    shown = replaceInFileName(result.matcher, scene.path)
    if inPlace and holdsValue(result.matcher, scene.relative):
        message = "cleaned in place, but its name holds patient data (rename it, or clean into a new folder with -o)"
        return Outcome(scene, "error", [], {}, message, None, shown, [])
    return Outcome(scene, "cleaned", [], dict(result.report.counts), None, output, shown, result.missing)


def _shownOnError(error, scene):
    """The path of a scene that failed, masked with the values it was found to hold when it was read that far (a
    file that cannot be read at all is named as it is: none of its values is known)."""
    matcher = getattr(error, "matcher", None)
    return replaceInFileName(matcher, scene.path) if matcher else scene.path


def _removeEmptyFolders(folder, root):
    while os.path.normpath(folder) != os.path.normpath(root) and not os.listdir(folder):
        os.rmdir(folder)
        folder = os.path.dirname(folder)


class Progress:
    """Files and bytes done, rate and time left, on one line of a terminal; nothing when stream is not one."""

    def __init__(self, stream, scenes):
        self.stream = stream if stream is not None and stream.isatty() else None
        self.totalFiles, self.totalBytes = len(scenes), sum(scene.size for scene in scenes) or 1
        self.files = self.bytes = 0
        self.start = time.monotonic()

    def done(self, scene):
        self.files += 1
        self.bytes += scene.size
        if self.stream is None:
            return
        elapsed = max(time.monotonic() - self.start, 1e-6)
        rate = self.bytes / elapsed
        left = (self.totalBytes - self.bytes) / rate if rate else 0
        self.stream.write(
            f"\r{self.files}/{self.totalFiles} files, {self.bytes / 1e6:.1f}/{self.totalBytes / 1e6:.1f} MB, "
            f"{rate / 1e6:.1f} MB/s, {left:.0f} s left "
        )
        if self.files == self.totalFiles:
            self.stream.write("\n")
        self.stream.flush()


def run(scenes, work, jobs=1, progress=None, onOutcome=None):
    """Outcomes of work(scene) for every scene, in the scenes' order; jobs > 1 runs them in as many processes.
    onOutcome(outcome) is called as each one is known (errors are shown as they happen). On Ctrl-C, the scenes in
    progress are finished (each is written whole or not at all), the others not started, and Interrupted raised."""
    outcomes = []

    def finished(outcome):
        outcomes.append(outcome)
        if progress:
            progress.done(outcome.scene)
        if onOutcome:
            onOutcome(outcome)

    if jobs > 1 and len(scenes) > 1:
        _runInProcesses(scenes, work, jobs, finished, outcomes)
        return outcomes
    try:
        for scene in scenes:
            finished(work(scene))
    except KeyboardInterrupt:
        raise Interrupted(outcomes) from None
    return outcomes


def _ignoreInterrupts():
    """In a worker: Ctrl-C reaches the whole process group; the parent alone decides (a worker would die with a
    traceback, possibly in the middle of a file)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _Batch:
    """A picklable run of work over a few items in one worker (one task per item costs more to pass than a small
    file takes to clean)."""

    def __init__(self, work):
        self.work = work

    def __call__(self, items):
        return [self.work(item) for item in items]


def _runInProcesses(scenes, work, jobs, finished, outcomes):
    size = max(1, min(16, len(scenes) // (jobs * 8)))
    batches = [scenes[start : start + size] for start in range(0, len(scenes), size)]
    with ProcessPoolExecutor(max_workers=jobs, initializer=_ignoreInterrupts) as pool:
        futures = [pool.submit(_Batch(work), batch) for batch in batches]
        done = 0
        try:
            for future in futures:
                for outcome in future.result():
                    finished(outcome)
                done += 1
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the wait below
            try:
                for future in futures:
                    future.cancel()
                pool.shutdown(wait=True)
                for future in futures[done:]:
                    if future.done() and not future.cancelled() and future.exception() is None:
                        for outcome in future.result():
                            finished(outcome)
            finally:
                signal.signal(signal.SIGINT, signal.default_int_handler)
            raise Interrupted(outcomes) from None


class ValuesWork:
    """A picklable reading of the values one scene holds ((original, replacement, category); none when it cannot
    be read: its error is reported by the scan or clean that follows)."""

    def __init__(self, policy):
        self.policy = policy

    def __call__(self, scene):
        try:
            return valuesOf(scene.path, self.policy)
        except SceneFileError:
            return ()


def holdsOthers(values, ownValues):
    """Whether a share's values hold one a scene's own (originals) do not: only then is it searched for them."""
    own = {original for original, *_ in ownValues}
    return any(original not in own for original, *_ in values)


def maskedForTheShare(outcome, matcher):
    """An outcome as a share's report shows it: every value of the share masked in its paths and places, and a
    scene whose own path in the share holds one found there (clean renames it)."""
    findings = [(replaceInFileName(matcher, place), category) for place, category in outcome.findings]
    status = outcome.status
    if status in ("clean", "found") and holdsValue(matcher, outcome.scene.relative):  # (a scan's)
        findings.append((f"{replaceInFileName(matcher, outcome.scene.relative)} (name)", profile.FILE_NAMES))
        status = "found"
    return outcome._replace(
        shown=replaceInFileName(matcher, outcome.shown),
        findings=findings,
        status=status,
        missing=[replaceInFileName(matcher, name) for name in outcome.missing],
        output=outcome.output and replaceInFileName(matcher, outcome.output),
        error=outcome.error and replaceInFileName(matcher, outcome.error),
    )


class ScanWork:
    """A picklable scan of one scene (for the process pool); shareValues: the values of the share's scenes, reported
    in sharedScenes (the scenes whose own values do not cover them) where the scene's own values do not."""

    def __init__(self, policy, shareValues=(), sharedScenes=frozenset()):
        self.policy, self.shareValues, self.sharedScenes, self._matcher = policy, shareValues, sharedScenes, None

    def __getstate__(self):
        return {**self.__dict__, "_matcher": None}  # made again in each worker

    def __call__(self, scene):
        if scene.path not in self.sharedScenes:
            return _scanOne(scene, self.policy)
        if self._matcher is None:
            self._matcher = PhiTextMatcher(self.shareValues)
        return _scanOne(scene, self.policy, self._matcher)


class CleanWork:
    """A picklable clean of one scene, into outputFolder (mirroring the tree) or in place; shareValues: the values
    of the share's scenes, replaced in each scene too."""

    def __init__(self, policy, outputFolder=None, outputFile=None, shareValues=()):
        self.policy, self.outputFolder, self.outputFile = policy, outputFolder, outputFile
        self.shareValues = shareValues

    def __call__(self, scene):
        if self.outputFile is not None:
            destination = self.outputFile
        elif self.outputFolder is not None:
            destination = os.path.join(self.outputFolder, scene.relative)
        else:
            destination = None
        mirrored = self.outputFile is None and destination is not None
        return _cleanOne(scene, self.policy, destination, mirrored, self.shareValues)


INCOMPLETE_MARKER = "INCOMPLETE.txt"


def markIncomplete(folder, failed, notReached, noun="scene", done="cleaned", source="share"):
    """A file in the output folder no one can miss, saying how many scenes (or files) are absent and why (never
    which: their names could hold PHI; the run's report lists them). Returns its path."""
    os.makedirs(folder, exist_ok=True)
    marker = os.path.join(folder, INCOMPLETE_MARKER)
    with open(marker, "w", encoding="utf-8") as stream:
        stream.write(f"This folder is NOT a complete {done} copy of the {source}.\n")
        if failed:
            stream.write(f"{failed} {noun}(s) could not be {done} and are not here.\n")
        if notReached:
            stream.write(f"{notReached} {noun}(s) were not {done}: the run was interrupted.\n")
        stream.write(
            f"Every {noun} that is here is complete and was checked. The report of the run names the missing ones.\n"
        )
    return marker


def writeCsv(outcomes, skipped, stream):
    """One row per finding (or per file without any), and per file a scene refers to but lacks (status "missing",
    the file's masked name as the place): path, status, place, category, error."""
    writer = csv.writer(stream)
    writer.writerow(["path", "status", "place", "category", "error"])
    for outcome in outcomes:
        rows = outcome.findings or [("", "")]
        for place, category in rows:
            writer.writerow([outcome.shown, outcome.status, place, category, outcome.error or ""])
        for name in outcome.missing:
            writer.writerow([outcome.shown, "missing", name, "", "the scene refers to a file the share lacks"])
    for path in skipped:
        writer.writerow([path, "skipped", "", "", "not a scene file"])


def _replacedSomething(outcome):
    return outcome.status == "cleaned" and any(
        count for category, count in outcome.counts.items() if category != profile.MARKERS
    )


def asJson(outcomes, skipped):
    """found: PHI was found (by scan) or replaced (by clean); cleaned: how many files clean wrote."""
    return {
        "found": any(outcome.status == "found" or _replacedSomething(outcome) for outcome in outcomes),
        "cleaned": sum(outcome.status == "cleaned" for outcome in outcomes),
        "errors": sum(outcome.status == "error" for outcome in outcomes),
        "files": [
            {
                "path": outcome.shown,
                "status": outcome.status,
                "findings": [{"place": place, "category": category} for place, category in outcome.findings],
                "counts": dict(sorted(outcome.counts.items())),
                **({"error": outcome.error} if outcome.error else {}),
                **({"output": outcome.output} if outcome.output else {}),
                **({"missing": outcome.missing} if outcome.missing else {}),
            }
            for outcome in outcomes
        ],
        "skipped": skipped,
    }
