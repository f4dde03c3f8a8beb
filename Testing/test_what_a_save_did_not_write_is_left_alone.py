"""A file saved moments before a save starts is told apart by its content; when the save does not write it (the user
answered No) and the check runs seconds later, it is still seen as unchanged: never searched, cleaned or removed."""

import time

from AnonymizeOnSaveLib import saveOutputs


def test_a_file_saved_just_before_and_not_written_is_unchanged_seconds_later(tmp_path, monkeypatch):
    working = tmp_path / "working.mrml"
    working.write_text("<MRML/>")  # a plain save a moment ago
    outputs = saveOutputs.SaveOutputs(str(working))
    assert outputs.before[str(working)][3] is not None  # recent: its content was read
    later = time.time() + 30
    monkeypatch.setattr(saveOutputs.time, "time", lambda: later)  # the user thought a while before answering No
    assert outputs.written() == []
    working.write_text("<MRML></MRML>")
    assert outputs.written() == [str(working)]
