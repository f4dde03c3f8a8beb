"""The test oracle: every value a test put in, looked for in every byte a save or the file tool wrote, through every
layer a byte may be wrapped in. It shares no code with the anonymizer and knows no file format's structure beyond
what a hex dump shows: it peels generic layers until none is left.

Layers: file and folder names; zip archives (the archive comment, each entry's name, comment and extra fields,
content); gzip and zlib streams starting anywhere in a file; base64 runs (whole, and split where padding ends one
encoding and the next begins: VTK writes a header and its data as two); runs of decimal byte values, signed or
not (VTK XML ascii arrays); SQLite databases (every table, column, cell and schema, read with sqlite3); UTF-16 in
either byte order; Latin-1 when not UTF-8; XML character references and entities; JSON \\u escapes. Each decoded
text is searched, folded (case and accents), for every spelling of every value (hospitalScenes.spellings)."""

import base64
import binascii
import html
import io
import os
import re
import sqlite3
import tempfile
import unicodedata
import zipfile
import zlib

_STREAM = re.compile(rb"\x1f\x8b\x08|\x78[\x01\x5e\x9c\xda]")
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]{16,}={0,2}(?:[A-Za-z0-9+/]+={0,2})*")
_DECIMAL_BYTES = re.compile(rb"(?:(?<![0-9.])-?(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\s+){4,}")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
MAX_DEPTH = 6


def fold(text):
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _texts(data):
    """The readings of raw bytes as text."""
    text = data.decode("utf-8", "replace")
    readings = [text, html.unescape(text)]
    if "\ufffd" in text:  # not UTF-8: as a single-byte encoding (Slicer 4 declared ISO-8859-1)
        readings.append(data.decode("latin-1"))
    if "\\u" in text:
        readings.append(_JSON_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text))
    if data.count(b"\0") > len(data) // 8:
        readings += [data.decode("utf-16-le", "replace"), data[1:].decode("utf-16-le", "replace")]
    return readings


def _streams(data):
    for match in _STREAM.finditer(data):
        inflater = zlib.decompressobj(31 if data[match.start()] == 0x1F else 15)
        try:
            inflated = inflater.decompress(data[match.start() :])
        except zlib.error:
            continue
        if inflated:
            yield inflated


def _base64(data):
    for match in _BASE64_RUN.finditer(data):
        run = match.group()
        pieces = [run, *re.findall(rb"[A-Za-z0-9+/]+={1,2}|[A-Za-z0-9+/]+$", run)]
        for piece in pieces:
            try:
                yield base64.b64decode(piece + b"=" * (-len(piece) % 4))
            except (binascii.Error, ValueError):
                continue


def _decimalBytes(data):
    for match in _DECIMAL_BYTES.finditer(data + b" "):
        yield bytes(int(word) & 0xFF for word in match.group().split())  # a signed char written as -61


def _sqlite(data):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "copy.db")
        with open(path, "wb") as stream:
            stream.write(data)
        connection = sqlite3.connect(path)
        try:
            rows = connection.execute("SELECT name, sql FROM sqlite_master").fetchall()
            texts = [f"{name} {sql}" for name, sql in rows]
            for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                cursor = connection.execute(f'SELECT * FROM "{table}"')
                texts.append(" ".join(column[0] for column in cursor.description))
                texts += [" ".join(str(cell) for cell in row) for row in cursor.fetchall()]
            return "\n".join(texts)
        finally:
            connection.close()


def decoded(place, data, depth=0):
    """(place, text) for every reading of data and of every layer inside it."""
    for text in _texts(data):
        yield place, text
    if depth >= MAX_DEPTH:
        return
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            yield f"{place} (zip comment)", archive.comment.decode("utf-8", "replace")
            for info in archive.infolist():
                yield f"{place}!{info.filename} (name)", info.filename
                yield f"{place}!{info.filename} (entry comment)", info.comment.decode("utf-8", "replace")
                yield from decoded(f"{place}!{info.filename} (extra field)", info.extra, depth + 1)
                yield from decoded(f"{place}!{info.filename}", archive.read(info), depth + 1)
        return
    if data.startswith(b"SQLite format 3\x00"):
        yield f"{place} (tables)", _sqlite(data)
    for index, inflated in enumerate(_streams(data)):
        yield from decoded(f"{place} (stream {index})", inflated, depth + 1)
    for index, raw in enumerate(_base64(data)):
        yield from decoded(f"{place} (base64 {index})", raw, depth + 1)
    for index, raw in enumerate(_decimalBytes(data)):
        yield f"{place} (decimal bytes {index})", raw.decode("utf-8", "replace")


def blobs(path):
    """(place, decoded text) for every file and folder name and every layer of every file under path."""
    if os.path.isfile(path):
        files, names = [path], [os.path.basename(path)]
    else:
        files, names = [], []
        for folder, folders, fileNames in os.walk(path):
            for name in folders + fileNames:
                names.append(os.path.relpath(os.path.join(folder, name), os.path.dirname(path)))
            files += [os.path.join(folder, name) for name in fileNames]
    for name in names:
        yield f"{name} (name)", name
    for fileName in files:
        with open(fileName, "rb") as stream:
            yield from decoded(fileName, stream.read())
