"""A session strips every PHI value from a live scene and puts each one back afterwards.

Fail closed: if anything goes wrong while stripping, whatever was changed is put back and AnonymizationError is
raised, so the caller writes nothing. Restoring puts back every value, and checks it; the one exception is a
storage file name the save itself changed (the Save dialog names the files it writes), which keeps the save's
value, exactly as after a plain save.

Stripping and restoring hold the modified events of every node they change (vtkMRMLNode's DisableModifiedEvent):
no observer sees a value that is put back a moment later (the subject hierarchy plugins, the tree view, and the
segmentations logic, which would give a segmentation a lasting reference geometry when a UID is set again), and
no node's modification time moves, so the scene's modified-since-read state is what a plain save leaves. The
held events stay pending on those nodes, as VTK keeps them, until their next EndModify.
"""

import contextlib
import logging
import os

from . import profile
from .gcPause import cycleCollectionPaused
from .planner import Change, PlannedChanges, planChanges, textMatcherFor
from .policy import defaultPolicy
from .report import Report
from .verify import companionPaths, verifyOutput

MRML, MRB, DIRECTORY = "mrml", "mrb", "directory"

_activeSessions = {}  # scene pointer -> the session that has it stripped
_savesWithoutStrip = set()  # scene pointers being saved anonymized without a strip (mrmlString.py)
_lastReports = {}  # scene pointer -> the Report of the scene's last strip


class AnonymizationError(RuntimeError):
    """Stripping failed; the scene is as it was and nothing may be written."""


class RestoreError(RuntimeError):
    """Some values could not be put back; the message names their places, never their values."""


def sceneFileKind(fileName):
    """mrml, mrb or directory, chosen by the file name as qSlicerSceneWriter does."""
    suffix = os.path.splitext(fileName)[1].lower()
    return {".mrml": MRML, ".mrb": MRB}.get(suffix, DIRECTORY)


def renamesRefused(places):
    """Why a .mrml save refuses data file names holding PHI (places: where, masked)."""
    return (
        f"{len(places)} data file name(s) the scene refers to hold PHI (first: {places[0]}); "
        "a .mrml save cannot rename data files: save as .mrb or a directory bundle, or rename the files"
    )


def _sceneKey(scene):
    return scene.__this__


def activeSession(scene):
    """The session that currently has this scene stripped, or None."""
    return _activeSessions.get(_sceneKey(scene))


@contextlib.contextmanager
def savedWithoutStrip(scene):
    """Within the block the scene is being saved anonymized without being stripped (a .mrml written by string):
    save hooks leave it as it is."""
    key = _sceneKey(scene)
    _savesWithoutStrip.add(key)
    try:
        yield
    finally:
        _savesWithoutStrip.discard(key)


def isSavedWithoutStrip(scene):
    return _sceneKey(scene) in _savesWithoutStrip


def rememberReport(scene, report):
    """Make report the scene's lastReport (a save that did not strip the live scene)."""
    _lastReports[_sceneKey(scene)] = report


def lastReport(scene):
    """What the last anonymization of this scene replaced (a Report), or None."""
    return _lastReports.get(_sceneKey(scene))


def _sites(scene):
    from .sceneSites import collectSites  # imports slicer and vtk

    return collectSites(scene)


def _plannedSites(scene, policy):
    from .sceneItemPlans import collectPlannedSites  # imports slicer and vtk

    return collectPlannedSites(scene, policy)


def _describe(error):
    """The kind of an unexpected error, without its text (which could quote a value)."""
    return type(error).__name__


class AnonymizationSession:
    """Snapshot, strip and restore the PHI of one scene."""

    def __init__(self, scene, policy=None, refuseFileRenames=False, writtenStorageNodeIDs=frozenset()):
        """refuseFileRenames: fail instead of renaming data files (a .mrml save cannot rename the files it
        references), except those of writtenStorageNodeIDs, whose data the save itself writes under the new names
        (the Save dialog's data rows)."""
        self.scene = scene
        self.policy = policy or defaultPolicy()
        self.refuseFileRenames = refuseFileRenames
        self.writtenStorageNodeIDs = frozenset(writtenStorageNodeIDs)
        self.report = None
        self.verified = set()  # paths already searched for this session's values
        self._applied = []
        self._nodes = []  # the nodes the changes write to
        self._changes = PlannedChanges()

    @cycleCollectionPaused
    def strip(self):
        """Replace every PHI value; returns the Report. Raises AnonymizationError with the scene unchanged."""
        if activeSession(self.scene) is not None:
            raise AnonymizationError("the scene is already being anonymized")
        try:
            sites, itemWrites = _plannedSites(self.scene, self.policy)
            changes = planChanges(sites, self.policy)
        except Exception as error:
            raise AnonymizationError(f"could not read the scene's values ({_describe(error)})") from error
        if self.refuseFileRenames:
            renamed = [
                change.site.place
                for change in changes
                if change.category == profile.FILE_NAMES
                and change.site.handle.node.GetID() not in self.writtenStorageNodeIDs
            ]
            if renamed:
                raise AnonymizationError(renamesRefused(renamed))
        applied, self._nodes = [], _nodesOf(changes, itemWrites)
        try:
            with eventsHeld(self._nodes):
                for change in changes:
                    applied.append(change)  # first: an interrupt may land just after the write
                    change.site.handle.write(change.value)
                for writes in itemWrites:  # the changes of each subject hierarchy item, written by its plan
                    applied.append(writes)
                    writes.apply()
        except BaseException as error:  # Ctrl-C too: nothing stays stripped
            message = f"could not replace the value at {_placeOf(applied[-1])} ({_describe(error)})"
            self._applied = applied
            try:
                self._restoreApplied()
            except RestoreError as restoreError:
                message += f"; then {restoreError}"
            if not isinstance(error, Exception):
                logging.error("Anonymization interrupted: %s", message)
                raise
            raise AnonymizationError(message) from error
        self._applied = applied
        self._changes = changes
        _activeSessions[_sceneKey(self.scene)] = self
        self.report = Report.fromChanges(changes)
        _lastReports[_sceneKey(self.scene)] = self.report
        return self.report

    def matcher(self):
        """The PhiTextMatcher for the values this session replaced (the planner's)."""
        return self._changes.matcher

    def knownValues(self):
        """(original, replacement, category) of the values this session replaced, to search written files for."""
        return self._changes.values

    @cycleCollectionPaused
    def verify(self, path):
        """Search what a save wrote at path for this session's values and clean it (verify.verifyOutput), once per
        path. Returns the places where a value the strip should have replaced was found before cleaning (values
        typed into data are expected there and only logged; both are kept in report.verifications); raises
        VerificationError with the output removed."""
        path = os.path.abspath(path)
        if path in self.verified or not os.path.lexists(path):
            return []
        self.verified.add(path)
        found = []
        for companion in companionPaths(path):  # written with it, reported as one file: a .seg.vtm's folder
            found += self.verify(companion)
        scanWhole = bool(self.scene.GetNodesByClass("vtkMRMLSceneViewNode").GetNumberOfItems())  # copies unstripped
        result = verifyOutput(path, self.knownValues(), self.policy, self.matcher(), scanWhole)
        self.report.verifications.append(result)
        if result.data:
            logging.info(
                "Values typed into data were replaced in %d place(s), first: %s", len(result.data), result.data[0]
            )
        return found + result.found

    @cycleCollectionPaused
    def restore(self):
        """Put back every value we replaced. Raises RestoreError naming the places that failed."""
        _activeSessions.pop(_sceneKey(self.scene), None)
        self._restoreApplied()

    def _restoreApplied(self):
        applied, self._applied = self._applied, []
        failed = []
        with eventsHeld(self._nodes):  # (those of every change: the applied ones are among them)
            self._restoreEach(applied, failed)
        if failed:
            raise RestoreError(f"{len(failed)} value(s) could not be restored, first at {failed[-1]}")

    @classmethod
    def _restoreEach(cls, applied, failed):
        """Put back each value, the last applied first; an interrupt (Ctrl-C) is raised only once every value is
        back."""
        interrupt = None
        for change in reversed(applied):
            for _ in range(2):  # an interrupt during one value: try that value once more
                try:
                    cls._restoreOne(change, failed)
                    break
                except BaseException as error:
                    interrupt = interrupt or error
            else:
                failed.append(_placeOf(change))
        if interrupt is not None:
            if failed:
                logging.error("%d value(s) could not be restored, first at %s", len(failed), failed[-1])
            raise interrupt

    @staticmethod
    def _restoreOne(change, failed):
        if change.__class__ is not Change:  # an item's ItemWrites
            change.restore(failed)
            return
        handle, original = change.site.handle, change.site.value
        try:
            if change.category == profile.FILE_NAMES and handle.read() != change.value:
                return  # the save gave the data a new file name, as a plain save would have
            handle.write(original)
            if getattr(handle, "readBack", True) and handle.read() != original:
                failed.append(change.site.place)
        except Exception:
            failed.append(change.site.place)


def _nodesOf(changes, itemWrites=()):
    """The distinct MRML nodes the changes and item writes write to."""
    nodes = {getattr(change.site.handle, "node", None) for change in changes}  # one VTK wrapper per object
    nodes.update(writes.node for writes in itemWrites)
    nodes.discard(None)
    return list(nodes)


def _placeOf(change):
    """Where a Change, or an item's ItemWrites, writes."""
    return change.site.place if change.__class__ is Change else change.place


@contextlib.contextmanager
def eventsHeld(nodes):
    """Hold the modified events (and so the modification times) of nodes while the block changes them."""
    held = [(node, node.GetDisableModifiedEvent()) for node in nodes]
    for node, _ in held:
        node.SetDisableModifiedEvent(1)
    try:
        yield
    finally:
        for node, previous in held:
            node.SetDisableModifiedEvent(previous)


@contextlib.contextmanager
def anonymizedScene(scene, policy=None):
    """Within the block the scene holds no PHI; on exit everything is put back, also when the block raises.

    Nested use on the same scene reuses the outer session. Yields the Report of what was replaced.
    """
    outer = activeSession(scene)
    if outer is not None:
        yield outer.report
        return
    session = AnonymizationSession(scene, policy)
    report = session.strip()
    try:
        yield report
    finally:
        session.restore()


@cycleCollectionPaused
def scenePhiMatcher(scene, policy=None):
    """A PhiTextMatcher for the PHI values the live scene holds (to search file names and written files)."""
    return textMatcherFor(_sites(scene), policy or defaultPolicy())
