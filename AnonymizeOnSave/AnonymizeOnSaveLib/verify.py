"""The check after every anonymized write: what a save produced searched for the session's values in every byte
(outputSearch.py), cleaned in place with the file tool when one is found and searched again; if it still holds one,
the output is removed."""

from .outputSearch import Verification, companionPaths, findValues, search
from .sceneFiles import SceneFileError, cleanPath, removePath

__all__ = ["Verification", "VerificationError", "companionPaths", "findValues", "search", "verifyOutput"]


class VerificationError(RuntimeError):
    """The output still held patient data after cleaning and was removed; the message names places, not values."""


def verifyOutput(path, knownValues, policy, matcher=None):
    """Check what a save wrote for the session's values; clean it in place when any is found and check again.

    Returns the Verification of the output as written (found and data empty when it was clean). Raises
    VerificationError, with the output removed, when it cannot be made clean.
    """
    result = search(path, knownValues, matcher)
    if not result.found and not result.data:
        return result
    try:
        cleanPath(path, inPlace=True, policy=policy, knownValues=knownValues)
    except SceneFileError as error:
        removePath(path)
        raise VerificationError(
            f"patient data was written at {(result.found + result.data)[0]} and cleaning failed ({error})"
        ) from None
    remaining = findValues(path, knownValues, matcher)
    if remaining:
        removePath(path)
        raise VerificationError(f"patient data remained after cleaning at {remaining[0]}")
    return result
