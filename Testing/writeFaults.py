"""Faults in the values a live strip and its restore write, whichever way they write them: through a Site's handle
(nodes, storage nodes, text Sites) or through a subject hierarchy item's kept plan (sceneItemPlans.ItemWrites, which
writes through its handle kind's put, as the handles themselves do)."""

from AnonymizeOnSaveLib import sceneSites, session
from AnonymizeOnSaveLib.planner import Site

ITEM_KINDS = (sceneSites._ItemAttribute, sceneSites._ItemUid, sceneSites._ItemName)


def beforeEveryWrite(monkeypatch, hook):
    """Call hook(value) before every value a strip or a restore writes, once a value; it may raise."""

    class Hooked:
        def __init__(self, handle):
            self.handle = handle
            self.node = getattr(handle, "node", None)
            self.readBack = getattr(handle, "readBack", True)

        def read(self):
            return self.handle.read()

        def write(self, value):
            hook(value)
            self.handle.write(value)

    def hooked(realPut):
        def put(sh, item, name, value):
            hook(value)
            realPut(sh, item, name, value)

        return staticmethod(put)

    for kind in ITEM_KINDS:  # (an item handle's write calls its put: counted there, once)
        monkeypatch.setattr(kind, "put", hooked(kind.put))
    realSites = session._plannedSites

    def plannedSites(scene, policy):
        sites, itemWrites = realSites(scene, policy)
        for site in sites:
            if isinstance(site, Site) and type(site.handle) not in ITEM_KINDS:
                site.handle = Hooked(site.handle)
        return sites, itemWrites

    monkeypatch.setattr(session, "_plannedSites", plannedSites)


def withoutSites(monkeypatch, isLeftOut):
    """Make the live strip miss the Sites isLeftOut(site) chooses, as a surface we do not know yet would."""
    realSites = session._plannedSites

    def plannedSites(scene, policy):
        sites, itemWrites = realSites(scene, policy)
        return [site for site in sites if not (isinstance(site, Site) and isLeftOut(site))], itemWrites

    monkeypatch.setattr(session, "_plannedSites", plannedSites)
