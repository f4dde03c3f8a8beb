"""Thin glue between AnonymizeOnSaveLib and Slicer's application: settings, the Save dialog, slicer.util.saveScene.

Written against the ``qt`` namespace PythonQt provides in Slicer (``signal.connect(slot)``, ``isChecked()``), so
the same code runs under PySide6 in the tests, where a shim module named ``qt`` stands in.
"""
