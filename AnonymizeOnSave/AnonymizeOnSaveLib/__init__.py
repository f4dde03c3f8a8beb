"""AnonymizeOnSave: strip PHI from a Slicer scene while it is saved, and put it back right after.

Importing this package needs only the standard library; the scene API imports slicer and vtk on first use, so
the file tools run on plain Python.
"""

import importlib

__version__ = "0.2.0"

from .audit import AUDIT_LOG_ENVIRONMENT_VARIABLE, appendAuditRecord, setAuditLog
from .policy import KEY_ENVIRONMENT_VARIABLE, PatientContext, Policy, PolicyError
from .report import Report

_LAZY = {
    "AnonymizationError": "session",
    "AnonymizationSession": "session",
    "RestoreError": "session",
    "anonymizedScene": "session",
    "lastReport": "session",
    "scenePhiMatcher": "session",
    "installSaveHook": "saveHook",
    "SaveHook": "saveHook",
    "saveScene": "sceneWriter",
    "saveSharedCopy": "sharedCopy",
}

__all__ = [
    "AUDIT_LOG_ENVIRONMENT_VARIABLE",
    "KEY_ENVIRONMENT_VARIABLE",
    "appendAuditRecord",
    "setAuditLog",
    "PatientContext",
    "Policy",
    "PolicyError",
    "Report",
    *sorted(_LAZY),
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module("." + _LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
