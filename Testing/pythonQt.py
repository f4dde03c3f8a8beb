"""PySide6 made to behave like PythonQt, the Qt binding of Slicer's Python, where the two differ.

PythonQt (what Slicer's module code meets): a Qt property is an attribute, read and written as one
(``comboBox.currentIndex = 2``, ``action.objectName == "FileSaveSceneAction"``), and it hides a getter method of the
same name (``label.text`` is a string, ``label.text()`` fails); other methods, setters and getters of other names
(``setChecked``, ``isChecked()``) stay; a property that cannot be written raises; ``obj.connect("clicked()", slot)``
and ``obj.disconnect(...)`` take the signal's signature. Under plain PySide6 ``box.checked = True`` silently sets a
Python attribute and changes nothing: that forgiveness is what this layer removes. It applies to every QObject,
including those Qt itself creates (a menu's actions, found children), while the block runs, and is undone after.
"""

import contextlib
import sys
import types

from PySide6 import QtCore, QtGui, QtUiTools, QtWidgets


def _property(obj, name):
    if name.startswith("_"):
        return None
    metaObject = QtCore.QObject.metaObject(obj)
    index = metaObject.indexOfProperty(name)
    return metaObject.property(index) if index >= 0 else None


_ORIGINALS = {}  # PySide6 class -> its own __getattribute__ before the patch


def _original(obj):
    """The handler of the nearest PySide6 class of obj: a C slot applies only to instances of its own class."""
    for klass in type(obj).__mro__:
        if klass in _ORIGINALS:
            return _ORIGINALS[klass]
    raise TypeError(f"{type(obj).__name__} is not a Qt object")


def _plainSetattr(obj, name, value):
    """What object.__setattr__ does (a data descriptor of the class, else the instance's dictionary): the C slots
    cannot be applied to Python subclasses of a patched class."""
    for klass in type(obj).__mro__:
        attribute = klass.__dict__.get(name)
        if attribute is not None:
            if hasattr(type(attribute), "__set__"):
                type(attribute).__set__(attribute, obj, value)
                return
            break
    obj.__dict__[name] = value


_READING = set()  # (object, property) reads under way


def _getattribute(self, name):
    if name in _PYTHONQT_METHODS:
        return _PYTHONQT_METHODS[name].__get__(self)
    found = _property(self, name)
    key = (id(self), name)
    # A property read that reaches a virtual C++ getter (a cell widget's sizeHint) makes PySide6 look the name up
    # again, for a Python override: that inner lookup gets PySide6's own method, as it would without this layer.
    if found is not None and found.isReadable() and key not in _READING:
        _READING.add(key)
        try:
            return found.read(self)
        finally:
            _READING.discard(key)
    return _original(self)(self, name)


def _setattr(self, name, value):
    found = _property(self, name)
    if found is None:
        _plainSetattr(self, name, value)
    elif not found.write(self, value):
        raise AttributeError(f"property {name!r} of {type(self).__name__} cannot be set to {value!r}")


def _signalName(signature):
    return signature.split("(", 1)[0].strip()


def _connect(self, *arguments):
    """PythonQt: obj.connect("signal(args)", slot) -> bool; PySide6's own calls go to PySide6."""
    if len(arguments) != 2 or not isinstance(arguments[0], str):
        return _original(self)(self, "connect")(*arguments)
    signature, slot = arguments
    getattr(self, _signalName(signature)).connect(slot)
    return True


def _disconnect(self, *arguments):
    if len(arguments) != 2 or not isinstance(arguments[0], str):
        return _original(self)(self, "disconnect")(*arguments)
    signature, slot = arguments
    try:
        getattr(self, _signalName(signature)).disconnect(slot)
    except (RuntimeError, TypeError):
        return False
    return True


_PYTHONQT_METHODS = {"connect": _connect, "disconnect": _disconnect}


def _qobjectClasses():
    for module in (QtCore, QtGui, QtWidgets):
        for name in dir(module):
            klass = getattr(module, name)
            if isinstance(klass, type) and issubclass(klass, QtCore.QObject):
                yield klass


@contextlib.contextmanager
def pythonQtBehaviour():
    """Within the block every QObject class behaves as PythonQt's wrappers do; yields the ``qt`` namespace."""
    classes = list(_qobjectClasses())
    saved = [(klass, klass.__dict__.get("__getattribute__"), klass.__dict__.get("__setattr__")) for klass in classes]
    _ORIGINALS.update({klass: klass.__getattribute__ for klass in classes})  # before any patch
    try:
        for klass in classes:
            klass.__getattribute__ = _getattribute
            klass.__setattr__ = _setattr
        yield qtNamespace()
    finally:
        for klass, getter, setter in reversed(saved):
            for name, value in (("__getattribute__", getter), ("__setattr__", setter)):
                if value is None:
                    with contextlib.suppress(AttributeError, TypeError):
                        delattr(klass, name)
                else:
                    setattr(klass, name, value)
        _ORIGINALS.clear()


def qtNamespace():
    """The ``qt`` module PythonQt gives Slicer's Python: every Q class of QtCore, QtGui and QtWidgets."""
    qt = types.ModuleType("qt")
    for module in (QtCore, QtGui, QtWidgets, QtUiTools):
        for name in dir(module):
            if name.startswith("Q"):
                setattr(qt, name, getattr(module, name))
    qt.Qt = QtCore.Qt
    qt.SIGNAL = lambda signature: signature
    return qt


def installQtModule(qt):
    previous = sys.modules.get("qt")
    sys.modules["qt"] = qt
    return previous
