"""Make AnonymizeOnSaveLib/dicom/annexE.csv, and the table in docs/DeidentificationProfile.md, from DICOM PS3.15
Table E.1-1 as innolitics/dicom-standard parses the standard's web edition into
standard/confidentiality_profile_attributes.json (one object per row: name, tag, the Basic Profile's code and each
option's). Run once per edition:

    python tools/annexTableFromStandard.py confidentiality_profile_attributes.json EDITION SOURCE > annexE.csv
    python tools/annexTableFromStandard.py --markdown annexE.csv     (the document's table, from the CSV)
"""

import csv
import json
import sys

# CSV column <- the JSON's key, and the label the document gives an option column.
COLUMNS = (
    ("name", "name", None),
    ("tag", "tag", None),
    ("inStandardIod", "stdCompIOD", None),
    ("basic", "basicProfile", None),
    ("retainSafePrivate", "rtnSafePrivOpt", "Safe Private"),
    ("retainUids", "rtnUIDsOpt", "UIDs"),
    ("retainDeviceIdentity", "rtnDevIdOpt", "Device"),
    ("retainInstitutionIdentity", "rtnInstIdOpt", "Institution"),
    ("retainPatientCharacteristics", "rtnPatCharsOpt", "Patient Chars."),
    ("retainLongitudinalFullDates", "rtnLongFullDatesOpt", "Long. Full Dates"),
    ("retainLongitudinalModifiedDates", "rtnLongModifDatesOpt", "Long. Modified Dates"),
    ("cleanDescriptors", "cleanDescOpt", "Clean Desc."),
    ("cleanStructuredContent", "cleanStructContOpt", "Clean Struct. Content"),
    ("cleanGraphics", "cleanGraphOpt", "Clean Graphics"),
)


def toCsv(path, edition, source):
    rows = json.load(open(path, encoding="utf-8"))
    unknown = {key for row in rows for key in row} - {key for _, key, _ in COLUMNS} - {"id"}
    if unknown:
        raise SystemExit(f"columns this tool does not know: {sorted(unknown)}")
    out = sys.stdout
    out.write(f"# DICOM PS3.15 Table E.1-1, Application Level Confidentiality Profile Attributes, edition {edition},\n")
    out.write(f"# as parsed by {source},\n# made into this file with tools/annexTableFromStandard.py.\n")
    out.write("# Actions as the standard writes them (X, Z, D, U, K, C and their combinations).\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([column for column, _, _ in COLUMNS])
    for row in sorted(rows, key=lambda row: row["name"].lower()):
        writer.writerow([row.get(key, "").strip() for _, key, _ in COLUMNS])


def toMarkdown(path):
    with open(path, encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(line for line in stream if not line.startswith("#")))
    print("| Attribute | Tag | Basic | Options |")
    print("|---|---|---|---|")
    for row in rows:
        options = ", ".join(f"{label}: {row[column]}" for column, _, label in COLUMNS if label and row[column])
        print(f"| {row['name']} | {row['tag']} | {row['basic'].replace('*', chr(92) + '*')} | {options} |")


if __name__ == "__main__":
    if sys.argv[1] == "--markdown":
        toMarkdown(sys.argv[2])
    else:
        toCsv(*sys.argv[1:4])
