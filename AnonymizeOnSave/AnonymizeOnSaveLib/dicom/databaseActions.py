"""DICOM in and out of Slicer's DICOM database, de-identified with the key scenes are saved with (no Qt here).

importAnonymized: files are de-identified into a staging folder and imported into the database from there by copy
(DICOMUtils.importDicom(folder, database, copyFiles=True)), so the database, and every scene loaded from it, holds
only pseudonyms; the staging folder is removed after. exportAnonymized: the original files of the series of the
series chosen (their files as ctkDICOMDatabase.filesForSeries gives them),
de-identified into a folder: a recipient of that folder and of a shared copy of the scene gets matching UIDs.
"""

import os
import shutil
import tempfile
from collections import namedtuple

from ..shares import Interrupted, run
from .dicomBatch import DicomWork, Source, deidentifyFolders, shownPaths


class DicomImportError(OSError):
    """The database refused the de-identified files (DICOMUtils.importDicom answered False)."""


Summary = namedtuple("Summary", "cleaned skipped errors pixelsNotChecked messages")
"""Counts, and one line per file that was not de-identified (masked path and reason; never a value)."""


def _summary(outcomes):
    messages = [
        f"{shown}: {outcome.error}"
        for shown, outcome in zip(shownPaths(outcomes), outcomes)
        if outcome.status == "error"
    ]
    return Summary(
        sum(outcome.status == "cleaned" for outcome in outcomes),
        sum(outcome.status == "skipped" for outcome in outcomes),
        sum(outcome.status == "error" for outcome in outcomes),
        sum(outcome.status == "cleaned" and not outcome.pixelsChecked for outcome in outcomes),
        messages,
    )


def importAnonymized(folders, database, policy, importDicom, progress=None):
    """De-identify every DICOM file under folders and import the results into database with importDicom (Slicer's
    DICOMUtils.importDicom). progress.done(file) is called after each file and may raise KeyboardInterrupt to
    cancel: then nothing is imported. Returns a Summary (canceled: a message says so)."""
    staging = tempfile.mkdtemp(prefix="anonymizeonsave-import-")
    try:
        outcomes, notReached = deidentifyFolders(folders, DicomWork(policy, staging), progress=progress)
        if notReached:  # what was de-identified is dropped with the staging folder
            summary = _summary(outcomes)._replace(cleaned=0, pixelsNotChecked=0)
            summary.messages.insert(0, "canceled: nothing was imported")
            return summary
        if any(outcome.status == "cleaned" for outcome in outcomes) and not importDicom(staging, database, True):
            raise DicomImportError("the DICOM database did not take the de-identified files (see the log)")
        return _summary(outcomes)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def seriesFiles(seriesUids, database):
    """The files the database holds for these series."""
    return [path for uid in seriesUids for path in database.filesForSeries(uid)]


def exportAnonymized(seriesUids, database, folder, policy, progress=None):
    """De-identify the original files of these series (database.filesForSeries) into folder (patient layout).
    progress as for importAnonymized. Returns a Summary."""
    files = seriesFiles(seriesUids, database)
    sources = [Source(path, os.path.basename(path), os.path.getsize(path)) for path in files if os.path.isfile(path)]
    work = DicomWork(policy, folder)
    try:
        outcomes = run(sources, work, 1, progress)
    except Interrupted as interruption:  # canceled: what was written is whole; the rest is not there
        summary = _summary(interruption.outcomes)
        summary.messages.insert(0, f"canceled: {len(sources) - len(interruption.outcomes)} file(s) not exported")
        return summary
    missing = len(files) - len(sources)
    summary = _summary(outcomes)
    if missing:
        summary.messages.append(f"{missing} file(s) the database lists are not on disk")
    return summary._replace(errors=summary.errors + missing)
