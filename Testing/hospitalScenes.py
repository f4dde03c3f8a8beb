"""Scenes as Slicer's DICOM plugins build them, from real DICOM files carrying the values real hospitals have.

Node naming and attributes follow DICOMScalarVolumePlugin and DICOMImageSequencePlugin (Slicer main, 2026):
"<SeriesNumber>: <SeriesDescription>" ("Unnamed Series" when empty) cleaned by cleanNodeName (| / \\ to -, * to
(star)) and made unique by the scene; subseries split by a tag named "<series name> - <tag> <value>";
DICOM.instanceUIDs and DICOM.instanceNumbers on volumes; a window/level preset; image sequences named
"<SeriesNumber>: <Modality> <SeriesDescription>", their browser "<name> browser", frames with DICOM.instanceUIDs
(and DICOM.triggerTime for cine MRI), the subject hierarchy item on the proxy node. Item names follow the plugin
handler's display settings. The DICOM files are pydicom's samples with patient values set in memory.

leaks() is the test oracle: it shares no code with the anonymizer. It decodes every byte written, through every
layer (leakOracle.py), and looks for each value as plain substrings, in the spellings people use.
"""

import itertools
import unicodedata
from urllib.parse import quote

import pydicom
import slicer
import vtk
from dicomScenes import _imageFromDatasets, addSeriesInSubjectHierarchy, fileValue, newScene, sequencesLogic
from leakOracle import blobs
from pydicom.data import get_testdata_file

# One patient per row: what a hospital's DICOM really holds. Empty IDs, particles, apostrophes, hyphens, accents,
# CJK and Korean names with their = groups, Cyrillic and Arabic, physicians' names inside descriptions.
PATIENTS = [
    {
        "PatientName": "Müller-Lüdenscheidt^José^María",
        "PatientID": "MRN-004217",
        "PatientBirthDate": "19450302",
        "StudyDescription": "CT Abdomen Pelvis Dr. Okonkwo",
        "SeriesDescription": "CT ABD W/CONTRAST *Dr Okonkwo*",
        "StudyID": "ACC20040119A",
        "PatientComments": "Transferred from Klinikum Süd",
        "ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"],
    },
    {
        "PatientName": "van der Berg^Pieter",
        "PatientID": "NL77310552",
        "PatientBirthDate": "19600714",
        "StudyDescription": "MRI Knee Left",
        "SeriesDescription": "T2 SAG FS van der Berg retake",
        "StudyID": "KNEE7731",
    },
    {
        "PatientName": "O'Brien^Seán",
        "PatientID": "IE-0088451",
        "PatientBirthDate": "19820101",
        "StudyDescription": "Head CT trauma",
        "SeriesDescription": "Dr O'Neill review",
        "StudyID": "",
    },
    {"PatientName": "Yamada^Tarou=山田^太郎=やまだ^たろう", "PatientID": "", "StudyDescription": "胸部CT 山田"},
    {"PatientName": "Hong^Gildong=홍^길동", "PatientID": "KR55821930", "SeriesDescription": "흉부 CT 홍길동"},
    {"PatientName": "Иванов^Иван^Иванович", "PatientID": "RU39917204", "SeriesDescription": "МРТ Иванов"},
    {"PatientName": "الحسن^علي", "PatientID": "SA61200458", "StudyDescription": "تصوير علي الحسن"},
]
_SAMPLES = ("CT_small.dcm", "MR_small.dcm")
# What the tests scan for: everything the profile removes or replaces.
SCANNED = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientComments",
    "StudyDescription",
    "SeriesDescription",
    "StudyID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "FrameOfReferenceUID",
)


def hospitalDatasets():
    """One pydicom dataset per patient, from pydicom's real CT and MR samples, with unique UIDs."""
    datasets = []
    for index, values in enumerate(PATIENTS):
        dataset = pydicom.dcmread(get_testdata_file(_SAMPLES[index % 2]))
        for keyword, value in values.items():
            setattr(dataset, keyword, value)
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID"):
            setattr(dataset, keyword, pydicom.uid.generate_uid(entropy_srcs=[keyword, str(index)]))
        datasets.append(dataset)
    return datasets


def cleanNodeName(name):
    """DICOMScalarVolumePlugin.cleanNodeName."""
    return name.replace("|", "-").replace("/", "-").replace("\\", "-").replace("*", "(star)")


def defaultSeriesNodeName(dataset):
    """DICOMPlugin.defaultSeriesNodeName."""
    number, description = fileValue(dataset, "SeriesNumber"), fileValue(dataset, "SeriesDescription")
    name = description or "Unnamed Series"
    return f"{number}: {name}" if number else name


def loadScalarVolume(scene, dataset, display, splitBy=None):
    """What DICOMScalarVolumePlugin loads for one series (or, with splitBy, one subseries of it)."""
    name = defaultSeriesNodeName(dataset)
    if splitBy:
        value = dataset.get(splitBy)
        value = "\\".join(value) if isinstance(value, (list, pydicom.multival.MultiValue)) else str(value)
        name += f" - {splitBy[0].lower() + splitBy[1:]} {value.replace(',', '_')}"
    image, _ = _imageFromDatasets([dataset])
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", scene.GenerateUniqueName(cleanNodeName(name)))
    volume.SetAndObserveImageData(image)
    volume.SetAttribute("DICOM.instanceUIDs", fileValue(dataset, "SOPInstanceUID") or "Unknown")
    volume.SetAttribute("DICOM.instanceNumbers", fileValue(dataset, "InstanceNumber") or "?")
    volume.CreateDefaultDisplayNodes()
    volume.GetDisplayNode().AddWindowLevelPreset(400, 40)
    volume.GetDisplayNode().SetWindowLevelFromPreset(0)
    addSeriesInSubjectHierarchy(scene, [dataset], volume, *display)
    return volume


def loadImageSequence(scene, dataset, display, frames=3, cine=False):
    """What DICOMImageSequencePlugin loads: a volume sequence, its browser and proxy; the item on the proxy."""
    number, modality = fileValue(dataset, "SeriesNumber"), fileValue(dataset, "Modality")
    description = fileValue(dataset, "SeriesDescription")
    name = (f"{number}:" if number else "") + (f" {modality}" if modality else "")
    name = (name + (f" {description}" if description else "")).strip()
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode")
    sequence.SetName(name)
    sequence.SetIndexName("instance number" if cine else "time")
    sequence.SetIndexUnit("" if cine else "s")
    image, _ = _imageFromDatasets([dataset])
    for frame in range(frames):
        volume = slicer.vtkMRMLScalarVolumeNode()
        copy = vtk.vtkImageData()
        copy.DeepCopy(image)
        volume.SetAndObserveImageData(copy)
        volume.SetAttribute("DICOM.instanceUIDs", fileValue(dataset, "SOPInstanceUID"))
        if cine:
            volume.SetAttribute("DICOM.triggerTime", f"{frame * 37.5:.1f}")
        sequence.SetDataNodeAtValue(volume, str(frame + 1) if cine else f"{frame * 0.04:.3f}")
    browser = scene.AddNewNodeByClass("vtkMRMLSequenceBrowserNode", scene.GenerateUniqueName(name + " browser"))
    browser.SetAndObserveMasterSequenceNodeID(sequence.GetID())
    sequencesLogic(scene).UpdateProxyNodesFromSequences(browser)
    proxy = browser.GetProxyNode(sequence)
    addSeriesInSubjectHierarchy(scene, [dataset], proxy, *display)
    return sequence


def buildHospitalScene(display=(True, False, False, True)):
    """Every patient loaded as Slicer would: a volume each, a subseries split by image type for the first, an
    image sequence for two of them (one cine MRI), a second load of a series (a unique-name suffix)."""
    scene = newScene()
    datasets = hospitalDatasets()
    for dataset in datasets:
        loadScalarVolume(scene, dataset, display)
    loadScalarVolume(scene, datasets[0], display, splitBy="ImageType")
    loadScalarVolume(scene, datasets[1], display)  # loaded twice: "<name>_1"
    loadImageSequence(scene, datasets[2], display)
    loadImageSequence(scene, datasets[5], display, cine=True)
    values = [fileValue(d, keyword) for d in datasets for keyword in SCANNED]
    return scene, [value for value in values if len(value) >= 4 or any(ord(c) > 0x2E80 for c in value)]


# --- the oracle -------------------------------------------------------------------------------------------------


def _fold(text):
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def slicerPercentEncode(text):
    """vtkMRMLScene::PercentEncode: how Slicer writes a node name into a data file name (a byte of a non-ASCII
    character is a negative char, printed as an unsigned short: "%ffc3")."""
    kept = " -_.,@#$%^&()[]{}<>+="
    written = []
    for byte in text.encode("utf-8"):
        character = chr(byte)
        if "A" <= character <= "z" or "0" <= character <= "9" or character in kept:
            written.append(character)
        else:
            written.append("%" + format(byte if byte < 0x80 else 0xFF00 + byte, "x"))
    return "".join(written)


# The oracle's own tables (not the anonymizer's): how German, Nordic and other names are typed in ASCII, and
# month names as English, German and French write them.
_TRANSLITERATION = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "oe", "å": "aa", "æ": "ae", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
)
_ORACLE_MONTHS = (
    "January February March April May June July August September October November December".split(),
    "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split(),
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
)
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def _transliterated(text):
    return text.translate(_TRANSLITERATION)


def _dropped(text):
    """As Slicer's Save dialog writes a file name: every non-ASCII letter left out."""
    return "".join(character for character in text if character.isascii())


def spellings(value):
    """The ways a person or a file format writes value: parts of a person name in any order with any separator;
    dates with month names and ordinals; each also transliterated and with its non-ASCII letters dropped; then each
    as is, folded (case and accents), XML-escaped, URL-encoded and percent-encoded as Slicer names files. (Glued
    forms are found because the oracle looks for substrings.)"""
    forms = {value}
    if "^" in value or "=" in value:
        for group in value.split("="):
            parts = [part for part in group.split("^") if part]
            for count in range(2, len(parts) + 1):
                for order in itertools.permutations(parts, count):
                    for separator in (" ", ", ", "_", "^", "-", ""):
                        forms.add(separator.join(order))
            forms.update(part for part in parts if len(part) >= 4 or any(ord(c) > 0x2E80 for c in part))
            if len(parts) >= 1 and len(group) >= 2:
                forms.add(group)
    if len(value) == 8 and value.isdigit():  # a date, as people write it
        year, month, day = value[:4], value[4:6], value[6:]
        forms |= {f"{year}-{month}-{day}", f"{day}.{month}.{year}", f"{month}/{day}/{year}"}
        forms |= {f"{int(day)}.{int(month)}.{year}", f"{int(month)}/{int(day)}/{year}"}
        if "01" <= month <= "12":
            for names in _ORACLE_MONTHS:
                name, number = names[int(month) - 1], int(day)
                forms |= {f"{number} {name} {year}", f"{number}. {name} {year}", f"{name} {number}, {year}"}
                forms |= {f"{number}{suffix} {name} {year}" for suffix in ("st", "nd", "rd", "th")}
    # (at least 5 characters: "Sen" of "Seán" is in "representation" and identifies no one)
    forms |= {variant for form in forms for variant in (_transliterated(form), _dropped(form)) if len(variant) >= 5}
    forms |= {cleanNodeName(form) for form in forms}  # how Slicer writes it into a node name
    encoded = set()
    for form in forms:
        for variant in (form, _fold(form)):
            encoded.update({variant, quote(variant), quote(variant, safe=" "), variant.replace("'", "&apos;")})
            encoded.add(variant.replace(" ", "%20").replace("'", "%27"))
            encoded.add(slicerPercentEncode(variant))
    return {_fold(form) for form in encoded if len(form) >= 2}


def leaks(path, values):
    """(place, index of the value) for every spelling of every value found; places never quote values."""
    needles = [(index, spellings(value)) for index, value in enumerate(values)]
    found = []
    for place, text in blobs(path):
        folded = _fold(text.translate(_INVISIBLE))
        found += [(place, index) for index, forms in needles if any(form in folded for form in forms)]
    return found
