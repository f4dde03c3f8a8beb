"""The folder where vtkMRMLScene::WriteToMRB stages a bundle: a new "_tmp<date><random>" folder in the cache
manager's remote cache folder, removed after a successful write and left behind, whole, when the write fails."""

import os

from .sceneFiles import removePath


class StagingFolders:
    """The staging folders present when created; remove() removes any new one."""

    def __init__(self, scene):
        dataIO = scene.GetDataIOManager()
        cacheManager = dataIO.GetCacheManager() if dataIO is not None else None
        self.cache = cacheManager.GetRemoteCacheDirectory() if cacheManager is not None else None
        self.before = set(os.listdir(self.cache)) if self.cache and os.path.isdir(self.cache) else None

    def remove(self):
        if self.before is None:
            return
        for name in set(os.listdir(self.cache)) - self.before:
            if name.startswith("_tmp"):
                removePath(os.path.join(self.cache, name))
