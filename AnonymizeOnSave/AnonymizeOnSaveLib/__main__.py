"""slicer-scene-anonymizer (or python -m AnonymizeOnSaveLib) scan PATH... | clean SRC (-o DST | --in-place)

Exit codes: 0 nothing found / cleaned, 1 PHI found (scan), 2 error (one line on stderr per file that could not be
read, never a traceback; a scan goes on past such a file).
Values are never printed: findings name the file, the place and the category.
"""

import argparse
import json
import os
import sys

from . import __version__, profile
from .policy import KEY_ENVIRONMENT_VARIABLE, Policy, PolicyError
from .sceneFiles import SceneFileError, cleanPath, scanPath

FOUND, ERROR = 1, 2


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(message)


def _parser():
    parser = _Parser(prog=_programName(), description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    scan = commands.add_parser("scan", help="report the PHI in scene files (.mrml, .mrb, bundle folders, .nrrd)")
    scan.add_argument("paths", nargs="+", metavar="PATH")
    scan.add_argument("--json", action="store_true", help="machine-readable output")
    clean = commands.add_parser("clean", help="write a copy without PHI; every entry without PHI is kept as is")
    clean.add_argument("source", metavar="SRC")
    target = clean.add_mutually_exclusive_group(required=True)
    target.add_argument("-o", "--output", metavar="DST")
    target.add_argument("--in-place", action="store_true", help="replace SRC atomically")
    for command in (scan, clean):
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
    return Policy(key=key, retain=arguments.retain)


class _FileError(Exception):
    """An error about one file: the message names it."""


def _onFile(path, action):
    try:
        return action()
    except SceneFileError as error:
        raise _FileError(f"{path}: {error}") from None


def _scan(arguments, policy, out, err):
    """Every path is scanned; one that cannot be read is reported (one line on err) and the scan goes on."""
    results, errors = [], 0
    for path in arguments.paths:
        try:
            results.append((path, _onFile(path, lambda path=path: scanPath(path, policy))))
        except _FileError as error:
            err.write(f"error: {error}\n")
            errors += 1
    found = any(result for _, result in results)
    if arguments.json:
        files = [
            {
                "path": path,
                "findings": [{"place": f.place, "category": f.category} for f in result.findings],
                "counts": dict(sorted(result.report.counts.items())),
            }
            for path, result in results
        ]
        out.write(json.dumps({"found": found, "errors": errors, "files": files}, indent=2) + "\n")
    else:
        for path, result in results:
            for finding in result.findings:
                label = profile.CATEGORY_LABELS.get(finding.category, finding.category)
                out.write(f"{path}: {finding.place} [{label}]\n")
            out.write(f"{path}: {len(result.findings)} PHI value(s) found\n" if result else f"{path}: no PHI found\n")
    return ERROR if errors else FOUND if found else 0


def _clean(arguments, policy, out):
    result = _onFile(
        arguments.source,
        lambda: cleanPath(arguments.source, arguments.output, inPlace=arguments.in_place, policy=policy),
    )
    out.write(f"{arguments.source}: cleaned into {result.output}\n")
    for line in result.report.summaryLines():
        out.write(f"  {line}\n")
    return 0


def main(argv=None, out=sys.stdout, err=sys.stderr):
    try:
        arguments = _parser().parse_args(argv)
        policy = _policy(arguments)
        if arguments.command == "scan":
            return _scan(arguments, policy, out, err)
        return _clean(arguments, policy, out)
    except BrokenPipeError:  # the reader went away (scan ... | head): stop quietly
        _silenceStdout(out)
        return ERROR
    except (_UsageError, PolicyError, _FileError) as error:
        err.write(f"error: {error}\n")
    except Exception as error:  # a bug must still end in one line, never a traceback with values in it
        err.write(f"error: internal error ({type(error).__name__})\n")
    return ERROR


def _silenceStdout(out):
    """Python would report the closed pipe again when it flushes stdout at exit."""
    if out is sys.stdout:
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
