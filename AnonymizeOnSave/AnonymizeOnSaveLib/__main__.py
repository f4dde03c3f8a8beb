"""slicer-scene-anonymizer (or python -m AnonymizeOnSaveLib): scan and clean Slicer scene files and whole shares.

  scan PATH...                 report the PHI in scene files and in every scene under folders
  clean SRC... (-o DST | --in-place)
                               a cleaned copy (a file; or, for folders or several sources, a mirror tree holding
                               only the cleaned scenes), or each scene cleaned in place
  dicom IN... -o OUT           de-identify DICOM files and folders (PS3.15 Table E.1-1; needs pydicom), with the
                               pseudonyms and UIDs scenes get under the same key; --crosswalk DIR for the mapping
  pseudonyms (ID[,NAME])...    the crosswalk for a study coordinator: pseudonym ID, name and date shift per patient

Exit codes: 0 nothing found / all cleaned, 1 PHI found (scan), 2 error (one line on stderr per file that could not be
read, as it happens, never a traceback; the run goes on past such a file), 3 both, 130 interrupted. Values are never
printed: findings name the file, the place and the category. Progress and a summary go to stderr (progress on a
terminal only); --quiet leaves errors and warnings alone there. clean needs a key (--key-file or the environment
variable) or --no-key: without one, pseudonyms and UIDs differ from every other run.
"""

import argparse
import csv
import datetime
import io
import json
import os
import sys
import tempfile
import time

from . import __version__, profile
from .audit import AUDIT_LOG_ENVIRONMENT_VARIABLE, appendAuditRecord, auditLogPath
from .fileNames import replaceInFileName
from .phiText import PhiTextMatcher
from .policy import KEY_ENVIRONMENT_VARIABLE, Policy, PolicyError
from .pseudonyms import UID_ROOT
from .report import Report
from .shares import (
    CleanWork,
    Interrupted,
    Progress,
    ScanWork,
    ValuesWork,
    findScenes,
    holdsOthers,
    isBundleFolder,
    markIncomplete,
    maskedForTheShare,
    run,
    writeCsv,
)
from .shares import asJson as reportAsJson

FOUND, ERROR, INTERRUPTED = 1, 2, 130
STATUSES = {"found": "with PHI", "clean": "without PHI", "cleaned": "cleaned", "error": "could not be read or written"}
MIN_KEY_BYTES = 16


class _UsageError(Exception):
    """A command line the parser cannot take; usage: the usage line to show with it."""

    def __init__(self, message, usage=""):
        super().__init__(message)
        self.usage = usage


class _Stopped(Exception):
    """The run was interrupted; its report is out; the message says what was left."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(message, self.format_usage())


def _parser():
    parser = _Parser(
        prog=_programName(),
        description=__doc__.splitlines()[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    scan = commands.add_parser("scan", help="report the PHI in scene files and folders of them")
    scan.add_argument("paths", nargs="+", metavar="PATH")
    clean = commands.add_parser("clean", help="write copies without PHI; every entry without PHI is kept as is")
    clean.add_argument("sources", nargs="+", metavar="SRC")
    target = clean.add_mutually_exclusive_group(required=True)
    target.add_argument("-o", "--output", metavar="DST", help="the cleaned file, or the folder of the mirror tree")
    target.add_argument("--in-place", action="store_true", help="replace each scene atomically")
    clean.add_argument(
        "--audit-log",
        metavar="FILE",
        help=f"append an audit record (no value) per cleaned scene (default: ${AUDIT_LOG_ENVIRONMENT_VARIABLE})",
    )
    dicom = commands.add_parser(
        "dicom", help="de-identify DICOM files and folders, PS3.15 Table E.1-1 (needs pydicom: pip install .[dicom])"
    )
    dicom.add_argument("inputs", nargs="+", metavar="IN")
    dicom.add_argument("-o", "--output", required=True, metavar="OUT", help="a new (or empty) folder")
    dicom.add_argument(
        "--layout",
        choices=("patient", "mirror"),
        default="patient",
        help="patient/study/series folders named by their new IDs and UIDs (default), or the input's folders coded",
    )
    dicom.add_argument("--crosswalk", metavar="DIR", help="write uid_mapping.csv and patid_mapping.csv there")
    dicom.add_argument("--retain-safe-private", action="store_true", help="keep private attributes, their text cleaned")
    for command in (scan, clean, dicom):
        command.add_argument("--json", action="store_true", help="machine-readable output")
        command.add_argument("--csv", metavar="FILE", help="also write the report as CSV, for spreadsheets")
        command.add_argument("--jobs", type=int, default=1, metavar="N", help="work in N processes")
        command.add_argument(
            "--quiet", action="store_true", help="no per-file lines, progress or summary; errors and warnings only"
        )
        command.add_argument(
            "--no-key",
            action="store_true",
            help="run without a key: pseudonyms and UIDs random for this run (clean refuses to run without one)",
        )
        command.add_argument(
            "--no-recognisers",
            action="store_true",
            help="replace only the values the scene holds, not every date, UID, e-mail address and phone number",
        )
    pseudonyms = commands.add_parser("pseudonyms", help="the pseudonyms the key gives each patient")
    pseudonyms.add_argument("patients", nargs="*", metavar="ID[,NAME]", help="or one per line on standard input")
    pseudonyms.add_argument(
        "--uids", action="store_true", help="read DICOM UIDs (study, series, instance) instead: the UID each one gets"
    )
    for command in (scan, clean, dicom, pseudonyms):
        command.add_argument(
            "--retain", action="append", default=[], choices=profile.RETAIN_OPTIONS, help="a PS3.15 retain option"
        )
        command.add_argument("--key-file", help=f"the pseudonymization key (default: ${KEY_ENVIRONMENT_VARIABLE})")
    return parser


def _programName():
    """The installed console command's name, or how the module is run."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m AnonymizeOnSaveLib" if name in ("", "__main__.py", "-c") else name


def _policy(arguments):
    key = None
    if arguments.key_file:
        try:
            with open(arguments.key_file, "rb") as stream:
                key = stream.read().strip()
        except OSError as error:
            raise PolicyError(f"cannot read the key file ({error.strerror})") from None
    recognisers = not getattr(arguments, "no_recognisers", False)
    policy = Policy(key=key, retain=arguments.retain, recognisers=recognisers)
    if not policy.keyIsEphemeral and policy.keyLength() < MIN_KEY_BYTES:
        raise PolicyError(f"the key is shorter than {MIN_KEY_BYTES} bytes: anyone could guess it; use a longer one")
    return policy


def _runRecord(arguments):
    """What a JSON report says of the run itself: the tool and its version, when, the command and its options, and
    the key's fingerprint (never the key)."""
    policy = arguments.policy
    return {
        "tool": {"name": "slicer-scene-anonymizer", "version": __version__},
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": arguments.command,
        "options": {"retain": sorted(policy.retain), "recognisers": bool(policy.recognisers)},
        "keyId": None if policy.keyIsEphemeral else policy.keyId(),
    }


def _report(arguments, outcomes, skipped, out, describe, notReached=0, marker=None):
    if arguments.csv:
        with open(arguments.csv, "w", newline="", encoding="utf-8", errors="surrogateescape") as stream:
            writeCsv(outcomes, skipped, stream)
    if arguments.json:
        report = {**_runRecord(arguments), **reportAsJson(outcomes, skipped)}
        report.update(notReached=notReached, incomplete=marker)
        out.write(json.dumps(report, indent=2) + "\n")
        return
    if arguments.quiet:
        return
    for outcome in outcomes:
        if outcome.status != "error":
            describe(outcome)
            if outcome.missing:
                out.write(f"{outcome.shown}: refers to {len(outcome.missing)} file(s) it does not hold: ")
                out.write(", ".join(outcome.missing) + "\n")
    if skipped:
        out.write(f"{len(skipped)} file(s) that are not scene files were skipped\n")


def _singleOutput(source, output):
    """Where one scene is cleaned to, checked before any work: into an existing folder (or one named with a
    trailing separator) under its own name; else a file or folder of the source's kind."""
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        return os.path.join(output, os.path.basename(os.path.normpath(source)))
    sourceKind = os.path.splitext(source)[1].lower() if os.path.isfile(source) else ""
    if os.path.splitext(output)[1].lower() != sourceKind and (sourceKind or output.lower().endswith((".mrb", ".mrml"))):
        wanted = f"a name ending in {sourceKind}" if sourceKind else "a folder name (the source is a bundle folder)"
        raise _UsageError(f"-o must be {wanted}: the output has the source's format")
    return output


def _run(arguments, paths, work, err):
    """(outcomes, skipped, interrupted): every scene's outcome, each error shown on err as it happens. A run over
    several scenes reads the values of all of them first: each scene is searched for them (scan: a scene whose own
    values do not cover them), and every path and place reported is masked with them."""
    if arguments.jobs < 1:
        raise _UsageError("--jobs takes a number of processes, 1 or more")
    scenes, skipped = findScenes(paths)
    if not scenes:
        err.write("no scene file found (.mrml, .mrb, .nrrd, bundle folders): nothing was done\n")
    matcher = None
    if len(scenes) > 1:
        try:
            matcher = _readTheShare(scenes, work, arguments.jobs)
        except Interrupted:
            return [], skipped, len(scenes)
        skipped = [replaceInFileName(matcher, path) for path in skipped]

    def shown(outcome):
        return outcome if matcher is None else maskedForTheShare(outcome, matcher)

    def showError(outcome):
        if outcome.status == "error":
            outcome = shown(outcome)
            err.write(f"error: {outcome.shown}: {outcome.error}\n")
            err.flush()

    progress = None if arguments.quiet else Progress(err, scenes)
    try:
        outcomes = run(scenes, work, arguments.jobs, progress, showError)
    except Interrupted as interruption:
        return [shown(outcome) for outcome in interruption.outcomes], skipped, len(scenes) - len(interruption.outcomes)
    return [shown(outcome) for outcome in outcomes], skipped, 0


def _readTheShare(scenes, work, jobs):
    """The values of every scene given to work (a clean searches every scene for them, a scan the scenes whose own
    values do not cover them); their matcher, to mask what is reported."""
    perScene = run(scenes, ValuesWork(work.policy), jobs)
    values = list(dict.fromkeys(value for sceneValues in perScene for value in sceneValues))
    work.shareValues = values
    if isinstance(work, ScanWork):
        work.sharedScenes = {scene.path for scene, own in zip(scenes, perScene) if holdsOthers(values, own)}
    return PhiTextMatcher(values)


def _summary(arguments, outcomes, skipped, notReached, started, err):
    """One line on stderr at the end of a run over several scenes: what was done, for a person watching (the report
    is on stdout; for one scene it says it all)."""
    counts = {status: sum(outcome.status == status for outcome in outcomes) for status in STATUSES}
    parts = [f"{len(outcomes) + notReached} scene(s)"]
    parts += [f"{count} {label}" for status, label in STATUSES.items() if (count := counts[status])]
    if notReached:
        parts.append(f"{notReached} not reached (interrupted)")
    if missing := sum(bool(outcome.missing) for outcome in outcomes):
        parts.append(f"{missing} missing files they refer to")
    if skipped:
        parts.append(f"{len(skipped)} other file(s) skipped")
    if not arguments.quiet and len(outcomes) + notReached > 1:
        err.write(f"{arguments.command}: {', '.join(parts)} ({time.monotonic() - started:.1f} s)\n")


def _scan(arguments, policy, out, err):
    started = time.monotonic()
    outcomes, skipped, notReached = _run(arguments, arguments.paths, ScanWork(policy), err)

    def describe(outcome):
        path = outcome.shown
        for place, category in outcome.findings:
            out.write(f"{path}: {place} [{profile.CATEGORY_LABELS.get(category, category)}]\n")
        found = len(outcome.findings)
        out.write(f"{path}: {found} PHI value(s) found\n" if found else f"{path}: no PHI found\n")

    _report(arguments, outcomes, skipped, out, describe, notReached)
    _summary(arguments, outcomes, skipped, notReached, started, err)
    if notReached:
        raise _Stopped(f"interrupted: {notReached} scene(s) were not scanned")
    failed = any(outcome.status == "error" for outcome in outcomes)
    found = any(outcome.status == "found" for outcome in outcomes)
    return (FOUND if found else 0) | (ERROR if failed else 0)  # 3: PHI found, and some file could not be read


def _clean(arguments, policy, out, err):
    started = time.monotonic()
    if policy.keyIsEphemeral and not arguments.no_key:
        raise _UsageError(
            f"clean needs a key (--key-file or ${KEY_ENVIRONMENT_VARIABLE}) so that pseudonyms and UIDs match every"
            " other run; give --no-key to clean with random ones"
        )
    sources = arguments.sources
    single = len(sources) == 1 and not (os.path.isdir(sources[0]) and not isBundleFolder(sources[0]))
    mirror = None
    if arguments.in_place:
        work = CleanWork(policy)
    elif single:
        work = CleanWork(policy, outputFile=_singleOutput(sources[0], arguments.output))
    else:
        mirror = arguments.output
        if os.path.lexists(mirror) and (not os.path.isdir(mirror) or os.listdir(mirror)):
            raise _UsageError("the output folder exists and is not empty; choose a new one")
        work = CleanWork(policy, outputFolder=mirror)
    _checkWritable(arguments, sources, mirror)
    outcomes, skipped, notReached = _run(arguments, sources, work, err)

    def describe(outcome):
        out.write(f"{outcome.shown}: cleaned into {outcome.output}\n")
        for category, count in sorted(outcome.counts.items()):
            if count and category != profile.MARKERS:
                out.write(f"  {profile.CATEGORY_LABELS.get(category, category)}: {count}\n")

    failed = sum(outcome.status == "error" for outcome in outcomes)
    marker = markIncomplete(mirror, failed, notReached) if mirror and (failed or notReached) else None
    _report(arguments, outcomes, skipped, out, describe, notReached, marker)
    _audit(arguments, policy, outcomes)
    _summary(arguments, outcomes, skipped, notReached, started, err)
    if marker:
        err.write(f"warning: the output folder is incomplete: see {marker}\n")
    if notReached:
        raise _Stopped(
            f"interrupted: {notReached} scene(s) were not cleaned; every output written is complete"
            " (nothing partial is left under any name)"
        )
    return ERROR if failed else 0


def _checkWritable(arguments, sources, mirror):
    """Before any work: the folders outputs go to can be written (a read-only disk, a folder without permission),
    found by writing there, as the clean will."""
    if mirror:
        folders = [mirror]
    elif arguments.in_place:
        folders = sorted({os.path.dirname(os.path.abspath(scene.path)) for scene in findScenes(sources)[0]})
    else:
        folders = [os.path.dirname(os.path.abspath(_singleOutput(sources[0], arguments.output)))]
    for folder in folders:
        try:
            os.makedirs(folder, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            where = "beside a scene to clean in place" if arguments.in_place else "into the output folder"
            raise _UsageError(f"cannot write {where} ({error.strerror or type(error).__name__})") from None


def _audit(arguments, policy, outcomes):
    """One audit record per cleaned output (time, masked output path, options, key fingerprint, counts; no value),
    appended to --audit-log or $ANONYMIZE_ON_SAVE_AUDIT_LOG when either is given."""
    auditFile = arguments.audit_log or auditLogPath()
    for outcome in outcomes:
        if auditFile and outcome.status == "cleaned":
            appendAuditRecord(outcome.output, policy, Report(dict(outcome.counts)), auditFile=auditFile)


def _pseudonyms(arguments, policy, out, stdin):
    """PatientID,PatientName -> the pseudonyms this key gives: for whoever holds the key and must trace "ANON..."."""
    if policy.keyIsEphemeral:
        raise _UsageError("pseudonyms need the key that made them: give --key-file or set " + KEY_ENVIRONMENT_VARIABLE)
    lines = arguments.patients or [line.strip() for line in stdin if line.strip()]
    writer = csv.writer(out)
    if arguments.uids:  # each UID gets its own keyed UID (there is no per-patient root): list them one by one
        writer.writerow(["UID", "PseudonymUID"])
        for uid in lines:
            writer.writerow([uid, policy.applyRule(profile.RULES["SOPInstanceUID"], uid)])
        return 0
    # UIDRoot: the root every UID of the patient gets (the same for all: each UID is keyed on its own, --uids).
    writer.writerow(["PatientID", "PatientName", "PseudonymID", "PseudonymName", "DateShiftDays", "UIDRoot"])
    uidRoot = "" if profile.UIDS_OPTION in policy.retain else UID_ROOT.rstrip(".")
    for row in csv.reader(io.StringIO("\n".join(lines))):
        patientId, name = row[0].strip(), (row[1].strip() if len(row) > 1 else "")
        pseudonyms = policy.pseudonyms
        pseudonymName = pseudonyms.personName(name or patientId, patientId)
        shift = pseudonyms.dateShiftDays(patientId) if profile.LONGITUDINAL_DATES in policy.retain else 0
        writer.writerow([patientId, name, pseudonyms.identifier(patientId), pseudonymName, shift, uidRoot])
    return 0


def main(argv=None, out=None, err=None, stdin=None):
    out, err, stdin = out or sys.stdout, err or sys.stderr, stdin or sys.stdin
    try:
        arguments = _parser().parse_args(argv)
        policy = arguments.policy = _policy(arguments)
        _warnAboutTheKey(arguments, policy, err)
        if arguments.command == "scan":
            return _scan(arguments, policy, out, err)
        if arguments.command == "clean":
            return _clean(arguments, policy, out, err)
        if arguments.command == "dicom":
            from .dicomCommand import dicomCommand  # pydicom is needed here only

            return dicomCommand(arguments, policy, out, err)
        return _pseudonyms(arguments, policy, out, stdin)
    except _Stopped as stopped:
        err.write(f"error: {stopped}\n")
        return INTERRUPTED
    except KeyboardInterrupt:
        err.write(
            "error: interrupted; every output written before this is complete, the one in progress was not written"
            " (nothing partial is left under its name)\n"
        )
        return INTERRUPTED
    except BrokenPipeError:  # the reader went away (scan ... | head): stop quietly
        _silenceStdout(out)
        return ERROR
    except _UsageError as error:
        err.write(f"{error.usage}error: {error}\n")  # as argparse does: the usage line, then the error
    except PolicyError as error:
        err.write(f"error: {error}\n")
    except Exception as error:  # a bug must still end in one line, never a traceback with values in it
        err.write(f"error: internal error ({type(error).__name__})\n")
    return ERROR


def _warnAboutTheKey(arguments, policy, err):
    """Pseudonyms and UIDs are the same everywhere only under one key: say so when there is none (a key shorter
    than MIN_KEY_BYTES is refused by _policy)."""
    if arguments.command not in ("scan", "clean", "dicom") or not policy.keyIsEphemeral:
        return
    if arguments.command in ("clean", "dicom") and not arguments.no_key:
        return  # refused by _clean and dicomCommand
    if arguments.command in ("clean", "dicom") or not arguments.no_key:
        err.write(
            f"warning: no key (--key-file or ${KEY_ENVIRONMENT_VARIABLE}): pseudonyms and UIDs are random for this run"
            " and will differ from any other run\n"
        )


def _silenceStdout(out):
    """Python would report the closed pipe again when it flushes stdout at exit."""
    if out is sys.stdout:
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
