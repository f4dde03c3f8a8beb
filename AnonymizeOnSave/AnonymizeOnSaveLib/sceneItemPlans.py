"""The live design's kept plans of subject hierarchy items: a scene saved again plans again only the items whose
values changed since the last save under the same policy.

Each item is read once (level, name, attributes, UIDs, patient context: the key of its plan). An item whose key was
planned by the last collection takes that plan; another one is planned by the one planner (its Sites through
decideRules) and its plan kept, compact: each change as (handle kind, name, new value, original), the values it
replaces for the matcher, its counts per category, and the Sites left to search in text, without handles. The
surface gives the planner a Decided per item (counts, values, text Sites with live handles) and the session an
ItemWrites per item, which writes and puts back the item's changes itself: no Site, handle or Change per value.
Only the last collection's plans are kept (the largest hierarchy saved bounds the memory).
"""

from .planner import DATA, Decided, Site, decideRules, itemSites
from .sceneSites import _Hierarchy, _ItemAttribute, _ItemName, _ItemUid, _sceneNodeSites, subjectHierarchyNode

_KINDS = (_ItemAttribute, _ItemUid, _ItemName)  # a plan names a handle kind by its index (a number: no object the
_KIND_OF = {kind: index for index, kind in enumerate(_KINDS)}  # cycle collector visits)

_kept = [None, {}]  # the fingerprint of the policy of the last collection, and item key -> its plan


class ItemWrites:
    """The changes of one item, written and put back without a handle per value."""

    __slots__ = ("item", "node", "writes")

    def __init__(self, sh, item, writes):
        self.node, self.item, self.writes = sh, item, writes  # writes: (kind, name, new value, original)

    def apply(self):
        sh, item = self.node, self.item
        for kind, name, new, _ in self.writes:
            _KINDS[kind].put(sh, item, name, new)

    def restore(self, failed):
        """Put back every value (those not yet written too: a write interrupted half-way); the places that
        failed are appended to failed."""
        sh, item = self.node, self.item
        for kind, name, _, original in reversed(self.writes):
            handle = _KINDS[kind]
            try:
                handle.put(sh, item, name, original)
                if handle.readBack and handle.get(sh, item, name) != original:
                    failed.append(self.placeOf(kind, name))
            except Exception:
                failed.append(self.placeOf(kind, name))

    @property
    def place(self):
        return f"subject hierarchy item {self.item}"

    def placeOf(self, kind, name):
        return f"{self.place} {_WHAT[kind].format(name)}"  # (as itemSites names the place)


_WHAT = ("attribute {}", "UID {}", "name")


def collectPlannedSites(scene, policy):
    """What collectSites gives, each subject hierarchy item as a Decided (its kept plan, or a new one), and the
    ItemWrites of the items that change: (sites, item writes)."""
    hierarchy = _Hierarchy(scene, subjectHierarchyNode(scene))
    fingerprint = policy.fingerprint()
    kept = _kept[1] if _kept[0] == fingerprint else {}
    planned, sites, writes = {}, [], []
    for item in hierarchy.items:
        context = hierarchy.contextOf(item.item, item.level)
        attributes, uids = item.values()
        key = (item.level, item.name(), attributes, uids, context.key, context.deidentifiedOptions)
        plan = planned.get(key) or kept.get(key)
        if plan is None:
            plan, decided = _plan(item, context, policy)
        else:
            decided = _decided(plan[1], hierarchy.sh, item.item, context)
        planned[key] = plan
        sites.append(decided)
        if plan[0]:  # (writes)
            writes.append(ItemWrites(hierarchy.sh, item.item, plan[0]))
    _kept[:] = [fingerprint, planned]
    sites += _sceneNodeSites(scene, hierarchy)
    return sites, writes


def _plan(item, context, policy):
    """(plan, Decided) of an item: what decideRules makes of its Sites, compact (writes, then the Decided the planner
    reads, or with the Sites it left to search described without handles), and the Decided for this save (those
    Sites as they are)."""
    place = f"subject hierarchy item {item.item}"
    decided = decideRules(list(itemSites(item, place, context)), policy)
    writes, counts = [], {}
    for change in decided.changes:
        handle = change.site.handle
        writes.append((_KIND_OF[type(handle)], handle.name, change.value, change.site.value))
        counts[change.category] = counts.get(change.category, 0) + 1
    kept = Decided()
    kept.found, kept.reused = tuple(decided.found), tuple(counts.items())
    if not decided.textSites and not decided.dataSites:
        return (tuple(writes), kept), kept
    left = tuple([_described(site, len(place)) for site in decided.textSites + decided.dataSites])
    now = Decided()
    now.found, now.reused, now.textSites, now.dataSites = kept.found, kept.reused, decided.textSites, decided.dataSites
    return (tuple(writes), (kept, left)), now


def _described(site, placeLength):
    """A Site as kept without its handle: (kind, name, value, its place after the item's, source, handle kind,
    handle name)."""
    handle = site.handle
    return site.kind, site.name, site.value, site.place[placeLength:], site.source, _KIND_OF[type(handle)], handle.name


def _decided(kept, sh, item, context):
    """The Decided the planner takes for an item: its changes only counted (ItemWrites makes them), its Sites left to
    search made again with live handles."""
    if kept.__class__ is Decided:
        return kept
    kept, left = kept
    decided = Decided()
    decided.found, decided.reused = kept.found, kept.reused
    place = f"subject hierarchy item {item}"
    for kind, name, value, what, source, handleKind, handleName in left:
        site = Site(kind, name, value, place + what, context, _KINDS[handleKind](sh, item, handleName), source)
        (decided.dataSites if kind == DATA else decided.textSites).append(site)
    return decided
