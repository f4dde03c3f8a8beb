"""slicer-scene-anonymizer dicom IN... -o OUT: the command line of the DICOM de-identifier (dicom/dicomBatch).

Exit codes as for scenes: 0 every DICOM file de-identified, 2 an error (a file that cannot be read, or one whose
output would keep a value: shown as it happens, the run goes on), 130 interrupted. Other files and DICOMDIRs are
listed as skipped. A file whose pixels may show burnt-in text is de-identified but counted as "pixels not checked".
"""

import json
import os
import time

from .policy import KEY_ENVIRONMENT_VARIABLE
from .shares import Progress, markIncomplete

ERROR, INTERRUPTED = 2, 130


def dicomCommand(arguments, policy, out, err):
    try:
        from .dicom import dicomBatch
    except ImportError:
        err.write("error: the dicom command needs pydicom: pip install 'slicer-scene-anonymizer[dicom]'\n")
        return ERROR
    problem = _problem(arguments, policy)
    if problem:
        err.write(f"error: {problem}\n")
        return ERROR
    started, seen = time.monotonic(), []
    work = dicomBatch.DicomWork(policy, arguments.output, arguments.layout, arguments.retain_safe_private)

    def shown(outcome):
        seen.append(outcome)
        if outcome.status == "error":
            err.write(f"error: {dicomBatch.shownPaths(seen)[-1]}: {outcome.error}\n")
            err.flush()

    sources = dicomBatch.findFiles(arguments.inputs)
    progress = None if arguments.quiet else Progress(err, sources)
    outcomes, notReached = dicomBatch.deidentifyFolders(arguments.inputs, work, arguments.jobs, progress, shown)
    counts = {
        status: sum(outcome.status == status for outcome in outcomes) for status in ("cleaned", "skipped", "error")
    }
    unchecked = sum(outcome.status == "cleaned" and not outcome.pixelsChecked for outcome in outcomes)
    if arguments.crosswalk:
        dicomBatch.writeCrosswalk(outcomes, arguments.crosswalk)
    if counts["error"] or notReached:
        markIncomplete(arguments.output, counts["error"], notReached, "file", "de-identified", "input")
    if arguments.csv:
        _writeCsv(arguments.csv, outcomes, dicomBatch.shownPaths(outcomes))
    if arguments.json:
        out.write(json.dumps(dicomBatch.asJson(outcomes, notReached), indent=2) + "\n")
    elif not arguments.quiet:
        for path, outcome in zip(dicomBatch.shownPaths(outcomes), outcomes):
            if outcome.status == "skipped":
                out.write(f"{path}: skipped ({outcome.error})\n")
            elif outcome.status == "cleaned" and not outcome.pixelsChecked:
                out.write(f"{path}: pixels not checked (they may show burnt-in text)\n")
    if not arguments.quiet:
        err.write(
            f"dicom: {len(outcomes) + notReached} file(s), {counts['cleaned']} de-identified, {counts['skipped']}"
            f" skipped, {counts['error']} error(s), {unchecked} with pixels not checked"
            f"{f', {notReached} not reached (interrupted)' if notReached else ''}"
            f" ({time.monotonic() - started:.1f} s)\n"
        )
    if notReached:
        err.write(
            f"error: interrupted: {notReached} file(s) were not de-identified; every output written is complete\n"
        )
        return INTERRUPTED
    return ERROR if counts["error"] else 0


def _problem(arguments, policy):
    """What makes the run impossible, found before any work; None when it can start."""
    if policy.keyIsEphemeral and not arguments.no_key:
        return (
            f"dicom needs a key (--key-file or ${KEY_ENVIRONMENT_VARIABLE}) so that pseudonyms and UIDs match every"
            " scene and every other run; give --no-key to use random ones"
        )
    if arguments.jobs < 1:
        return "--jobs takes a number of processes, 1 or more"
    output = os.path.abspath(arguments.output)
    if os.path.lexists(output) and (not os.path.isdir(output) or os.listdir(output)):
        return "the output folder exists and is not empty; choose a new one"
    for given in arguments.inputs:
        if not os.path.exists(given):
            return "an input does not exist"
        if os.path.isdir(given) and os.path.commonpath([os.path.abspath(given), output]) == os.path.abspath(given):
            return "the output folder is inside an input folder; choose one outside it"
    if arguments.crosswalk:
        crosswalk = os.path.abspath(arguments.crosswalk)
        if os.path.commonpath([crosswalk, output]) == output:
            return "the crosswalk holds the original identifiers: write it outside the output folder"
    try:
        os.makedirs(output, exist_ok=True)
    except OSError as error:
        return f"cannot write into the output folder ({error.strerror or type(error).__name__})"
    return None


def _writeCsv(path, outcomes, shown):
    import csv

    with open(path, "w", newline="", encoding="utf-8", errors="surrogateescape") as stream:
        writer = csv.writer(stream)
        writer.writerow(["input", "status", "output", "pixels", "error"])
        for name, outcome in zip(shown, outcomes):
            pixels = "not checked" if outcome.status == "cleaned" and not outcome.pixelsChecked else ""
            writer.writerow([name, outcome.status, outcome.output or "", pixels, outcome.error or ""])
