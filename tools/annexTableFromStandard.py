"""Make AnonymizeOnSaveLib/dicom/annexE.csv from DICOM PS3.15 Table E.1-1 as text (the reStructuredText grid table
of chsasank/dicom_standard, source/part15/chapter_E.rst): one row per attribute, its tag and the action of the Basic
Profile and of each option. Run once per edition:  python tools/annexTableFromStandard.py chapter_E.rst > annexE.csv
"""

import csv
import re
import sys

COLUMNS = [
    "name",
    "tag",
    "retired",
    "inStandardIod",
    "basic",
    "retainSafePrivate",
    "retainUids",
    "retainDeviceIdentity",
    "retainInstitutionIdentity",
    "retainPatientCharacteristics",
    "retainLongitudinalFullDates",
    "retainLongitudinalModifiedDates",
    "cleanDescriptors",
    "cleanStructuredContent",
    "cleanGraphics",
]


def rows(text):
    """The cells of every body row of the first grid table after the table directive."""
    lines = text[text.index(".. table:: Application Level Confidentiality Profile Attributes") :].splitlines()[2:]
    border = lines[0].strip()
    cuts = [index for index, character in enumerate(border) if character == "+"]
    body, cells = False, [""] * (len(cuts) - 1)
    for line in lines[1:]:
        line = line.strip()
        if not line:
            break
        if line.startswith("+="):
            body, cells = True, [""] * (len(cuts) - 1)
            continue
        if line.startswith("+-"):
            if body and any(cells):
                yield [cell.strip() for cell in cells]
            cells = [""] * (len(cuts) - 1)
            continue
        for column in range(len(cuts) - 1):
            cells[column] += line[cuts[column] + 1 : cuts[column + 1]].strip()


def main(path):
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(COLUMNS)
    for cells in rows(open(path, encoding="utf-8").read()):
        cells[1] = re.sub(r"\s", "", cells[1]).upper()
        writer.writerow(cells)


if __name__ == "__main__":
    main(sys.argv[1])
