"""The check after every anonymized write: what a save produced searched for the session's values in every byte
(outputSearch.py), and, with the recognisers on, scanned for any date, UID, e-mail address or phone number typed
into data; cleaned in place with the file tool when one is found and searched again; if it still holds one, the
output is removed."""

import os

from . import profile
from .outputSearch import Verification, companionPaths, findValues, search
from .sceneFiles import SceneFileError, cleanPath, removePath, scanPath

__all__ = ["Verification", "VerificationError", "companionPaths", "findValues", "search", "verifyOutput"]


class VerificationError(RuntimeError):
    """The output still held patient data after cleaning and was removed; the message names places, not values."""


def verifyOutput(path, knownValues, policy, matcher=None, scanWhole=False):
    """Check what a save wrote for the session's values; clean it in place when any is found and check again.
    scanWhole: the output is also scanned as the file tool scans a share (values the live scene does not hold: the
    copies scene views keep), as it is with the recognisers on.

    Returns the Verification of the output as written (found and data empty when it was clean). Raises
    VerificationError, with the output removed, when it cannot be made clean.
    """
    result = search(path, knownValues, matcher)
    recognised = _recognised(path, policy, scanWhole)
    if not result.found and not result.data and not recognised:
        return result
    try:
        cleanPath(path, inPlace=True, policy=policy, knownValues=knownValues)
    except SceneFileError as error:
        removePath(path)
        place = (result.found + result.data + recognised)[0]
        raise VerificationError(f"patient data was written at {place} and cleaning failed ({error})") from None
    remaining = findValues(path, knownValues, matcher)
    if remaining:
        removePath(path)
        raise VerificationError(f"patient data remained after cleaning at {remaining[0]}")
    return result


def _recognised(path, policy, scanWhole=False):
    """With the recognisers on (or scanWhole), the places in a written scene where a scan finds what no value of the
    live scene held: a date, UID, e-mail address or phone number typed into data, which the live scene never
    changes; the values of a scene view's copy."""
    if not (policy.recognisers or scanWhole) or not (os.path.isdir(path) or path.lower().endswith((".mrml", ".mrb"))):
        return []
    try:
        return [finding.place for finding in scanPath(path, policy).findings if finding.category != profile.MARKERS]
    except SceneFileError as error:  # not read is not clean: the cleaning this leads to fails, the output goes
        return [f"{os.path.basename(path)} (unreadable: {error})"]
