"""What an anonymization changed, counted per category. A report never holds a PHI value."""

from collections import Counter
from operator import attrgetter

from . import profile


class Report:
    """Counts of changed values per category."""

    def __init__(self, counts=None):
        self.counts = Counter(counts or {})
        self.verifications = []  # verify.Verification of each output searched after the write

    @classmethod
    def fromChanges(cls, changes):
        """The counts of changes (planner.PlannedChanges: with those a surface made from kept plans, its reused)."""
        counts = Counter(map(attrgetter("category"), changes))
        counts.update(dict(getattr(changes, "reused", ())))
        return cls(counts)

    @property
    def total(self):
        return sum(count for category, count in self.counts.items() if category != profile.MARKERS)

    def __bool__(self):
        return self.total > 0

    def summaryLines(self):
        """One line per category, in a fixed order, e.g. "patient names: 2"."""
        order = list(profile.CATEGORY_LABELS)
        return [
            f"{profile.CATEGORY_LABELS.get(category, category)}: {self.counts[category]}"
            for category in sorted(self.counts, key=lambda c: order.index(c) if c in order else len(order))
            if self.counts[category]
        ]
