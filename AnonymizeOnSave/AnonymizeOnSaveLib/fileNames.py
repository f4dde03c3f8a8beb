"""File names as Slicer writes them, searched and cleaned as the text they stand for.

Slicer names data files after their nodes with ``vtkMRMLScene::PercentEncode``: letters, digits and
`` -_.,@#$%^&()[]{}<>+=`` are kept and any other byte is written as ``%`` and its value in lower-case hexadecimal,
a byte of a non-ASCII character (a negative char) as ``%ff`` and two digits: "Müller" is ``M%ffc3%ffbcller``, ":" is
``%3a``; names other software escaped as URLs do (``M%C3%BCller``) are decoded too. A name is searched decoded and
cleaned by replacing only the characters a value covers, so every other byte of the name stays as it was written.

A name longer than the limit (50 characters by default) is cut by ``vtkMRMLStorageNode::ClampFileName`` to a
prefix, ``_``, a 4-character hash and the extension: a value cut at the end of the prefix is recognised from its
first characters (at least 3, or whole tokens before the cut one) and replaced whole.
"""

import codecs
import re

_ESCAPE = re.compile(r"%ff([89a-f][0-9a-f])|%([1-7][0-9a-f])", re.IGNORECASE)
# A whole non-ASCII character as URLs escape it (%C3%BC): only a valid UTF-8 sequence is one ("95%Becker" is not).
_URL_CHARACTER = re.compile(
    r"%[cd][0-9a-f]%[89ab][0-9a-f]|%e[0-9a-f](?:%[89ab][0-9a-f]){2}|%f[0-4](?:%[89ab][0-9a-f]){3}", re.IGNORECASE
)
_CLAMPED = re.compile(r"(?P<prefix>[^/]{20,})_[A-Z0-9]{4}(?P<extension>(?:\.[A-Za-z0-9]+)*)")
_PARTIAL_ESCAPE = re.compile(r"%(?:ff?[0-9a-f]?)?$", re.IGNORECASE)
_BROKEN = "\ufffd"  # a character Slicer cut in two (names are cut to 50 characters): a separator, not a letter


def _pieces(name):
    """[(character, how the name writes it)], one per decoded character."""
    pieces, pending, position = [], "", 0
    decoder = codecs.getincrementaldecoder("utf-8")()

    def flush():
        nonlocal pending
        if pending:
            pieces.append((_BROKEN, pending))
            pending = ""
            decoder.reset()

    while position < len(name):
        url = _URL_CHARACTER.match(name, position)
        character = _urlCharacter(url.group(0)) if url else None
        if character is not None:
            flush()
            pieces.append((character, url.group(0)))
            position = url.end()
            continue
        match = _ESCAPE.match(name, position)
        if match and match.group(1):
            pending += match.group(0)
            try:
                character = decoder.decode(bytes((int(match.group(1), 16),)))
            except UnicodeDecodeError:
                flush()
            else:
                if character:
                    pieces.append((character, pending))
                    pending = ""
        else:
            flush()
            text = match.group(0) if match else name[position]
            pieces.append((chr(int(match.group(2), 16)) if match else text, text))
        position = match.end() if match else position + 1
    flush()
    return pieces


def _urlCharacter(escaped):
    """The character a URL escape sequence stands for; None when its bytes are no UTF-8 character."""
    try:
        return bytes(int(escaped[index + 1 : index + 3], 16) for index in range(0, len(escaped), 3)).decode("utf-8")
    except UnicodeDecodeError:
        return None


_ESCAPE_RUN = re.compile(r"(?:%ff[89a-f][0-9a-f])+|%([1-7][0-9a-f])", re.IGNORECASE)


def _decodedRun(match):
    if match.group(1):
        return chr(int(match.group(1), 16))
    run = match.group(0)
    return bytes(int(run[index + 3 : index + 5], 16) for index in range(0, len(run), 5)).decode("utf-8", "replace")


def decodeFileName(name):
    """name with Slicer's escapes decoded ("M%ffc3%ffbcller" -> "Müller"); a character cut in two reads as U+FFFD,
    a separator. (A run of escapes at a time: scene files are long, and most of their "%" are not escapes.)"""
    if "%" not in name:
        return name
    name = _URL_CHARACTER.sub(lambda match: _urlCharacter(match.group(0)) or match.group(0), name)
    return _ESCAPE_RUN.sub(_decodedRun, name)


def _clampedPrefix(name):
    """(start, end) of the prefix of a name cut by ClampFileName (the last path part), or None."""
    start = name.rfind("/") + 1
    match = _CLAMPED.fullmatch(name, start)
    return (start, match.end("prefix")) if match else None


def replaceInFileName(matcher, name):
    """name with every value the matcher knows replaced, written or escaped, a value cut short at a clamped
    name's end included; the rest kept byte for byte."""
    clamped = _clampedPrefix(name)
    if "%" not in name and clamped is None:
        return matcher.replace(name)
    pieces = _pieces(name)
    written = [text for _, text in pieces]
    decoded = "".join(character for character, _ in pieces)
    found = matcher.replacements(decoded)
    if clamped is not None:
        end = len(_pieces(name[: clamped[1]]))
        cut = _PARTIAL_ESCAPE.search(name, 0, clamped[1])  # the cut may fall inside an escape ("Jos%ffc")
        kept = len(_pieces(name[: cut.start()])) if cut else end
        tail = matcher.truncatedTail(decoded[:kept].rstrip(_BROKEN))  # or inside a character's escapes
        if tail is not None:  # the cut value replaces whole what it covers, a match of its first words included
            covered = [match for match in found if match[0] < end and tail[0] < match[1]]
            start = min([tail[0], *(match[0] for match in covered)])
            found = [match for match in found if match not in covered] + [(start, end, tail[1])]
    for start, end, replacement in sorted(found, reverse=True):
        written[start:end] = [replacement]
    return "".join(written)


def holdsValue(matcher, name):
    """Whether a file name holds a value the matcher knows, a value cut short at a clamped name's end included."""
    return replaceInFileName(matcher, name) != name
