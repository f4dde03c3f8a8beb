"""A stand-in for slicer.i18n (Base/Python/slicer/i18n.py, Slicer main 2026): tr(text) translates text in the
context of the file that calls it (the package name and the file name, "AnonymizeOnSaveGlue.saveDialogHook"), the
context lupdate gives the strings it extracts from that file. translations records each (context, text) asked."""

import os
import sys
import types

translations = []


def _context(sourceFile):
    """getContext: "<package>.<file>" when the file's folder has an __init__.py, else the file's name."""
    folder = os.path.dirname(sourceFile)
    name = os.path.basename(sourceFile).replace(".py", "")
    if os.path.isfile(os.path.join(folder, "__init__.py")):
        return os.path.basename(folder) + "." + name
    return name


def translate(context, text):
    translations.append((context, text))
    return text


def tr(text):
    return translate(_context(sys._getframe(1).f_code.co_filename), text)


def module():
    """The slicer.i18n module, installed in sys.modules and on the slicer package."""
    import slicer

    i18n = sys.modules.get("slicer.i18n")
    if i18n is None:
        i18n = types.ModuleType("slicer.i18n")
        i18n.tr, i18n.translate, i18n.getContext = tr, translate, _context
        sys.modules["slicer.i18n"] = i18n
        slicer.i18n = i18n
    return i18n
