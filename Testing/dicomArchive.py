"""A DICOM archive as a hospital's PACS exports it, from pydicom's real CT and MR samples with the values real
hospitals have (hospitalScenes.PATIENTS): folders named after the patient, files without extension, a DICOMDIR,
several studies per patient, PHI in many tags, in nested sequences and in a private block; UTF-8 character set for
the names in other scripts."""

import os

import pydicom
from hospitalScenes import PATIENTS, hospitalDatasets
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

KEY = "dicom-archive-key-long-enough"
OTHER_VALUES = {
    "AccessionNumber": "A7654321",
    "InstitutionName": "Klinikum Süd Oldenburg",
    "ReferringPhysicianName": "Okonkwo^Chidi",
    "OperatorsName": "Tech^Anna",
    "PatientAddress": "Escherweg 2, 26121 Oldenburg",
    "PatientTelephoneNumbers": "+49 441 1234567",
    "OtherPatientIDs": "OLD-99812",
}
PRIVATE_TEXT = "private note on {name}"


def _withPhi(dataset, index, study):
    dataset.SpecificCharacterSet = "ISO_IR 192"
    for keyword, value in OTHER_VALUES.items():
        setattr(dataset, keyword, f"{value}{index}" if keyword != "PatientTelephoneNumbers" else value)
    name = str(dataset.PatientName)
    block = dataset.private_block(0x0009, "HOSPITAL PACS", create=True)
    block.add_new(0x01, "LO", PRIVATE_TEXT.format(name=name.split("^")[0]))
    referenced = Dataset()
    referenced.ReferencedSOPClassUID = dataset.SOPClassUID
    referenced.ReferencedSOPInstanceUID = dataset.SOPInstanceUID  # (set again below, after a new study)
    referenced.private_block(0x0011, "HOSPITAL PACS", create=True).add_new(0x01, "LO", name)
    dataset.ReferencedImageSequence = Sequence([referenced])
    other = Dataset()
    other.PatientID = dataset.PatientID or "none"
    other.IssuerOfPatientID = "Klinikum Süd"
    dataset.OtherPatientIDsSequence = Sequence([other])
    request = Dataset()
    request.AccessionNumber = dataset.AccessionNumber
    request.RequestedProcedureDescription = f"CT for {name.split('^')[0]}"
    dataset.RequestAttributesSequence = Sequence([request])
    if study:
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
            setattr(dataset, keyword, pydicom.uid.generate_uid(entropy_srcs=[keyword, str(index), "second"]))
        dataset.StudyDate = "20240229"
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    referenced.ReferencedSOPInstanceUID = dataset.SOPInstanceUID
    return dataset


def writeArchive(root):
    """Write the archive under root; returns {path: dataset as written} of the DICOM files."""
    written = {}
    for index, _ in enumerate(PATIENTS):
        for study in (0, 1) if index < 2 else (0,):
            dataset = _withPhi(hospitalDatasets()[index], index, study)
            folder = os.path.join(root, str(dataset.PatientName).split("^")[0] or f"patient{index}", f"study{study}")
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, "IMG0001")
            dataset.save_as(path, enforce_file_format=True)
            written[path] = dataset
    return written


def phiValues(datasets):
    """Every value put in that must not survive: names, IDs, dates, UIDs, and the other values."""
    values = set()
    for dataset in datasets:
        for keyword in ("PatientName", "PatientID", "PatientBirthDate", "StudyInstanceUID", "SeriesInstanceUID"):
            value = str(dataset.get(keyword, "") or "")
            if len(value) >= 4:
                values.add(value)
        values.update(str(dataset.get(keyword)) for keyword in OTHER_VALUES)
        values.add(str(dataset.SOPInstanceUID))
    return sorted(values)
