"""The scene thumbnail: a picture of Slicer's whole layout, replaced by a neutral one in anonymized output.

Slicer's Save dialog passes a grab of the layout (ctk::grabVTKWidget of the viewport: slice controller bars with
node names, view labels, corner annotations) as the "screenShot" of the scene writer. It is written as
<name>/<name>.png inside an .mrb (vtkMRMLScene::WriteToMRB), <folder>/<folder>.png in a directory bundle
(SaveSceneToSlicerDataBundleDirectory) and <scene>.png beside a .mrml (vtkMRMLScene::SaveSceneScreenshot). No reader
here can tell whether pixels spell a name, so an anonymized save never keeps that picture: it becomes a flat grey
image of the same size.
"""

import os
import struct
import zlib

from .sceneFiles import replaceWithTemporary
from .zipBundle import BundleWriter, openBundle

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_GREY = 0x80
_LARGEST_SIDE = 8192  # a grab is the size of the screen; a damaged header's size is not trusted beyond this


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def neutralPng(width, height):
    """A flat grey 8-bit RGB PNG of width x height."""
    row = b"\x00" + bytes([_GREY]) * (3 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(row * height, 9)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def _size(data):
    """(width, height) from a PNG header, bounded; (1, 1) when the header cannot be read."""
    if data[:8] == _SIGNATURE and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        if 0 < width <= _LARGEST_SIDE and 0 < height <= _LARGEST_SIDE:
            return width, height
    return 1, 1


def thumbnailPaths(sceneFile):
    """Where a save to sceneFile writes the thumbnail: (file or None, zip entry or None)."""
    name = os.path.basename(sceneFile.rstrip(os.sep))
    base, suffix = os.path.splitext(name)
    if suffix.lower() == ".mrml":
        return os.path.splitext(sceneFile)[0] + ".png", None
    if suffix.lower() == ".mrb":
        return None, f"{base}/{base}.png"
    return os.path.join(sceneFile, name + ".png"), None


def neutralizeFile(path):
    """Replace the PNG at path by a neutral one of its size; True when there was one."""
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as stream:
        width, height = _size(stream.read(24))
    with replaceWithTemporary(path) as temporary, open(temporary, "wb") as output:
        output.write(neutralPng(width, height))
    return True


def neutralizeInBundle(path, entry):
    """Rewrite the .mrb at path with its thumbnail entry neutral (every other entry copied as it is); True when
    it had one."""
    with open(path, "rb") as source, openBundle(source) as archive:
        infos = archive.infolist()
        if not any(info.filename == entry for info in infos):
            return False
        with replaceWithTemporary(path) as temporary, open(temporary, "wb") as output:
            writer = BundleWriter(archive, source, output)
            for info in infos:
                if info.filename == entry:
                    with archive.open(info) as stream:
                        size = _size(stream.read(24))
                    writer.write(info, entry, [neutralPng(*size)])
                else:
                    writer.copy(info)
            writer.finish()
    return True


def neutralizeThumbnail(sceneFile):
    """Replace the thumbnail a save to sceneFile wrote, if any; True when one was replaced."""
    path, entry = thumbnailPaths(sceneFile)
    if entry is not None:
        return os.path.isfile(sceneFile) and neutralizeInBundle(sceneFile, entry)
    return neutralizeFile(path)
