"""Turns the values found in a scene into the changes that de-identify it.

A PHI surface (the live MRML scene, or a saved file) lists its values as Sites; the planner asks the policy
what each becomes and returns the Changes; the surface applies them. The planner never touches a scene, so the
same decisions are made for a live scene at save time and for a file cleaned afterwards.
"""

import re
from collections import Counter, namedtuple

from . import profile
from .fileNames import replaceInFileName
from .phiText import PhiTextMatcher, matcherFor
from .policy import NO_PATIENT, PatientContext, Policy, sceneContext
from .pseudonyms import isPseudonymName
from .recognisers import labelledIds, labelledValue, recognise
from .textTokens import tokens

# Site kinds
ATTRIBUTE = "attribute"  # name: the attribute name; DICOM.* follow the profile, others are free text
ITEM_UID = "itemUid"  # name: the UID name of a study, series or other item
PATIENT_ITEM_UID = "patientItemUid"  # name: the UID name of a patient item (its "DICOM" UID is the patient ID)
PATIENT_ITEM_NAME = "patientItemName"  # source: the item's DICOM.PatientName
STUDY_ITEM_NAME = "studyItemName"  # source: the item's DICOM.StudyDescription
MARKER = "marker"  # name: a de-identification marker attribute of a patient item; value None when absent
TEXT = "text"  # name: the category (FREE_TEXT or FILE_NAMES); a node name, description or file name
# Text a person typed into data: point labels, segment names, table cells, text, colour names, parameter values,
# any other value a node writes. Only the known values found in it are replaced, the rest of it is kept.
DATA = "data"

ANONYMIZED_STUDY_NAME = "Anonymized study"
# A DICOM UID inside any text: a root arc 0, 1 or 2 and two or more arcs, at least MIN_UID_LENGTH characters (so
# version numbers and dates are left alone).
_UID_TOKEN = re.compile(r"(?<![0-9A-Za-z.])[0-2](?:\.(?:0|[1-9][0-9]*)){2,}(?![0-9A-Za-z]|\.[0-9])")
MIN_UID_LENGTH = 10
_UID_RULE = profile.ITEM_UID_RULES["DICOM"]


class Site:
    """One value at one place. place describes where, for messages and reports, and never holds the value."""

    __slots__ = ("context", "handle", "kind", "name", "place", "source", "value")

    def __init__(self, kind, name, value, place, context=NO_PATIENT, handle=None, source=None):
        self.kind = kind
        self.name = name
        self.value = value
        self.place = place
        self.context = context
        self.handle = handle
        self.source = source

    def __repr__(self):
        return f"Site({self.kind}, {self.name!r}, at {self.place})"


def hasDicomIdentity(item):
    """An item made from DICOM: it has a "DICOM" UID or a DICOM.* attribute.

    item, here and below, is a surface's view of a subject hierarchy item: level, attribute(name) and uid(name)
    (None when absent), attributes() and uids() as (name, value, handle), attributeHandle(name), and nameHandle()
    (None for an item named after its data node).
    """
    return item.uid("DICOM") is not None or any(
        name.startswith(profile.DICOM_PREFIX) for name, _, _ in item.attributes()
    )


def isDicomPatient(item):
    return item.level == profile.PATIENT_LEVEL and hasDicomIdentity(item)


def _declared(item):
    """The retain options an item's de-identification markers declare, or None when it is not marked by us."""
    return Policy.declaredOptions(
        item.attribute(profile.PATIENT_IDENTITY_REMOVED), item.attribute(profile.DEIDENTIFICATION_METHOD)
    )


def patientContext(patient):
    """The context a patient item gives its values: keyed on its ID, trusting its de-identification markers."""
    return PatientContext(patient.uid("DICOM") or patient.attribute("DICOM.PatientID") or "", _declared(patient))


def outsideContext(sceneItem, patientContexts):
    """The context of values outside any patient: what the scene item's markers declare (a scene this tool
    de-identified, with or without patients), else what every DICOM patient declares alike."""
    declared = _declared(sceneItem) if sceneItem is not None else None
    return PatientContext("", declared) if declared is not None else sceneContext(patientContexts)


def itemSites(item, place, context):
    """The Sites of one subject hierarchy item, the same for the live scene and a saved file."""
    dicomIdentity = hasDicomIdentity(item)
    isPatient = item.level == profile.PATIENT_LEVEL and dicomIdentity
    for name, value, handle in item.attributes():
        yield Site(ATTRIBUTE, name, value, f"{place} attribute {name}", context, handle)
    uidKind = PATIENT_ITEM_UID if item.level == profile.PATIENT_LEVEL else ITEM_UID
    for name, value, handle in item.uids():
        yield Site(uidKind, name, value, f"{place} UID {name}", context, handle)
    if isPatient or item.level == profile.SCENE_LEVEL:  # the scene item vouches for values outside any patient
        for name in (profile.PATIENT_IDENTITY_REMOVED, profile.DEIDENTIFICATION_METHOD):
            handle = item.attributeHandle(name)
            yield Site(MARKER, name, handle.read(), f"{place} attribute {name}", context, handle)
    handle = item.nameHandle()
    if handle is not None:
        if isPatient:
            kind, source = PATIENT_ITEM_NAME, item.attribute("DICOM.PatientName") or ""
        elif item.level == profile.STUDY_LEVEL and dicomIdentity:
            kind, source = STUDY_ITEM_NAME, item.attribute("DICOM.StudyDescription") or ""
        else:
            kind, source = TEXT, None
        yield Site(kind, profile.FREE_TEXT, handle.read(), f"{place} name", context, handle, source)


Change = namedtuple("Change", "site value category")
"""The new value for a site (None: remove it) and the category it is reported under."""


class PlannedChanges(list):
    """The changes, with values: (original, replacement, category) of every value they replace that is searched in
    text (UIDs inside text included) and of the known values given; and matcher, the PhiTextMatcher for those
    values, built once to search names, written files and messages."""

    def __init__(self):
        super().__init__()
        self.values = []
        self.matcher = PhiTextMatcher()
        self.reused = ()  # (category, count) of changes a surface makes from kept Decided, not listed here


class Decided:
    """The first step of a plan: the changes the rules decide for some sites, the (original, replacement, category)
    of the values they replace, and the text and data sites left to search once every value is known. A surface may
    keep it for sites that have not changed and give it to planChanges in their place (same policy, same sites);
    kept, its changes may be made by the surface itself and only counted here: reused, (category, count) pairs."""

    __slots__ = ("changes", "dataSites", "found", "reused", "textSites")

    def __init__(self):
        self.changes, self.found, self.textSites, self.dataSites, self.reused = [], [], [], [], ()


_decisions = [None, {}]  # the fingerprint of the policy the rules last decided for, and (site facts) -> decision
_DECISIONS_KEPT = 1 << 17  # about 25 MB: a 10k-item hierarchy's decisions


def decideRules(sites, policy):
    """The Decided of sites (Sites, or Decided of earlier sites, in order) under policy. What a rule decides for a
    value in a context is remembered for the policy (a scene saved again decides nothing again)."""
    decided = Decided()
    changes, foundValues, textSites, dataSites = decided.changes, decided.found, decided.textSites, decided.dataSites
    reused = []  # the reused counts of the Decided given
    if _decisions[0] != policy.fingerprint():
        _decisions[:] = [policy.fingerprint(), {}]
    remembered = _decisions[1]
    room = _DECISIONS_KEPT - len(remembered)
    for site in sites:  # the most frequent kind first: a large hierarchy has ~12 attributes per item
        if site.__class__ is Decided:
            changes += site.changes
            foundValues += site.found
            textSites += site.textSites
            dataSites += site.dataSites
            reused += site.reused
            continue
        context = site.context  # (flat: a key of strings is no object the cycle collector must visit)
        facts = (site.kind, site.name, site.value, context.key, context.deidentifiedOptions, site.source)
        decision = remembered.get(facts)
        if decision is None:
            decision = _decision(site, policy)
            if room > 0:
                remembered[facts], room = decision, room - 1
        if decision is _TEXT:
            textSites.append(site)
        elif decision is _DATA:
            dataSites.append(site)
        elif decision is not _KEPT:
            new, category, pairs = decision
            changes.append(Change(site, new, category))
            foundValues += pairs
    if reused:
        counts = Counter()
        for category, count in reused:
            counts[category] += count
        decided.reused = tuple(counts.items())
    return decided


_TEXT, _DATA, _KEPT = object(), object(), object()  # a site left to search as text or data; a value that stays


def _decision(site, policy):
    """What the rules make of a site: _TEXT, _DATA, _KEPT, or (new value, category, its valuePairs)."""
    kind, value = site.kind, site.value
    if kind == ATTRIBUTE and value is not None:
        rule = profile.ruleForAttribute(site.name)
        if rule is None:
            return _TEXT
        new, category = policy.applyRule(rule, value, site.context), rule.category
    elif kind == MARKER:
        new, category = policy.markerValues()[site.name], profile.MARKERS
    elif value is None:
        return _KEPT
    elif kind == DATA:
        return _DATA
    elif kind == TEXT:
        return _TEXT
    elif kind in (ITEM_UID, PATIENT_ITEM_UID):
        rule = profile.ruleForItemUid(site.name, kind == PATIENT_ITEM_UID)
        new, category = policy.applyRule(rule, value, site.context), rule.category
    elif kind == PATIENT_ITEM_NAME:
        new, category = policy.pseudonyms.personName(site.source or value, site.context.key), profile.ITEM_NAMES
        if new != value and site.source:
            return new, category, _formerName(value, site.source, new)
    elif kind == STUDY_ITEM_NAME:
        description = site.source and policy.applyRule(profile.RULES["StudyDescription"], site.source)
        new, category = description or ANONYMIZED_STUDY_NAME, profile.ITEM_NAMES
    else:
        raise ValueError(f"unknown site kind {kind!r}")
    return _KEPT if new == value else (new, category, tuple(valuePairs(value, new, category)))


def _formerName(itemName, patientName, new):
    """The pairs of a former spelling of the patient's name that a patient item is still named after (a typo
    corrected in DICOM.PatientName after loading: the two share a part of the name), searched everywhere too. Slicer
    names the item "<name> (<ID>)". A name the user gave the item instead ("Anonymized", "Case 7") shares none, and
    is only replaced in the item: searched everywhere, a common word would fail every save."""
    name = _ITEM_NAME_ID.sub("", itemName)
    former, current = set(tokens(name)), set(tokens(patientName))
    if not former or former == current or former.isdisjoint(current) or isPseudonymName(name):
        return ()
    return ((name, new, profile.NAMES),)


_ITEM_NAME_ID = re.compile(r"\s*\([^()]*\)\s*$")


def planChanges(sites, policy, knownValues=(), laterValues=()):
    """The changes that de-identify the given sites under policy. Sites whose value stays are left out.

    sites: Sites, or the Decided of some of them (decideRules), in order. knownValues: (original, replacement,
    category) of values found elsewhere (the live scene a file came from), searched in free text too; laterValues: the
    same, of values the live scene holds after these sites (its nodes not saved with it, its sequences' data nodes),
    taken after theirs (of two replacements for one spelling, the first wins, as in a live strip).
    """
    decided = decideRules(sites, policy)
    changes = PlannedChanges()
    changes += decided.changes
    changes.reused = decided.reused
    foundValues = list(knownValues) + decided.found
    textSites, dataSites = decided.textSites, decided.dataSites
    markers = policy.markerValues()
    foundValues.extend(laterValues)
    recognised = bool(policy.recognisers)
    if recognised:
        dataSites = _labelledFirst(changes, textSites, dataSites, policy, foundValues)
    matcher = matcherFor(foundValues, markers.values())
    replacedUids = []
    fileNameSites = [site for site in textSites if site.name == profile.FILE_NAMES]
    for site in textSites:
        if site.name != profile.FILE_NAMES:
            new = replaceUids(matcher.replace(site.value), policy, site.context, replacedUids)
            if recognised:
                new = recognise(new, policy, site.context, replacedUids)
            if new != site.value:
                changes.append(Change(site, new, site.name if site.kind == TEXT else profile.FREE_TEXT))
    matcher.add(replacedUids)
    for site in dataSites:
        new = matcher.replace(site.value)
        if recognised:
            new = recognise(new, policy, site.context, replacedUids)
        if new != site.value:
            changes.append(Change(site, new, profile.DATA_TEXT))
    matcher.add(replacedUids)
    for site in fileNameSites:  # last: a file is renamed for every value found anywhere, as its references are
        new = replaceUids(replaceInFileName(matcher, site.value), policy, site.context, replacedUids)
        if new != site.value:
            changes.append(Change(site, new, profile.FILE_NAMES))
    matcher.add(replacedUids)
    changes.values, changes.matcher = foundValues + replacedUids, matcher
    return changes


def _labelledFirst(changes, textSites, dataSites, policy, foundValues):
    """Values written under a label (a table column "MRN", "Accession #: A1234" in a description) become known
    values before any text is searched, so they are replaced wherever else they were typed. Returns the data sites
    left to search (a labelled cell is replaced whole)."""
    others = []
    for site in dataSites:
        new = site.value
        if site.source:  # a cell of a column named for a DICOM attribute
            new = labelledValue(site.source, site.value, policy, site.context, foundValues)
        if new != site.value:
            changes.append(Change(site, new, profile.DATA_TEXT))
        else:
            others.append(site)
            labelledIds(site.value, policy, site.context, foundValues)
    for site in textSites:
        if site.name != profile.FILE_NAMES:
            labelledIds(site.value, policy, site.context, foundValues)
    return others


def replaceUids(text, policy, context=NO_PATIENT, replaced=None):
    """text with every DICOM UID in it replaced as the UID rule says (one UID, one new UID, everywhere); each
    (original, new, UIDS) is appended to replaced."""

    def replace(match):
        uid = match.group(0)
        new = uid if len(uid) < MIN_UID_LENGTH else policy.applyRule(_UID_RULE, uid, context)
        if new != uid and replaced is not None:
            replaced.append((uid, new, profile.UIDS))
        return new

    return _UID_TOKEN.sub(replace, text) if "." in text else text


def valuePairs(original, new, category):
    """(original, replacement, category) for the matcher; UID lists pair token by token. Empty for categories
    that are not searched in free text."""
    if category in profile.NOT_SEARCHED:
        return []
    if category == profile.UIDS and " " in original:
        replacements = new.split(" ") if new else []
        return [
            (token, replacements[index] if index < len(replacements) else "", category)
            for index, token in enumerate(original.split(" "))
            if token
        ]
    return [(original, new, category)]


def textMatcherFor(sites, policy):
    """A matcher for the PHI values these sites hold."""
    return planChanges(sites, policy).matcher
