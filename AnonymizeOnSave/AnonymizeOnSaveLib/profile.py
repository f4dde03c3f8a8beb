"""The de-identification profile: what happens to each DICOM-derived value Slicer keeps in a scene.

One row per attribute Slicer's DICOM plugins write (``DICOM.<keyword>``). Actions follow DICOM PS3.15
Table E.1-1 (Basic Application Level Confidentiality Profile); ``retained`` lists the options that change the
action. Any other ``DICOM.*`` attribute is removed: an attribute we do not know is treated as PHI.
"""

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
IDENTIFIERS = "identifiers"
DATES = "dates"
TIMES = "times"
UIDS = "uids"
DESCRIPTIONS = "descriptions"
DEVICE = "device"
CHARACTERISTICS = "characteristics"
COMMENTS = "comments"
OTHER_DICOM = "otherDicom"
ITEM_NAMES = "itemNames"
FREE_TEXT = "freeText"
FILE_NAMES = "fileNames"
MARKERS = "markers"
TECHNICAL = "technical"

CATEGORY_LABELS = {
    NAMES: "patient names",
    IDENTIFIERS: "patient and study IDs",
    DATES: "dates",
    TIMES: "times",
    UIDS: "UIDs",
    DESCRIPTIONS: "study and series descriptions",
    DEVICE: "device identity",
    CHARACTERISTICS: "patient characteristics",
    COMMENTS: "comments",
    OTHER_DICOM: "other DICOM attributes",
    ITEM_NAMES: "patient and study item names",
    FREE_TEXT: "PHI inside names, descriptions and attributes",
    FILE_NAMES: "PHI inside file names",
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
    # Node attribute written by the scalar volume plugins: the series' SOP Instance UIDs.
    "instanceUIDs": Rule("(0008,0018)", "U", UIDS, UID_LIST, {UIDS_OPTION: KEEP}),
    # Written by us on patient items; see Policy.markerValues.
    "PatientIdentityRemoved": Rule("(0012,0062)", "-", MARKERS, KEEP, {}),
    "DeidentificationMethod": Rule("(0012,0063)", "-", MARKERS, KEEP, {}),
}

UNKNOWN_DICOM_RULE = Rule("", "X", OTHER_DICOM, REMOVE, {})

# Subject hierarchy item UIDs (vtkMRMLSubjectHierarchyConstants::GetDICOMUIDName, GetDICOMInstanceUIDName).
ITEM_UID_RULES = {
    "DICOM": Rule("(0020,000D)/(0020,000E)", "U", UIDS, UID, {UIDS_OPTION: KEEP}),
    "DICOMInstanceUID": Rule("(0008,0018)", "U", UIDS, UID_LIST, {UIDS_OPTION: KEEP}),
}
PATIENT_ITEM_UID_RULE = Rule("(0010,0020)", "Z", IDENTIFIERS, PSEUDONYM_ID, {})
UNKNOWN_UID_RULE = Rule("", "X", UIDS, REMOVE, {})

PATIENT_LEVEL = "Patient"
STUDY_LEVEL = "Study"


def ruleForAttribute(name):
    """The rule for a ``DICOM.*`` attribute name, or None for any other attribute (those are free text)."""
    if not name.startswith(DICOM_PREFIX):
        return None
    return RULES.get(name[len(DICOM_PREFIX) :], UNKNOWN_DICOM_RULE)


def ruleForItemUid(uidName, isPatientItem):
    """The rule for a subject hierarchy item UID."""
    if uidName == "DICOM" and isPatientItem:
        return PATIENT_ITEM_UID_RULE
    return ITEM_UID_RULES.get(uidName, UNKNOWN_UID_RULE)
