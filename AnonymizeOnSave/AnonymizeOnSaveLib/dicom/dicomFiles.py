"""One DICOM file de-identified into another, verified before it gets its name.

A file is read whole (never half-written: a truncated one is refused); its dataset de-identified (deidentifier);
written under a temporary name beside the output; read back, and every text element (each sequence item and file
meta included) and every other element's bytes but the pixel data searched for the values removed; renamed into
place only when nothing is found. Pixel data is copied as it was: a file whose pixels may show burnt-in text is
reported as such ("pixels not checked"), never called clean.
"""

import os
import re
from collections import namedtuple

import pydicom
from pydicom.dataset import FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from ..formats.rawBytes import rawText
from ..phiText import DEFAULT_STAND_IN, STAND_INS, PhiTextMatcher
from ..sceneFiles import replaceWithTemporary
from .deidentifier import PIXEL_DATA, Deidentifier

DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
# Where pixels often carry burnt-in text when BurnedInAnnotation does not say NO: secondary capture, ultrasound,
# angiography, endoscopy and "other" (PS3.15 E.3.1, the Clean Pixel Data Option).
_RISKY_MODALITIES = frozenset(("US", "SC", "OT", "XA", "ES", "DOC", "SM", "XC"))
_SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
_STAND_INS = re.compile("|".join(re.escape(text) for text in {*STAND_INS.values(), DEFAULT_STAND_IN}))  # ours
_SAFE_VRS = frozenset(("CS", "AS", "DS", "IS"))  # coded strings and numbers, kept by the profile (PS3.15 E.1.1 note 9)

Written = namedtuple("Written", "result dataset pixelsChecked")
"""result: the Deidentifier's Result; dataset: the de-identified dataset; pixelsChecked: False when the pixels may
show burnt-in text no one has looked at."""


class DicomFileError(Exception):
    """A DICOM file that cannot be read or de-identified; the message is one line and holds no value."""


class NotDicom(Exception):
    """A file that is no DICOM file (or a DICOMDIR, which is never copied); the message says which."""


def readDicom(path):
    """The dataset of a DICOM file, read whole. NotDicom for other files and DICOMDIRs; DicomFileError for one
    that is damaged or cut short."""
    try:
        try:
            dataset = pydicom.dcmread(path)
        except InvalidDicomError:  # no preamble and no file meta, as older software writes: a dataset alone
            dataset = pydicom.dcmread(path, force=True)
            if "SOPClassUID" not in dataset or "SOPInstanceUID" not in dataset:
                raise NotDicom("not a DICOM file") from None
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError, InvalidDicomError) as error:
        raise DicomFileError(f"a DICOM file that cannot be read ({type(error).__name__})") from None
    meta = getattr(dataset, "file_meta", None)
    if meta is not None and str(meta.get("MediaStorageSOPClassUID", "")) == DICOMDIR_CLASS:
        raise NotDicom("a DICOMDIR (an index of the source's files: not copied)")
    if _truncated(dataset):
        raise DicomFileError("a DICOM file cut short (an element holds fewer bytes than its length says)")
    return dataset


def _truncated(dataset):
    for tag in list(dataset.keys()):
        raw = dataset.get_item(tag)
        value, length = getattr(raw, "value", None), getattr(raw, "length", None)
        if isinstance(value, (bytes, bytearray)) and length not in (None, 0xFFFFFFFF) and len(value) < length:
            return True
    return False


def pixelsMayShowText(dataset):
    """Whether the pixels may carry burnt-in text: BurnedInAnnotation YES, or absent for the modalities and SOP
    classes that often have it."""
    if "PixelData" not in dataset:
        return False
    burned = str(dataset.get("BurnedInAnnotation", "") or "").upper()
    if burned:
        return burned != "NO"
    sopClass = str(dataset.get("SOPClassUID", ""))
    return str(dataset.get("Modality", "")) in _RISKY_MODALITIES or sopClass.startswith(_SECONDARY_CAPTURE)


def deidentifyFile(source, destination, policy, safePrivate=False, dataset=None):
    """Write source, de-identified, to destination (atomically, verified first). Returns Written."""
    dataset = dataset if dataset is not None else readDicom(source)
    _completeFileMeta(dataset)
    pixelsChecked = not pixelsMayShowText(dataset)
    result = Deidentifier(policy, safePrivate).run(dataset, getattr(dataset, "file_meta", None))
    matcher = PhiTextMatcher(result.pairs)
    try:
        with replaceWithTemporary(os.path.abspath(destination)) as temporary:
            dataset.save_as(temporary, enforce_file_format=True)
            found = findValues(temporary, matcher, set(result.uids))
            if found:
                raise DicomFileError(f"patient data would remain in {found[0]}: the file was not written")
    except (OSError, ValueError, TypeError, AttributeError, KeyError) as error:
        raise DicomFileError(f"the de-identified file cannot be written ({type(error).__name__})") from None
    return Written(result, dataset, pixelsChecked)


def _completeFileMeta(dataset):
    """The file meta a DICOM file must have (PS3.10), made from the dataset when the source had none."""
    meta = dataset.file_meta if getattr(dataset, "file_meta", None) is not None else FileMetaDataset()
    if "SOPClassUID" not in dataset or "SOPInstanceUID" not in dataset:
        raise DicomFileError("a DICOM file without SOP Class or SOP Instance UID")
    meta.MediaStorageSOPClassUID = meta.get("MediaStorageSOPClassUID") or dataset.SOPClassUID
    meta.MediaStorageSOPInstanceUID = meta.get("MediaStorageSOPInstanceUID") or dataset.SOPInstanceUID
    if not meta.get("TransferSyntaxUID"):
        implicit, little = dataset.original_encoding
        meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian if little else ExplicitVRBigEndian
        )
    dataset.file_meta = meta


def findValues(path, matcher, uids=frozenset()):
    """The elements of a written DICOM file (keywords or tags, never values) that hold a value the matcher knows
    (a UID element: one of the original uids, whole: a UID that merely begins like one is another UID): every text
    element of every dataset, sequence item and the file meta, the bytes of every other element but the pixel
    data, and the file's name."""
    found = [f"{os.path.basename(path)} (name)"] if matcher.contains(os.path.basename(path)) else []
    try:
        dataset = pydicom.dcmread(path)
    except (InvalidDicomError, OSError, EOFError, ValueError) as error:
        return [f"the file (unreadable: {type(error).__name__})"]
    meta = getattr(dataset, "file_meta", None)
    for element in [*(meta.iterall() if meta is not None else ()), *dataset.iterall()]:
        if int(element.tag) == PIXEL_DATA or element.VR == "SQ" or element.VR in _SAFE_VRS:
            continue
        text = _searchedText(element)
        if element.VR == "UI":
            if uids.intersection(text.split("\\")):
                found.append(element.keyword or str(element.tag))
        elif text and matcher.contains(_STAND_INS.sub(" ", text)):
            found.append(element.keyword or str(element.tag))
    return found


def _searchedText(element):
    value = element.value
    if isinstance(value, (bytes, bytearray)):
        return rawText(bytes(value))
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(part) for part in value)
    return "" if value is None else str(value)
