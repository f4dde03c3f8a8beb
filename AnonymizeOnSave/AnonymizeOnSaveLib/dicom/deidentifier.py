"""De-identify one DICOM dataset (pydicom) with the policy a scene is saved with: the same key gives the same
pseudonym names and IDs, UIDs and per-patient date shift as the scene holding the series.

Each element gets the action PS3.15 Table E.1-1 gives it (annexTable); where the scene profile has a rule for the
attribute (profile.RULES), the value is the one that rule gives a scene, so a series and its scene agree. Attributes
the table does not list: UIDs get new UIDs (DICOM's own, 1.2.840.10008.*, stay), dates are shifted or replaced by a
dummy, person names emptied, other text cleaned of every value removed elsewhere in the dataset (the matcher the
scenes use); sequences are walked to their last item. Pixel data is never decoded nor changed.
"""

from collections import namedtuple

from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

from .. import profile
from ..phiText import PhiTextMatcher
from ..planner import valuePairs
from ..policy import PatientContext, Policy
from ..recognisers import recognise
from .annexTable import SAFE_PRIVATE, actionFor, rowFor

DICOM_UID_ROOT = "1.2.840.10008."  # UIDs the standard defines (SOP classes, transfer syntaxes): never PHI
TEXT_VRS = frozenset(
    ("AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT")
)
_FREE_TEXT_VRS = frozenset(("LO", "LT", "SH", "ST", "UC", "UT"))
_DUMMY = {"DA": "19000101", "DT": "19000101000000", "TM": "000000"}
_DUMMY_VALUES = frozenset(_DUMMY.values())
_NUMERIC_VRS = frozenset(("DS", "IS", "US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"))
_CATEGORY_BY_VR = {
    "PN": profile.NAMES,
    "DA": profile.DATES,
    "DT": profile.DATES,
    "TM": profile.TIMES,
    "UI": profile.UIDS,
}
PIXEL_DATA = 0x7FE00010
IMPLEMENTATION_NAME = "ANONYMIZEONSAVE"
_SCENE_ACTIONS = {profile.REMOVE: "X", profile.EMPTY: "Z", profile.KEEP: "K", profile.UID: "U", profile.UID_LIST: "U"}
# File meta: what may name a place (AE titles, private information) goes; the instance UID follows the dataset's.
# File meta that names the sender, the receiver or their software's private data (PS3.10 7.1): AE titles, the
# Source, Sending and Receiving Presentation Addresses, Private Information.
_META_REMOVED = (0x00020016, 0x00020017, 0x00020018, 0x00020026, 0x00020027, 0x00020028, 0x00020100, 0x00020102)
# Codes of CID 7050 (De-identification Method), by the option they declare.
METHOD_CODES = {
    None: ("113100", "Basic Application Confidentiality Profile"),
    profile.DESCRIPTIONS_OPTION: ("113105", "Clean Descriptors Option"),
    profile.LONGITUDINAL_DATES: ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    profile.PATIENT_CHARACTERISTICS: ("113108", "Retain Patient Characteristics Option"),
    profile.DEVICE_IDENTITY: ("113109", "Retain Device Identity Option"),
    profile.UIDS_OPTION: ("113110", "Retain UIDs Option"),
    SAFE_PRIVATE: ("113111", "Retain Safe Private Option"),
}

Result = namedtuple("Result", "pairs uids patientId newPatientId matcher")
"""pairs: (original, replacement, category) of every value removed or replaced; uids: {original UID: new UID};
patientId, newPatientId: the patient's ID before and after; matcher: the PhiTextMatcher of the pairs."""


class Deidentifier:
    """One dataset's de-identification under policy; safePrivate: PS3.15's Retain Safe Private Option (private
    attributes kept, their text cleaned), which scenes do not have."""

    def __init__(self, policy: Policy, safePrivate=False):
        self.policy = policy
        self.retain = frozenset(policy.retain) | ({SAFE_PRIVATE} if safePrivate else frozenset())

    def run(self, dataset, fileMeta=None):
        """De-identify dataset in place (and fileMeta: its MediaStorageSOPInstanceUID follows SOPInstanceUID).
        Returns a Result."""
        patientId = str(dataset.get("PatientID", "") or "")
        declared = Policy.declaredOptions(
            str(dataset.get("PatientIdentityRemoved", "") or ""), str(dataset.get("DeidentificationMethod", "") or "")
        )
        # Keyed as Slicer keys the patient item (DICOMPlugin: "Patient-<study UID>" when the ID is empty), so the
        # series and its scene agree; a dataset this tool de-identified is not shifted twice.
        key = patientId or f"Patient-{dataset.get('StudyInstanceUID', '')}"
        self.context = PatientContext(key, declared)
        self.pairs, self.uids, self.toClean = [], {}, []
        self._dataset(dataset)
        if fileMeta is not None:
            self._fileMeta(fileMeta)
        matcher = PhiTextMatcher(self.pairs)
        known = len(self.pairs)
        self._clean(dataset, matcher)
        matcher.add(self.pairs[known:])  # what the recognisers found while cleaning
        if fileMeta is not None:  # the software that wrote this file: this tool (a name never a value's)
            fileMeta.ImplementationVersionName = IMPLEMENTATION_NAME
        self._mark(dataset)
        newPatientId = str(dataset.get("PatientID", "") or "")
        return Result(self.pairs, self.uids, patientId, newPatientId, matcher)

    def _fileMeta(self, fileMeta):
        for tag in _META_REMOVED:
            if tag in fileMeta:
                self._remove(fileMeta, fileMeta[tag])
        if "MediaStorageSOPInstanceUID" in fileMeta:
            fileMeta.MediaStorageSOPInstanceUID = self._uid(str(fileMeta.MediaStorageSOPInstanceUID))
        implementation = str(fileMeta.get("ImplementationClassUID", "") or "")
        if implementation in self.uids:  # the software's UID, also used in the dataset: replaced there, so here
            fileMeta.ImplementationClassUID = self.uids[implementation]

    # --- the walk ---------------------------------------------------------------------------------------------

    def _dataset(self, dataset):
        for tag in list(dataset.keys()):
            self._element(dataset, tag)

    def _element(self, dataset, tag):
        """The action of one element, decided before its value is decoded: most are kept as they were read."""
        if tag == PIXEL_DATA:
            return
        if tag.is_private:
            if SAFE_PRIVATE in self.retain:
                self._cleanLater(dataset[tag])
            else:
                self._remove(dataset, dataset[tag])
            return
        row = rowFor(int(tag))
        vr = elementVr(dataset, tag)
        action = actionFor(row, self.retain) if row else self._unlisted(vr)
        keyword = keyword_for_tag(tag)
        if row is None and keyword in profile.RULES:  # the scene profile's stricter rows (Manufacturer)
            action = _SCENE_ACTIONS.get(self.policy.actionFor(profile.RULES[keyword]), action)
        if action == "K" and vr != "SQ":
            return
        element = dataset[tag]
        if element.VR == "SQ":
            self._sequence(dataset, element, action)
        elif action == "X":
            self._remove(dataset, element)
        elif action == "Z":
            self._replace(element, self._rule(element, "") if element.keyword in profile.RULES else "")
        elif action == "D":
            self._replace(element, self._dummy(element))
        elif action == "U":
            self._replace(element, self._uids(element.value))
        elif action == "C":
            self._cleanLater(element)

    def _unlisted(self, vr):
        """The action for an attribute the table does not list, by its VR."""
        if vr == "UI":
            return "U"
        if vr in ("DA", "DT"):
            return "C" if profile.LONGITUDINAL_DATES in self.retain else "D"
        if vr == "TM":  # as the profile's times: kept only with the dates they belong to
            return "K" if profile.LONGITUDINAL_DATES in self.retain else "Z"
        if vr == "PN":
            return "Z"
        return "C" if vr in _FREE_TEXT_VRS or vr in ("UN", None) else "K"

    def _sequence(self, dataset, element, action):
        if action == "X":
            self._remove(dataset, element)
        elif action == "Z":
            element.value = Sequence()
        else:  # D, U, K, C: the items are kept, each de-identified attribute by attribute
            for item in element.value:
                self._dataset(item)

    # --- the values -------------------------------------------------------------------------------------------

    def _remove(self, dataset, element):
        self._found(element, "")
        del dataset[element.tag]

    def _replace(self, element, new):
        self._found(element, new)
        element.value = new

    def _found(self, element, new):
        """Remember a value removed or replaced, to clean it out of any text that repeats it."""
        if element.VR not in TEXT_VRS or element.value in (None, ""):
            return
        category = self._category(element)
        old = _text(element.value)
        for original, replacement in zip(old.split("\\"), _text(new).split("\\")) if new else ((old, ""),):
            if original != replacement and original not in _DUMMY_VALUES:  # a dummy identifies no one
                self.pairs.extend(valuePairs(original, replacement, category))

    def _category(self, element):
        rule = profile.RULES.get(element.keyword)
        if rule is not None:
            return rule.category
        if element.VR in _CATEGORY_BY_VR:
            return _CATEGORY_BY_VR[element.VR]
        return profile.IDENTIFIERS if element.keyword.endswith(("ID", "IDs", "Number")) else profile.DESCRIPTIONS

    def _rule(self, element, fallback):
        """The value the scene profile's rule for this attribute gives (the scene and the series agree)."""
        new = self.policy.applyRule(profile.RULES[element.keyword], _text(element.value), self.context)
        return fallback if new is None else new

    def _dummy(self, element):
        """A dummy for a value; an empty value stays empty (it has nothing to stand for: a dummy of nothing would
        be the same for every patient without an ID)."""
        if element.value in (None, "", b""):
            return element.value
        value, vr = _text(element.value), element.VR
        if element.keyword in profile.RULES and vr in ("PN", "LO", "SH", "DA", "TM"):
            new = self._rule(element, "")
            if new or vr not in _DUMMY:
                return new or self.policy.pseudonyms.identifier(value)
        if vr == "PN":
            return self.policy.pseudonyms.personName(value, self.context.key)
        if vr in ("DA", "DT"):
            return self._date(value) or _DUMMY[vr]
        if vr in _DUMMY:
            return _DUMMY[vr]
        if vr == "UI":
            return self._uids(element.value)
        if vr in _NUMERIC_VRS:
            return "0" if vr in ("DS", "IS") else 0
        if vr in TEXT_VRS:
            return self.policy.pseudonyms.identifier(value) if value else "ANONYMIZED"
        return element.value  # binary: kept (the table gives D to no binary attribute)

    def _date(self, value):
        """A DA or DT value shifted by the patient's offset under longitudinalDates, else None."""
        if profile.LONGITUDINAL_DATES not in self.retain or len(value) < 8:
            return None
        declared = self.context.deidentifiedOptions
        if declared is not None and profile.LONGITUDINAL_DATES in declared:
            return value  # shifted when this tool de-identified it
        shifted = self.policy.pseudonyms.shiftDate(value[:8], self.context.key)
        return shifted + value[8:] if shifted else None

    def _uids(self, value):
        if isinstance(value, (list, MultiValue)):
            return [self._uid(str(uid)) for uid in value]
        return self._uid(str(value))

    def _uid(self, uid):
        if not uid or uid.startswith(DICOM_UID_ROOT) or profile.UIDS_OPTION in self.retain:
            return uid
        new = self.uids.get(uid) or self.policy.pseudonyms.uid(uid)
        if new != uid:
            self.uids[uid] = new
            self.pairs.extend(valuePairs(uid, new, profile.UIDS))
        return new

    # --- clean: after every removed value is known --------------------------------------------------------------

    def _cleanLater(self, element):
        self.toClean.append(element)

    def _clean(self, dataset, matcher):
        for element in self.toClean:
            if element.value in (None, ""):
                continue
            if element.VR in ("DA", "DT"):
                element.value = self._date(_text(element.value)) or _DUMMY[element.VR]
            elif element.VR in _FREE_TEXT_VRS or element.VR == "PN":
                new = matcher.replace(_text(element.value))
                if self.policy.recognisers:
                    new = recognise(new, self.policy, self.context, self.pairs)
                if new != _text(element.value):
                    element.value = new

    def _mark(self, dataset):
        """PS3.15's markers: Patient Identity Removed, De-identification Method and its code sequence, and whether
        dates were kept shifted."""
        dataset.PatientIdentityRemoved = "YES"
        dataset.DeidentificationMethod = self.policy.deidentificationMethod()[:64]
        codes = [METHOD_CODES[None]] + [
            METHOD_CODES[option] for option in sorted(self.retain) if option in METHOD_CODES
        ]
        items = []
        for value, meaning in codes:
            item = Dataset()
            item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
            items.append(item)
        dataset.DeidentificationMethodCodeSequence = Sequence(items)
        shifted = profile.LONGITUDINAL_DATES in self.retain
        dataset.LongitudinalTemporalInformationModified = "MODIFIED" if shifted else "REMOVED"


def elementVr(dataset, tag):
    """An element's VR as read (explicit VR files) or from the dictionary (implicit), without decoding its value;
    None when unknown."""
    vr = getattr(dataset.get_item(tag), "VR", None)
    if vr:
        return str(vr)
    try:
        return dictionary_VR(tag)
    except KeyError:
        return None


def _text(value):
    """An element's value as DICOM text (multiple values joined by backslashes)."""
    if isinstance(value, (list, MultiValue)):
        return "\\".join(str(part) for part in value)
    return "" if value is None else str(value)
