"""What the binary-format readers share: a list of values, each a DATA Site (or a file name), written back by the
reader when one changed."""

from .. import profile
from ..planner import DATA, TEXT, Site
from ..policy import NO_PATIENT


class FormatError(ValueError):
    """A file that cannot be fully decoded as its format; the message names the format, never a value."""


class _Handle:
    __slots__ = ("index", "surface")

    def __init__(self, surface, index):
        self.surface, self.index = surface, index

    def read(self):
        return self.surface.value(self.index)

    def write(self, value):
        self.surface.newValues[self.index] = value or ""


class ValueSurface:
    """values: the decoded strings; places: where each one is; fileNames: the indexes that are file names (the
    planner cleans them as file names, so they follow the files they name)."""

    def __init__(self):
        self.values, self.places, self.newValues, self.fileNames = [], [], {}, set()
        self.otherText = []  # text read that no Site holds: searched, and nothing here can clean it
        self.labels = {}  # value index -> the DICOM keyword its column's name stands for (profile.keywordForLabel)

    def add(self, value, place, fileName=False):
        if fileName:
            self.fileNames.add(len(self.values))
        self.values.append(value)
        self.places.append(place)
        return len(self.values) - 1

    def value(self, index):
        return self.newValues.get(index, self.values[index])

    def isChanged(self, index):
        return self.newValues.get(index, self.values[index]) != self.values[index]

    @property
    def changed(self):
        return any(self.isChanged(index) for index in self.newValues)

    def sites(self, place="", context=NO_PATIENT):
        return [
            Site(TEXT, profile.FILE_NAMES, value, f"{place}{self.places[index]}", context, _Handle(self, index))
            if index in self.fileNames
            else Site(
                DATA,
                profile.DATA_TEXT,
                value,
                f"{place}{self.places[index]}",
                context,
                _Handle(self, index),
                self.labels.get(index),
            )
            for index, value in enumerate(self.values)
        ]

    def searchedText(self):
        """Every value and every other piece of text the file holds, for the check after a save."""
        return "\n".join([*self.values, *self.otherText])

    def uncleanableText(self):
        """The text read that no Site holds (a value found there cannot be cleaned)."""
        return "\n".join(self.otherText)
