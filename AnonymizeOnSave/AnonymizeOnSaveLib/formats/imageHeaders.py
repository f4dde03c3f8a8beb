"""Image and mesh formats whose bodies are numbers: only their text is read (the check after a save searches it).

NRRD and MetaImage headers to their end (MetaImage's ElementDataFile line included: it names the data file, or
the list of them), NIfTI-1 and -2 headers with their extensions up to the voxel offset (inflating a .nii.gz no
further), PLY headers, STL headers (an ASCII STL whole), PNG text chunks (tEXt, zTXt, iTXt) and any chunk that is
not image data.
Voxel bodies (NRRD, MetaImage .raw/.zraw, NIfTI), PNG image data (IDAT) and PLY/STL vertex lists hold numbers and
are not inflated. A file that claims one of these formats and does not parse as it is a FormatError.
"""

import struct
import zlib

from . import metaImageHeader
from .rawBytes import rawText
from .surface import FormatError

HEADER_BYTES = 1 << 16
_ENDS = {(".nrrd", ".nhdr"): (b"\n\n", b"\r\n\r\n"), (".ply",): (b"end_header",)}
VOXEL_BODIES = (".raw", ".zraw", ".raw.gz", ".img", ".img.gz")  # detached image data: numbers
_PNG = b"\x89PNG\r\n\x1a\n"
_PNG_IMAGE = (b"IDAT", b"IHDR", b"PLTE", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"pHYs", b"bKGD", b"sBIT")


def _until(readStart, ends):
    size = HEADER_BYTES
    while True:
        data = readStart(size)
        positions = [data.find(end) for end in ends if data.find(end) != -1]
        if positions or len(data) < size:
            return data[: min(positions)] if positions else data
        size *= 4


def _metaImage(readStart):
    return metaImageHeader.splitHeader(readStart(metaImageHeader.MAX_HEADER_BYTES))[0]


def _nifti(readStart, compressed):
    head = readStart(HEADER_BYTES)
    if compressed:
        try:
            head = zlib.decompressobj(31).decompress(readStart(HEADER_BYTES), HEADER_BYTES)
        except zlib.error:
            raise FormatError("a .nii.gz file cannot be inflated") from None
    for order in "<>":
        if len(head) >= 4 and struct.unpack(order + "i", head[:4])[0] in (348, 540):
            size = struct.unpack(order + "i", head[:4])[0]
            offset = (
                struct.unpack(order + "f", head[108:112])[0]
                if size == 348
                else struct.unpack(order + "q", head[168:176])[0]
            )
            offset = max(int(offset), size)
            if offset > len(head):
                head = _niftiStart(readStart, compressed, offset)
            return head[:offset]
    raise FormatError("a NIfTI file has no NIfTI header")


def _niftiStart(readStart, compressed, size):
    if not compressed:
        return readStart(size)
    try:
        return zlib.decompressobj(31).decompress(readStart(size + HEADER_BYTES), size)
    except zlib.error:
        raise FormatError("a .nii.gz file cannot be inflated") from None


def _png(data):
    if not data.startswith(_PNG):
        raise FormatError("a PNG file has no PNG signature")
    pieces, position = [], len(_PNG)
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if len(body) < length:
            raise FormatError("a PNG file ends inside a chunk")
        position += 12 + length
        if kind == b"IEND":
            break  # what follows is no chunk: read as bytes below
        try:
            if kind == b"tEXt":
                pieces.append(body.decode("latin-1"))
            elif kind == b"zTXt":
                key, _, rest = body.partition(b"\0")
                pieces.append(key.decode("latin-1") + " " + zlib.decompress(rest[1:]).decode("latin-1"))
            elif kind == b"iTXt":
                key, _, rest = body.partition(b"\0")
                compressed, rest = rest[0], rest[2:]
                language, _, rest = rest.partition(b"\0")
                translated, _, text = rest.partition(b"\0")
                text = zlib.decompress(text) if compressed else text
                pieces.append(b" ".join((key, language, translated, text)).decode("utf-8", "replace"))
            elif kind not in _PNG_IMAGE:
                pieces.append(rawText(body))
        except (zlib.error, IndexError):
            raise FormatError("a PNG text chunk cannot be read") from None
    pieces.append(rawText(data[position:]))  # bytes after the image's end, or after the last whole chunk
    return "\n".join(pieces)


def headerText(name, readStart, readAll):
    """The text of an image or mesh file whose body is numbers, or None when name is not one of those formats.
    readStart(size): the first size bytes; readAll(): all of them."""
    lower = name.lower()
    for suffixes, ends in _ENDS.items():
        if lower.endswith(suffixes):
            return _until(readStart, ends).decode("utf-8", "replace")
    if lower.endswith((".mha", ".mhd")):
        return _metaImage(readStart).decode("utf-8", "replace")
    if lower.endswith((".nii", ".nii.gz", ".hdr")):
        return rawText(_nifti(readStart, lower.endswith(".gz")))
    if lower.endswith(".stl"):
        start = readStart(1024)
        whole = start.lstrip().startswith(b"solid") and b"facet" in start
        return (readAll() if whole else start[:80]).decode("latin-1")
    if lower.endswith(".png"):
        return _png(readAll())
    if lower.endswith(VOXEL_BODIES):
        return ""
    return None
