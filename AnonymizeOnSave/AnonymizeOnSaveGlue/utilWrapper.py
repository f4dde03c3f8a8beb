"""slicer.util.saveScene, wrapped so that the policy applies and a caller can ask with properties["anonymize"]."""

import functools
import logging

from AnonymizeOnSaveLib import AnonymizationError, PolicyError

from .saveBracket import SaveBracket


def wrapSaveScene(util, scene, hook, settings, postSaveCheck=None):
    """Replace util.saveScene; returns the function that puts the original back.

    properties["anonymize"]: True or False; absent, the policy decides (anonymized only under Every save). False is
    refused (False returned, reason logged) while the policy is locked. A policy that cannot be read refuses every
    save it should anonymize.
    """
    original = util.saveScene

    @functools.wraps(original)
    def saveScene(filename, properties=None):
        properties = dict(properties or {})
        requested = properties.pop("anonymize", None)
        if requested is not None and not requested and settings.isLocked():
            logging.error(
                "Scene not saved: anonymize=False is refused, the policy is locked (%s)", settings.lockReason()
            )
            return False
        if not (settings.anonymizeByDefault() if requested is None else requested):
            return original(filename, properties)
        try:
            bracket = SaveBracket(scene, hook, settings.policy(), postSaveCheck, target=str(filename))
            bracket.begin()
        except (AnonymizationError, PolicyError) as error:
            logging.error("Scene not saved: it could not be anonymized: %s", error)
            return False
        try:
            return original(filename, properties)
        finally:
            bracket.end()

    util.saveScene = saveScene

    def unwrap():
        if util.saveScene is saveScene:
            util.saveScene = original

    return unwrap
