"""What a scene save may write, as it was before the save: to check only what the save wrote, and to remove what a
failed save added. A file the save did not write is never searched, cleaned or removed."""

import hashlib
import logging
import os
import time

from .sceneFiles import removePath
from .session import MRML, sceneFileKind
from .thumbnails import neutralizeFile, neutralizeThumbnail
from .verify import VerificationError

_RECENT_SECONDS = 2.0  # file times tick coarsely: a file written this recently is also told apart by its content
_DIGEST_LIMIT = 64 << 20


def sceneOutputs(fileName):
    """The paths a save to fileName writes: the file or bundle folder; for .mrml also the folder Commit writes
    hidden nodes' data to (vtkMRMLScene::SavePrivateStorableNodes) and the screenshot beside it
    (vtkMRMLScene::SaveSceneScreenshot)."""
    if sceneFileKind(fileName) != MRML:
        return [fileName]
    base = os.path.splitext(fileName)[0]
    return [fileName, base + "_Private", base + ".png"]


def _digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.digest()


def signature(path, now=None, content=None):
    """What tells that path changed: None when there is none; for a folder every entry below it; for a file its
    identity, size and time, and its content when it was written in the last moments (same size, same tick).
    content: True or False to read the content or not whatever the file's time (to compare with an earlier one)."""
    if not os.path.lexists(path):
        return None
    if os.path.isdir(path) and not os.path.islink(path):
        entries = []
        for folder, folders, files in os.walk(path):
            for name in folders + files:
                entry = os.path.join(folder, name)
                status = os.lstat(entry)
                entries.append((os.path.relpath(entry, path), status.st_size, status.st_mtime_ns))
        return frozenset(entries)
    status = os.lstat(path)
    if content is None:
        recent = (now or time.time()) - status.st_mtime < _RECENT_SECONDS
        content = recent and os.path.isfile(path) and status.st_size <= _DIGEST_LIMIT
    return (status.st_ino, status.st_size, status.st_mtime_ns, _digest(path) if content else None)


class SaveOutputs:
    """The outputs of a save to fileName as they were when it was created."""

    def __init__(self, fileName):
        self.fileName = fileName
        now = time.time()
        self.before = {path: signature(path, now) for path in sceneOutputs(fileName)}
        self.entries = {path: set(os.listdir(path)) for path, was in self.before.items() if isinstance(was, frozenset)}

    def written(self):
        """The outputs that exist and changed since."""
        return [path for path in self.before if self._changed(path)]

    def _changed(self, path):
        """Compared as it was read before: with its content only when that was read then."""
        before = self.before[path]
        content = isinstance(before, tuple) and before[3] is not None
        return os.path.lexists(path) and signature(path, content=content) != before

    def added(self, path):
        """The entries of a folder that were not there before (every one, when the folder is new)."""
        return sorted(set(os.listdir(path)) - self.entries.get(path, set()))

    def check(self, session, reported=()):
        """Search what the save wrote (what changed, and reported: files its writer said it saved) for the session's
        values, cleaning it or removing it (VerificationError); a thumbnail it wrote becomes neutral. Returns the
        places where a value was found before cleaning."""
        written = set(self.written()) | {os.path.abspath(path) for path in reported}
        found = []
        for path in self.before:
            if path not in written or not os.path.lexists(path):
                continue
            if path.endswith(".png"):
                neutralizeFile(path)
                continue
            if path == self.fileName:
                neutralizeThumbnail(path)
            found += session.verify(path)
        return found

    def removeFailed(self, session):
        """After a failed write: what it created goes (in a folder that was there, the entries it added); a file or
        folder it changed is searched for the session's values and cleaned, or removed."""
        for path, before in self.before.items():
            if before is None:
                removePath(path)
                continue
            if isinstance(before, frozenset) and self._changed(path):
                for name in self.added(path):
                    removePath(os.path.join(path, name))
            if session is not None and self._changed(path):
                try:
                    session.verify(path)
                except VerificationError as error:
                    logging.error("After the failed save: %s", error)
