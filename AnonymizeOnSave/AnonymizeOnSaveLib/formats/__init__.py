"""Readers of the binary file formats Slicer writes data in, one per format: each decodes every value a person may
have typed (array and segment names, string arrays, table cells), lists them as Sites and writes them back, and
gives the rest of its text for the check after a save. A file a reader cannot fully decode raises FormatError: it
is never reported clean. Text formats (scene files, NRRD headers, JSON, tables) have their readers beside the
planner (mrmlText, nrrdHeader, dataFiles)."""

from .surface import FormatError

__all__ = ["FormatError"]
