"""The audit trail: one JSON line per anonymized save, kept locally, never inside a shared file.

A record holds the time, the output path (with any PHI value in it masked), the policy (its options and key
fingerprint, never the key) and the counts per category. It never holds a PHI value.
"""

import datetime
import json
import os

from .fileNames import replaceInFileName

AUDIT_LOG_ENVIRONMENT_VARIABLE = "ANONYMIZE_ON_SAVE_AUDIT_LOG"
_auditLogPath = None


def setAuditLog(path):
    """Append a record for every anonymized save to path (None: only the environment variable decides)."""
    global _auditLogPath
    _auditLogPath = os.fspath(path) if path is not None else None


def auditLogPath():
    return _auditLogPath or os.environ.get(AUDIT_LOG_ENVIRONMENT_VARIABLE) or None


def auditRecord(outputPath, policy, report, matcher=None, when=None):
    when = when or datetime.datetime.now(datetime.timezone.utc)
    path = os.fspath(outputPath)
    return {
        "time": when.isoformat(timespec="seconds"),
        "output": replaceInFileName(matcher, path) if matcher is not None else path,
        "policy": json.loads(policy.toJSON()),
        "counts": dict(sorted(report.counts.items())),
    }


def appendAuditRecord(outputPath, policy, report, matcher=None, auditFile=None):
    """Append one record to auditFile (default: the configured audit log); does nothing when none is set."""
    auditFile = auditFile or auditLogPath()
    if not auditFile:
        return None
    record = auditRecord(outputPath, policy, report, matcher)
    folder = os.path.dirname(os.path.abspath(auditFile))
    os.makedirs(folder, exist_ok=True)
    with open(auditFile, "a", encoding="utf-8") as stream:
        stream.write(json.dumps(record, sort_keys=True) + "\n")
    return record
