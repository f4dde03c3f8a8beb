"""The de-identification profile: what happens to each DICOM-derived value Slicer keeps in a scene.

One row per attribute Slicer's DICOM plugins write (``DICOM.<keyword>``). Actions follow DICOM PS3.15
Table E.1-1 (Basic Application Level Confidentiality Profile); ``retained`` lists the options that change the
action. Any other ``DICOM.*`` attribute is removed: an attribute we do not know is treated as PHI.
"""

import functools
import re
from collections import namedtuple

# Actions
REMOVE = "remove"  # PS3.15 "X": the attribute is deleted
EMPTY = "empty"  # "Z": kept, with an empty value
PSEUDONYM_NAME = "pseudonymName"  # "Z"/"D": a keyed dummy person name, ANON^<code>
PSEUDONYM_ID = "pseudonymId"  # "Z"/"D": a keyed dummy identifier, ANON<code>
UID = "uid"  # "U": a keyed 2.25.<integer> UID
UID_LIST = "uidList"  # "U", for space-separated lists of UIDs
SHIFT_DATE = "shiftDate"  # "Retain Longitudinal Temporal Information with Modified Dates"
KEEP = "keep"

# Categories, the unit of every report (no report ever names a value)
NAMES = "names"
OTHER_NAMES = "otherNames"
IDENTIFIERS = "identifiers"
DATES = "dates"
TIMES = "times"
UIDS = "uids"
DESCRIPTIONS = "descriptions"
DEVICE = "device"
CHARACTERISTICS = "characteristics"
COMMENTS = "comments"
INSTITUTION = "institution"
CONTACT = "contact"
OTHER_DICOM = "otherDicom"
ITEM_NAMES = "itemNames"
FREE_TEXT = "freeText"
FILE_NAMES = "fileNames"
DATA_TEXT = "dataText"
MARKERS = "markers"
TECHNICAL = "technical"

CATEGORY_LABELS = {
    NAMES: "patient names",
    OTHER_NAMES: "other person names (physicians, operators)",
    IDENTIFIERS: "patient and study IDs",
    DATES: "dates",
    TIMES: "times",
    UIDS: "UIDs",
    DESCRIPTIONS: "study and series descriptions",
    DEVICE: "device identity",
    CHARACTERISTICS: "patient characteristics",
    COMMENTS: "comments",
    INSTITUTION: "institution",
    CONTACT: "addresses and telephone numbers",
    OTHER_DICOM: "other DICOM attributes",
    ITEM_NAMES: "patient and study item names",
    FREE_TEXT: "PHI inside names, descriptions and attributes",
    FILE_NAMES: "PHI inside file names",
    DATA_TEXT: "PHI inside data (point labels, segment names, table cells, text, colour names, parameters)",
    MARKERS: "de-identification markers added",
    TECHNICAL: "technical values",
}

# Retain options (PS3.15 Table E.1-1 columns)
PATIENT_CHARACTERISTICS = "patientCharacteristics"
LONGITUDINAL_DATES = "longitudinalDates"
DESCRIPTIONS_OPTION = "descriptions"
DEVICE_IDENTITY = "deviceIdentity"
UIDS_OPTION = "uids"
RETAIN_OPTIONS = (PATIENT_CHARACTERISTICS, LONGITUDINAL_DATES, DESCRIPTIONS_OPTION, DEVICE_IDENTITY, UIDS_OPTION)

DICOM_PREFIX = "DICOM."
PATIENT_IDENTITY_REMOVED = DICOM_PREFIX + "PatientIdentityRemoved"  # (0012,0062)
DEIDENTIFICATION_METHOD = DICOM_PREFIX + "DeidentificationMethod"  # (0012,0063)

Rule = namedtuple("Rule", "tag code category action retained")
"""tag and code document PS3.15; retained maps a retain option to the action it selects instead."""

_KEEP_CHARACTERISTICS = {PATIENT_CHARACTERISTICS: KEEP}
_SHIFT = {LONGITUDINAL_DATES: SHIFT_DATE}
_KEEP_TIME = {LONGITUDINAL_DATES: KEEP}

RULES = {
    "PatientName": Rule("(0010,0010)", "Z", NAMES, PSEUDONYM_NAME, {}),
    "PatientID": Rule("(0010,0020)", "Z", IDENTIFIERS, PSEUDONYM_ID, {}),
    "PatientBirthDate": Rule("(0010,0030)", "Z", DATES, EMPTY, {}),
    "PatientSex": Rule("(0010,0040)", "Z", CHARACTERISTICS, EMPTY, _KEEP_CHARACTERISTICS),
    "PatientAge": Rule("(0010,1010)", "X", CHARACTERISTICS, REMOVE, _KEEP_CHARACTERISTICS),
    "PatientSize": Rule("(0010,1020)", "X", CHARACTERISTICS, REMOVE, _KEEP_CHARACTERISTICS),
    "PatientWeight": Rule("(0010,1030)", "X", CHARACTERISTICS, REMOVE, _KEEP_CHARACTERISTICS),
    "PatientComments": Rule("(0010,4000)", "X", COMMENTS, REMOVE, {}),
    "StudyDescription": Rule("(0008,1030)", "X", DESCRIPTIONS, REMOVE, {DESCRIPTIONS_OPTION: KEEP}),
    "StudyInstanceUID": Rule("(0020,000D)", "U", UIDS, UID, {UIDS_OPTION: KEEP}),
    "StudyID": Rule("(0020,0010)", "Z", IDENTIFIERS, EMPTY, {}),
    "StudyDate": Rule("(0008,0020)", "Z", DATES, EMPTY, _SHIFT),
    "StudyTime": Rule("(0008,0030)", "Z", TIMES, EMPTY, _KEEP_TIME),
    "Modality": Rule("(0008,0060)", "-", TECHNICAL, KEEP, {}),
    "SeriesNumber": Rule("(0020,0011)", "-", TECHNICAL, KEEP, {}),
    "FrameOfReferenceUID": Rule("(0020,0052)", "U", UIDS, UID, {UIDS_OPTION: KEEP}),
    "SeriesDescription": Rule("(0008,103E)", "X", DESCRIPTIONS, REMOVE, {DESCRIPTIONS_OPTION: KEEP}),
    "SeriesDate": Rule("(0008,0021)", "X", DATES, REMOVE, _SHIFT),
    "SeriesTime": Rule("(0008,0031)", "X", TIMES, REMOVE, _KEEP_TIME),
    "ContentDate": Rule("(0008,0023)", "Z", DATES, EMPTY, _SHIFT),
    "ContentTime": Rule("(0008,0033)", "Z", TIMES, EMPTY, _KEEP_TIME),
    # Not in Table E.1-1. A rare scanner model narrows down the site, so we are stricter than the table
    # and remove both unless device identity is retained.
    "Manufacturer": Rule("(0008,0070)", "X*", DEVICE, REMOVE, {DEVICE_IDENTITY: KEEP}),
    "Model": Rule("(0008,1090)", "X*", DEVICE, REMOVE, {DEVICE_IDENTITY: KEEP}),
    "ReferencedInstanceUIDs": Rule("(0008,1155)", "U", UIDS, UID_LIST, {UIDS_OPTION: KEEP}),
    # Node attributes written by the scalar volume and image sequence plugins.
    "instanceUIDs": Rule("(0008,0018)", "U", UIDS, UID_LIST, {UIDS_OPTION: KEEP}),
    "instanceNumbers": Rule("(0020,0013)", "-", TECHNICAL, KEEP, {}),
    "triggerTime": Rule("(0018,1060)", "-", TECHNICAL, KEEP, {}),
    # Written by us on patient items; see Policy.markerValues.
    "PatientIdentityRemoved": Rule("(0012,0062)", "-", MARKERS, KEEP, {}),
    "DeidentificationMethod": Rule("(0012,0063)", "-", MARKERS, KEEP, {}),
    # Not written by Slicer's own DICOM plugins, but by extensions (SlicerRT, QuantitativeReporting) and scripts.
    "AccessionNumber": Rule("(0008,0050)", "Z", IDENTIFIERS, EMPTY, {}),
    "OtherPatientIDs": Rule("(0010,1000)", "X", IDENTIFIERS, REMOVE, {}),
    "OtherPatientNames": Rule("(0010,1001)", "X", NAMES, REMOVE, {}),
    "MedicalRecordLocator": Rule("(0010,1090)", "X", IDENTIFIERS, REMOVE, {}),
    "PatientBirthTime": Rule("(0010,0032)", "X", TIMES, REMOVE, {}),
    "PatientAddress": Rule("(0010,1040)", "X", CONTACT, REMOVE, {}),
    "PatientTelephoneNumbers": Rule("(0010,2154)", "X", CONTACT, REMOVE, {}),
    "EthnicGroup": Rule("(0010,2160)", "X", CHARACTERISTICS, REMOVE, _KEEP_CHARACTERISTICS),
    "Occupation": Rule("(0010,2180)", "X", CHARACTERISTICS, REMOVE, {}),
    "AdditionalPatientHistory": Rule("(0010,21B0)", "X", COMMENTS, REMOVE, {}),
    "StudyComments": Rule("(0032,4000)", "X", COMMENTS, REMOVE, {}),
    "ImageComments": Rule("(0020,4000)", "X", COMMENTS, REMOVE, {}),
    "ReferringPhysicianName": Rule("(0008,0090)", "Z", OTHER_NAMES, EMPTY, {}),
    "PerformingPhysicianName": Rule("(0008,1050)", "X", OTHER_NAMES, REMOVE, {}),
    "NameOfPhysiciansReadingStudy": Rule("(0008,1060)", "X", OTHER_NAMES, REMOVE, {}),
    "OperatorsName": Rule("(0008,1070)", "X", OTHER_NAMES, REMOVE, {}),
    "RequestingPhysician": Rule("(0032,1032)", "X", OTHER_NAMES, REMOVE, {}),
    "InstitutionName": Rule("(0008,0080)", "X", INSTITUTION, REMOVE, {}),
    "InstitutionAddress": Rule("(0008,0081)", "X", INSTITUTION, REMOVE, {}),
    "InstitutionalDepartmentName": Rule("(0008,1040)", "X", INSTITUTION, REMOVE, {}),
    "StationName": Rule("(0008,1010)", "X", DEVICE, REMOVE, {DEVICE_IDENTITY: KEEP}),
    "DeviceSerialNumber": Rule("(0018,1000)", "X", DEVICE, REMOVE, {DEVICE_IDENTITY: KEEP}),
    "AcquisitionDate": Rule("(0008,0022)", "X", DATES, REMOVE, _SHIFT),
    "AcquisitionTime": Rule("(0008,0032)", "X", TIMES, REMOVE, _KEEP_TIME),
    "InstanceCreationDate": Rule("(0008,0012)", "X", DATES, REMOVE, _SHIFT),
    "SOPInstanceUID": Rule("(0008,0018)", "U", UIDS, UID, {UIDS_OPTION: KEEP}),
    "SeriesInstanceUID": Rule("(0020,000E)", "U", UIDS, UID, {UIDS_OPTION: KEEP}),
    "ReferencedSOPInstanceUID": Rule("(0008,1155)", "U", UIDS, UID_LIST, {UIDS_OPTION: KEEP}),
}

UNKNOWN_DICOM_RULE = Rule("", "X", OTHER_DICOM, REMOVE, {})

# Subject hierarchy item UIDs (vtkMRMLSubjectHierarchyConstants::GetDICOMUIDName, GetDICOMInstanceUIDName).
ITEM_UID_RULES = {
    "DICOM": Rule("(0020,000D)/(0020,000E)", "U", UIDS, UID, {UIDS_OPTION: KEEP}),
    "DICOMInstanceUID": Rule("(0008,0018)", "U", UIDS, UID_LIST, {UIDS_OPTION: KEEP}),
}
PATIENT_ITEM_UID_RULE = Rule("(0010,0020)", "Z", IDENTIFIERS, PSEUDONYM_ID, {})
UNKNOWN_UID_RULE = Rule("", "X", UIDS, REMOVE, {})

SCENE_LEVEL = "Scene"
PATIENT_LEVEL = "Patient"
STUDY_LEVEL = "Study"


# How Slicer 4.4-4.6 (SubjectHierarchy nodes) and 4.2-4.3 (Hierarchy nodes) named a node's DICOM attributes.
LEGACY_PREFIXES = ("DICOMHierarchy.", "PatientHierarchy.")


@functools.lru_cache(maxsize=4096)
def ruleForAttribute(name):
    """The rule for a ``DICOM.*`` attribute (``DICOMHierarchy.*``, ``PatientHierarchy.*`` in older scenes), or for
    an attribute named by a DICOM keyword the profile knows (SlicerRT writes ``StudyInstanceUID`` and ``StudyID``
    without the prefix); None for any other attribute (those are free text)."""
    for prefix in (DICOM_PREFIX, *LEGACY_PREFIXES):
        if name.startswith(prefix):
            return RULES.get(name[len(prefix) :], UNKNOWN_DICOM_RULE)
    return RULES.get(name) if name[:1].isupper() else None


# What people write as a column name or label for a value a DICOM attribute holds ("MRN" over a column of record
# numbers, "Accession #: A1234" in a description), folded to lower-case letters and digits; every keyword of RULES
# whose category identifies a patient is one too ("PatientID", "Patient ID", "patient_id"). Under the recognisers,
# the value such a label names gets that attribute's rule, whatever its form (an accession number has none).
_LABEL_ALIASES = {
    "PatientID": "mrn medicalrecordnumber medicalrecordno medicalrecord patientnumber patientno patid hospitalnumber",
    "AccessionNumber": "accession accessionno accessionnr accno accnr",
    "PatientBirthDate": "dob dateofbirth birthdate birthday",
    "PatientName": "patientsname nameofpatient",
    "OtherPatientIDs": "nhsnumber nhsno ssn socialsecuritynumber insurancenumber",
}
LABELLED_CATEGORIES = frozenset((NAMES, OTHER_NAMES, IDENTIFIERS, DATES, CONTACT))
_LABELS = {
    **{keyword.lower(): keyword for keyword, rule in RULES.items() if rule.category in LABELLED_CATEGORIES},
    **{alias: keyword for keyword, aliases in _LABEL_ALIASES.items() for alias in aliases.split()},
}
_NOT_LABEL_CHARACTERS = re.compile(r"[^0-9a-z]+")


def keywordForLabel(label):
    """The DICOM keyword a column name or label stands for ("Accession #" -> AccessionNumber), or None."""
    return _LABELS.get(_NOT_LABEL_CHARACTERS.sub("", label.lower())) if label and len(label) <= 40 else None


# Values of these categories are searched in free text (names, descriptions, file names, written files).
NOT_SEARCHED = frozenset((TECHNICAL, MARKERS, ITEM_NAMES, FREE_TEXT, FILE_NAMES, DATA_TEXT))
PERSON_NAME_CATEGORIES = frozenset((NAMES, OTHER_NAMES))


def ruleForItemUid(uidName, isPatientItem):
    """The rule for a subject hierarchy item UID."""
    if uidName == "DICOM" and isPatientItem:
        return PATIENT_ITEM_UID_RULE
    return ITEM_UID_RULES.get(uidName, UNKNOWN_UID_RULE)
