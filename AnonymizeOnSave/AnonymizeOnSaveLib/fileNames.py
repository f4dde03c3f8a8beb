"""File names as Slicer writes them, searched and cleaned as the text they stand for.

Slicer names data files after their nodes with ``vtkMRMLScene::PercentEncode``: letters, digits and
`` -_.,@#$%^&()[]{}<>+=`` are kept and any other byte is written as ``%`` and its value in lower-case hexadecimal,
a byte of a non-ASCII character (a negative char) as ``%ff`` and two digits: "Müller" is ``M%ffc3%ffbcller``, ":" is
``%3a``. A name is searched decoded and cleaned by replacing only the characters a value covers, so every other
byte of the name stays as it was written.
"""

import codecs
import re

_ESCAPE = re.compile(r"%ff([89a-f][0-9a-f])|%([1-7][0-9a-f])", re.IGNORECASE)
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


def decodeFileName(name):
    """name with Slicer's escapes decoded ("M%ffc3%ffbcller" -> "Müller")."""
    return "".join(character for character, _ in _pieces(name)) if "%" in name else name


def replaceInFileName(matcher, name):
    """name with every value the matcher knows replaced, written or escaped; the rest kept byte for byte."""
    if "%" not in name:
        return matcher.replace(name)
    pieces = _pieces(name)
    written = [text for _, text in pieces]
    for start, end, replacement in matcher.replacements("".join(character for character, _ in pieces)):
        written[start:end] = [replacement]
    return "".join(written)
