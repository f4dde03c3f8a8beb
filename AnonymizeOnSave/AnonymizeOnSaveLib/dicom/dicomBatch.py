"""Whole folders of DICOM files de-identified in one run, in several processes if asked, with the crosswalk.

Every file under the inputs is tried (DICOM files often have no extension); other files and DICOMDIRs are listed
as skipped and never copied. Each output is a pure function of its input file and the key: its name and folders
come from its new UIDs ("patient" layout: <pseudonym ID>/<study UID>/<series UID>/<instance UID>.dcm) or from keyed
codes of its input folders ("mirror" layout), so halves of an archive de-identified on two machines give exactly
the files one run gives. The crosswalk (original -> new UID and patient ID) is written only where asked, never
into the output.
"""

import csv
import os
from collections import namedtuple

from .. import profile
from ..fileNames import replaceInFileName
from ..phiText import PhiTextMatcher
from ..planner import valuePairs
from ..shares import Interrupted, run
from .dicomFiles import DicomFileError, NotDicom, deidentifyFile, quietPydicom, readDicom

LAYOUTS = ("patient", "mirror")
Source = namedtuple("Source", "path relative size")
Outcome = namedtuple("Outcome", "scene status output error pixelsChecked uids patient values")
"""scene: the Source (named so for the shared progress and runner); status: "cleaned", "skipped" or "error";
uids: {original: new}; patient: (original ID, new ID) or None; values: (original, replacement, category) of the
patient's names, IDs and dates, to mask every path a report shows (patient-named folders are common)."""
_MASKED = frozenset((profile.NAMES, profile.IDENTIFIERS, profile.DATES))


def findFiles(paths):
    """Every file under the given files and folders, as Sources, in a stable order (what is not a regular file, a
    link to nothing or to a folder, a pipe, has size 0: it is skipped when its turn comes, never opened)."""
    found = []
    for given in paths:
        if not os.path.isdir(given):
            found.append(Source(given, os.path.basename(given), _size(given)))
            continue
        for folder, folders, files in os.walk(given):
            folders.sort()
            linked = [name for name in folders if os.path.islink(os.path.join(folder, name))]  # not walked: listed
            for name in sorted(files + linked):
                path = os.path.join(folder, name)
                found.append(Source(path, os.path.relpath(path, given), _size(path)))
    return found


def _size(path):
    try:
        return os.path.getsize(path) if os.path.isfile(path) else 0
    except OSError:  # gone since it was listed
        return 0


def _maskingValues(dataset):
    """(original, "", category) of the patient's names, IDs and dates a dataset holds: to mask its path in a
    message about it, whether or not it was de-identified."""
    values = []
    for keyword, rule in profile.RULES.items():
        if rule.category in _MASKED and keyword in dataset:
            for value in str(dataset.get(keyword) or "").split("\\"):
                if value:
                    values += valuePairs(value, "", rule.category)
    return tuple(values)


class DicomWork:
    """A picklable de-identification of one file into output (for the process pool)."""

    def __init__(self, policy, output, layout="patient", safePrivate=False):
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}")
        self.policy, self.output, self.layout, self.safePrivate = policy, output, layout, safePrivate

    def __call__(self, source):
        with quietPydicom():
            return self._deidentify(source)

    def _deidentify(self, source):
        masking = ()  # the values to mask this file's path with, read before de-identifying changes them
        if not os.path.isfile(source.path):
            return Outcome(source, "skipped", None, "not a regular file", True, {}, None, ())
        try:
            dataset = readDicom(source.path)
            masking = _maskingValues(dataset)
            destination = os.path.join(self.output, self._relative(source, dataset))
            if os.path.lexists(destination):
                raise DicomFileError("two input files have the same SOP Instance UID (or the output is not new)")
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            written = deidentifyFile(source.path, destination, self.policy, self.safePrivate, dataset)
        except NotDicom as reason:
            return Outcome(source, "skipped", None, str(reason), True, {}, None, ())
        except (DicomFileError, OSError) as error:
            message = str(error) if isinstance(error, DicomFileError) else (error.strerror or type(error).__name__)
            return Outcome(source, "error", None, message, True, {}, None, masking)
        result = written.result
        patient = (result.patientId, result.newPatientId) if result.patientId else None
        values = tuple(pair for pair in result.pairs if pair[2] in _MASKED)
        return Outcome(source, "cleaned", destination, None, written.pixelsChecked, result.uids, patient, values)

    def _relative(self, source, dataset):
        """Where a de-identified file goes, from its new values or keyed codes only (no input name is kept)."""
        instance = self._newUid(dataset, "SOPInstanceUID") or self.policy.pseudonyms.identifier(source.relative)
        if self.layout == "mirror":
            folders = os.path.dirname(source.relative).split(os.sep) if os.path.dirname(source.relative) else []
            coded = [
                self.policy.pseudonyms.identifier("folder\0" + os.sep.join(folders[: i + 1]))
                for i in range(len(folders))
            ]
            return os.path.join(*coded, f"{instance}.dcm")
        patient = (
            self.policy.pseudonyms.identifier(str(dataset.get("PatientID", "") or ""))
            if dataset.get("PatientID")
            else "NOID"
        )
        return os.path.join(
            patient,
            self._newUid(dataset, "StudyInstanceUID") or "NOSTUDY",
            self._newUid(dataset, "SeriesInstanceUID") or "NOSERIES",
            f"{instance}.dcm",
        )

    def _newUid(self, dataset, keyword):
        uid = str(dataset.get(keyword, "") or "")
        return self.policy.pseudonyms.uid(uid) if uid else ""


def deidentifyFolders(paths, work, jobs=1, progress=None, onOutcome=None):
    """(outcomes, notReached): every file's Outcome, in order; notReached counts the files an interrupt left."""
    sources = findFiles(paths)
    try:
        return run(sources, work, jobs, progress, onOutcome), 0
    except Interrupted as interruption:
        return interruption.outcomes, len(sources) - len(interruption.outcomes)


def writeCrosswalk(outcomes, folder):
    """uid_mapping.csv and patid_mapping.csv (id_old,id_new), sorted and without repeats: for whoever holds the key
    and must map results back. They hold the original identifiers: never put them into a share."""
    os.makedirs(folder, exist_ok=True)
    uids = sorted({pair for outcome in outcomes for pair in outcome.uids.items()})
    patients = sorted({outcome.patient for outcome in outcomes if outcome.patient})
    for name, rows in (("uid_mapping.csv", uids), ("patid_mapping.csv", patients)):
        with open(os.path.join(folder, name), "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["id_old", "id_new"])
            writer.writerows(rows)


def shownPaths(outcomes):
    """Each input's path as reports show it: relative to its input folder, every name, ID and date of any patient
    the run read masked."""
    matcher = PhiTextMatcher([pair for outcome in outcomes for pair in outcome.values])
    return [replaceInFileName(matcher, outcome.scene.relative) for outcome in outcomes]


def asJson(outcomes, notReached):
    return {
        "cleaned": sum(outcome.status == "cleaned" for outcome in outcomes),
        "errors": sum(outcome.status == "error" for outcome in outcomes),
        "skipped": sum(outcome.status == "skipped" for outcome in outcomes),
        "pixelsNotChecked": sum(outcome.status == "cleaned" and not outcome.pixelsChecked for outcome in outcomes),
        "notReached": notReached,
        "files": [
            {
                "input": shown,
                "status": outcome.status,
                **({"output": outcome.output} if outcome.output else {}),
                **({"error": outcome.error} if outcome.error else {}),
                **({"pixels": "not checked"} if outcome.status == "cleaned" and not outcome.pixelsChecked else {}),
            }
            for shown, outcome in zip(shownPaths(outcomes), outcomes)
        ],
    }
