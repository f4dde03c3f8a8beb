"""One DICOM file de-identified into another, verified before it gets its name.

A file is read whole (never half-written: a truncated one is refused); its dataset de-identified (deidentifier);
written under a temporary name beside the output; read back, and every text element (each sequence item and file
meta included) and every other element's bytes but the pixel data searched for the values removed; renamed into
place only when nothing is found. Pixel data is copied as it was: a file whose pixels may show burnt-in text is
reported as such ("pixels not checked"), never called clean.
"""

import contextlib
import io
import logging
import os
import re
import warnings
from collections import namedtuple

import pydicom
from pydicom.charset import convert_encodings, decode_bytes
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from .. import profile
from ..formats.rawBytes import rawText
from ..phiText import DEFAULT_STAND_IN, STAND_INS
from ..sceneFiles import replaceWithTemporary
from .deidentifier import PIXEL_DATA, TEXT_VRS, Deidentifier, elementVr

DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
# Where pixels often carry burnt-in text when BurnedInAnnotation does not say NO: secondary capture, ultrasound,
# angiography, endoscopy and "other" (PS3.15 E.3.1, the Clean Pixel Data Option).
_RISKY_MODALITIES = frozenset(("US", "SC", "OT", "XA", "ES", "DOC", "SM", "XC"))
_SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
_STAND_INS = re.compile("|".join(re.escape(text) for text in {*STAND_INS.values(), DEFAULT_STAND_IN}))  # ours
_CHARSET_VRS = frozenset(("LO", "LT", "PN", "SH", "ST", "UC", "UT"))  # decoded in the Specific Character Set
_CODED_VRS = frozenset(("AS", "CS", "DS", "IS"))  # coded strings and numbers: searched for what identifies
_IDENTIFYING = frozenset((profile.IDENTIFIERS, profile.DATES, profile.UIDS))
_VALUE_SEPARATORS = re.compile(r"[\\,]")  # between values, as written or as a decoded list is shown ("[1, 2]")
_FRACTION = re.compile(r"[-+]?(?:[0-9]*\.[0-9]*(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)")  # a measurement

Written = namedtuple("Written", "result pixelsChecked")
"""result: the Deidentifier's Result; pixelsChecked: False when the pixels may show burnt-in text no one has looked
at."""


class DicomFileError(Exception):
    """A DICOM file that cannot be read or de-identified; the message is one line and holds no value."""


class NotDicom(Exception):
    """A file that is no DICOM file (or a DICOMDIR, which is never copied); the message says which."""


@contextlib.contextmanager
def quietPydicom():
    """pydicom's warnings and log messages quote values (an invalid UID, a name too long for its VR): none is shown
    while a file is read, de-identified and written (a problem that matters raises, and is reported without them)."""
    logger = logging.getLogger("pydicom")
    disabled = logger.disabled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logger.disabled = True
        try:
            yield
        finally:
            logger.disabled = disabled


def readDicom(path):
    """The dataset of a DICOM file, read whole. NotDicom for other files and DICOMDIRs; DicomFileError for one
    that is damaged or cut short."""
    with quietPydicom():
        return _readDicom(path)


def _readDicom(path):
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
    with quietPydicom():
        return _deidentifyFile(source, destination, policy, safePrivate, dataset)


def _deidentifyFile(source, destination, policy, safePrivate, dataset):
    dataset = dataset if dataset is not None else readDicom(source)
    _completeFileMeta(dataset)
    pixelsChecked = not pixelsMayShowText(dataset)
    result = Deidentifier(policy, safePrivate).run(dataset, getattr(dataset, "file_meta", None))
    if any(getattr(dataset.get_item(tag), "VR", "") is None for tag in dataset.keys()):
        for _ in dataset.iterall():  # read as implicit VR (whatever the file says): decoded, each VR is known
            pass
    buffer = io.BytesIO()
    try:
        dataset.save_as(buffer, enforce_file_format=True)
    except (ValueError, TypeError, AttributeError, KeyError) as error:
        raise DicomFileError(f"the de-identified file cannot be written ({type(error).__name__})") from None
    data = buffer.getvalue()
    found = findValues(data, os.path.basename(destination), result.matcher, set(result.uids))
    if found:
        raise DicomFileError(f"patient data would remain in {found[0]}: the file was not written")
    with replaceWithTemporary(destination) as temporary, open(temporary, "wb") as stream:  # whole, or not there
        stream.write(data)
    return Written(result, pixelsChecked)


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


def findValues(data, name, matcher, uids=frozenset()):
    """Where the bytes of a DICOM file as written (data) hold a value the matcher knows (element keywords or tags,
    never values): the text of every element of every dataset, sequence item and the file meta (decoded in the
    file's character set), the bytes of every other element but the pixel data (their text runs, zlib streams
    included), and the file's name. A UID element holds an original UID only when one of its values is one whole
    (a UID that merely begins like another is another UID). Coded strings and numbers (AS, CS, DS, IS) hold a
    value when they hold an ID, a date or a UID: a description's words and a name's parts are often coded terms
    ("WHOLE BODY", the "CT" of a name "CQ500-CT-310"), and a decimal number is a measurement. The data is read back
    first: a file pydicom cannot read is reported, never passed."""
    found = [f"{name} (name)"] if matcher.contains(name) else []
    try:
        dataset = pydicom.dcmread(io.BytesIO(data))
        elements = [*_rawElements(dataset.file_meta), *_rawElements(dataset)]
    except (InvalidDicomError, OSError, EOFError, ValueError, KeyError, TypeError) as error:
        return [f"the file (unreadable: {type(error).__name__})"]
    encodings = convert_encodings(dataset.get("SpecificCharacterSet") or "ISO_IR 6")
    for tag, vr, value in elements:
        if not value:
            continue
        if vr in _CODED_VRS:
            values = [item.strip(" \0'[]") for item in _VALUE_SEPARATORS.split(value.decode("latin-1"))]
            values = [item for item in values if not _FRACTION.fullmatch(item)]
            if any(_IDENTIFYING.intersection(matcher.findCategories(item)) for item in values):
                found.append(keyword_for_tag(tag) or str(tag))
        elif vr == "UI":
            if uids.intersection(value.decode("ascii", "replace").strip("\0 ").split("\\")):
                found.append(keyword_for_tag(tag) or str(tag))
        elif vr in TEXT_VRS:
            text = decode_bytes(value, encodings, {0x5C}) if vr in _CHARSET_VRS else value.decode("latin-1")
            if matcher.contains(_STAND_INS.sub(" ", text)):
                found.append(keyword_for_tag(tag) or str(tag))
        elif matcher.contains(rawText(value)):
            found.append(keyword_for_tag(tag) or str(tag))
    return found


def _rawElements(dataset):
    """(tag, VR, value bytes) of every element of a dataset read back, each sequence item's included, without
    decoding them (pixel data left out)."""
    for tag in dataset.keys():
        if tag == PIXEL_DATA:
            continue
        raw = dataset.get_item(tag)
        vr = elementVr(dataset, tag) or "UN"
        if vr == "SQ" or (raw.value is not None and not isinstance(raw.value, (bytes, bytearray))):
            element = dataset[tag]
            if element.VR == "SQ":
                for item in element.value:
                    yield from _rawElements(item)
                continue
            yield tag, element.VR, str(element.value).encode("utf-8")
            continue
        yield tag, vr, raw.value or b""
