"""DICOM PS3.15 Table E.1-1 as data (annexE.csv): the action the profile and its options give each attribute.

Codes as the standard writes them: X remove, Z empty, D dummy, U new UID, K keep, C clean. Where the table leaves the
choice to the IOD (X/Z, X/D, Z/D, X/Z/D, X/Z/U*), the form that keeps any IOD conformant is taken: Z over X, D over
Z, U for X/Z/U*. An option, when chosen, overrides the profile (PS3.15 E.1.1). Masked rows (50xx,xxxx) and
(60xx,3000/4000) cover every group of their range; private attributes are removed unless Retain Safe Private is
chosen, and then cleaned.
"""

import csv
import functools
import os

from .. import profile

SAFE_PRIVATE = "safePrivate"  # Retain Safe Private Option: private attributes kept, their text cleaned

# The table's option columns, by the retain option of the policy that chooses them (in the order they apply).
OPTION_COLUMNS = (
    (profile.UIDS_OPTION, "retainUids"),
    (profile.DEVICE_IDENTITY, "retainDeviceIdentity"),
    (profile.PATIENT_CHARACTERISTICS, "retainPatientCharacteristics"),
    (profile.LONGITUDINAL_DATES, "retainLongitudinalModifiedDates"),
    (profile.DESCRIPTIONS_OPTION, "cleanDescriptors"),
    (SAFE_PRIVATE, "retainSafePrivate"),
)
_CHOSEN = {"X/Z": "Z", "X/D": "D", "Z/D": "D", "X/Z/D": "D", "X/Z/U*": "U", "X/Z/U\\*": "U"}
_PRIVATE_ROW = "(GGGG,EEEE) WHERE GGGG IS ODD"
TABLE_FILE = os.path.join(os.path.dirname(__file__), "annexE.csv")


@functools.lru_cache(maxsize=1)
def rows():
    """tag (an int, or a (mask, value) pair for a masked row) -> the table's row (a dict of its columns)."""
    exact, masked, private = {}, [], None
    with open(TABLE_FILE, encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(line for line in stream if not line.startswith("#")):
            if row["tag"] == _PRIVATE_ROW:
                private = row
                continue
            group, element = row["tag"].strip("()").split(",")
            if "X" in group + element:
                mask = int("".join("0" if c == "X" else "F" for c in group + element), 16)
                masked.append((mask, int(group.replace("X", "0") + element.replace("X", "0"), 16), row))
            else:
                exact[int(group + element, 16)] = row
    return exact, masked, private


def rowFor(tag):
    """The table's row for a tag (an int), or None for an attribute the table does not list."""
    exact, masked, private = rows()
    if tag in exact:
        return exact[tag]
    if (tag >> 16) % 2:
        return private
    return next((row for mask, value, row in masked if tag & mask == value), None)


def actionFor(row, retain):
    """The action code (X, Z, D, U, K or C) a row gives under the chosen retain options."""
    for option, column in OPTION_COLUMNS:
        if option in retain and row[column]:
            return _CHOSEN.get(row[column], row[column])
    return _CHOSEN.get(row["basic"], row["basic"])
