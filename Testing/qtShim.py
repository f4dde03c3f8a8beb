"""A module named ``qt`` built from PySide6, standing in for the namespace PythonQt gives Slicer's Python."""

import sys
import types


def installQtShim():
    from PySide6 import QtCore, QtGui, QtWidgets

    qt = types.ModuleType("qt")
    for module in (QtCore, QtGui, QtWidgets):
        for name in dir(module):
            if name.startswith("Q"):
                setattr(qt, name, getattr(module, name))
    qt.Qt = QtCore.Qt
    sys.modules["qt"] = qt
    return qt
