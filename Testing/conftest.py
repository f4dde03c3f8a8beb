"""Fixtures the tests that run the module in the stand-in Slicer share (slicerApplication.py)."""

import pytest


@pytest.fixture(scope="module")
def qtApplication():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


@pytest.fixture
def app(qtApplication, tmp_path, monkeypatch):
    """The stand-in Slicer, with no policy from the environment and the audit log in the test's folder."""
    from slicerApplication import slicerApplication

    monkeypatch.delenv("SLICER_ANONYMIZE_ON_SAVE", raising=False)
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    with slicerApplication(str(tmp_path)) as application:
        yield application
