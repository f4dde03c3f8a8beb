"""A module named ``qt`` built from PySide6, standing in for the namespace PythonQt gives Slicer's Python."""

import sys
import types


def installQtShim():
    """Also installs the slicer.i18n stand-in the glue translates with."""
    import slicerI18n
    from PySide6 import QtCore, QtGui, QtWidgets

    slicerI18n.module()

    qt = types.ModuleType("qt")
    for module in (QtCore, QtGui, QtWidgets):
        for name in dir(module):
            if name.startswith("Q"):
                setattr(qt, name, getattr(module, name))
    qt.Qt = QtCore.Qt
    sys.modules["qt"] = qt
    return qt
