"""A scene saved as a folder keeps its scene file's name when the folder is renamed ("case01/2026-11-25-Scene.mrml",
Data/ beside it), as people do before sharing: the file tool still reads it as one scene, so the data files' typed
values are found from the scene's own values, and the folder comes out clean."""

import io
import os

from everyPlaceScene import buildSceneWithPhiEverywhere
from hospitalScenes import leaks

from AnonymizeOnSaveLib import saveScene
from AnonymizeOnSaveLib.__main__ import main


def _run(*arguments):
    out, err = io.StringIO(), io.StringIO()
    return main(list(arguments), out=out, err=err), out.getvalue()


def test_a_renamed_bundle_folder_is_scanned_and_cleaned_as_one_scene(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZE_ON_SAVE_KEY", "renamed-folder-key")
    scene, values = buildSceneWithPhiEverywhere()
    share = tmp_path / "share"
    share.mkdir()
    assert saveScene(scene, str(share / "2026-11-25-Scene"), anonymize=False)
    os.rename(share / "2026-11-25-Scene", share / "case01")
    assert any("Data" in place for place, _ in leaks(str(share / "case01"), values))  # typed into data files

    code, out = _run("scan", str(share))
    assert code == 1 and "skipped" not in out
    assert _run("clean", str(share), "-o", str(tmp_path / "clean"))[0] == 0
    assert leaks(str(tmp_path / "clean" / "case01"), values) == []
    assert _run("clean", str(share), "--in-place")[0] == 0
    assert leaks(str(share), values) == []
