"""A saved .mrml file as PHI Sites, rewritten in place: every byte outside a changed value stays as it was.

Follows Slicer's serialization (vtkMRMLNode, vtkMRMLSubjectHierarchyNode, vtkMRMLStorageNode): names and
descriptions are XML-attribute-encoded; node attributes are ``name:value;...`` with ``%`` and ``;`` escaped in
values; subject hierarchy item attributes and UIDs are ``name^value|...`` (split at the first ``^``); storage file
names are URL-encoded. The Sites have exactly the meaning sceneSites gives the live scene's values, so the planner
makes the same decisions for a file as for a live save.
"""

import functools
import itertools
import re
from collections import Counter
from xml.parsers import expat

from . import profile
from .planner import (
    ATTRIBUTE,
    DATA,
    ITEM_UID,
    PATIENT_ITEM_UID,
    TEXT,
    Decided,
    Site,
    decideRules,
    isDicomPatient,
    itemSites,
    outsideContext,
    patientContext,
)
from .policy import NO_PATIENT, PatientContext


class MrmlSyntaxError(ValueError):
    """The text is not a well-formed MRML file."""


# A tag's attributes are read quote by quote: XML allows ">" and "/" inside a quoted value (a hand-edited name, a
# file path), and a tag must not end there.
_TAG = re.compile(
    r"""<(/?)([A-Za-z_][\w.:-]*)((?:\s(?:[^<>"'/]+|"[^"]*"|'[^']*'|/(?!>))*)?)(/?)>"""
    r"|<!--.*?-->|<\?.*?\?>|<!\[CDATA\[.*?\]\]>",
    re.S,
)
_ATTRIBUTE = re.compile(r"""([^\s=/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CHARACTER_REFERENCE = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def xmlDecode(text):
    def replace(match):
        name = match.group(1)
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _ENTITIES[name]

    return _CHARACTER_REFERENCE.sub(replace, text) if "&" in text else text


_XML_SPECIAL = re.compile("[&\"'<>\n\r]")


def xmlEncode(text):
    """vtkMRMLNode::XMLAttributeEncodeString."""
    if _XML_SPECIAL.search(text) is None:
        return text
    for old, new in (("&", "&amp;"), ('"', "&quot;"), ("'", "&apos;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(old, new)
    return text.replace("\n", "&#10;").replace("\r", "&#13;")


_URL_CODES = (("%", "%25"), (" ", "%20"), ("'", "%27"), (">", "%3E"), ("<", "%3C"), ('"', "%22"))


def urlEncode(text):
    """vtkMRMLNode::URLEncodeString (file names are written with it, and not XML-encoded)."""
    for old, new in _URL_CODES:
        text = text.replace(old, new)
    return text


def urlDecode(text):
    for old, new in reversed(_URL_CODES):
        text = text.replace(new, old)
    return text


class _Composite:
    """An XML attribute holding name/value entries: SH ``name^value|`` or node ``name:value;``.

    Each entry is a [name, value] list a handle holds on to, so a name written twice (a hand-edited file) is two
    values, each cleaned; a removed entry keeps its place with the value None and is not rendered.
    """

    def __init__(self, raw, isItem, legacyUids=False):
        self.isItem, self.legacyUids = isItem, legacyUids
        self.entries = []  # [name, value], in file order (Slicer writes std::map order: sorted)
        text = xmlDecode(raw)
        if legacyUids:  # vtkMRMLSubjectHierarchyLegacyNode: "name; value:" per UID
            self.entries = [part.split("; ", 1) if "; " in part else ["", part] for part in text.split(":") if part]
        elif isItem:
            parts = text.split("|")
            if parts and parts[-1] == "":
                parts.pop()
            # Slicer writes a value holding "|" as it is: the pieces after it, without a "^", are that value's.
            for part in parts:
                if "^" in part:
                    self.entries.append(part.split("^", 1))
                elif self.entries:
                    self.entries[-1][1] += "|" + part
                else:
                    self.entries.append(["", part])
        elif text:
            for part in text.split(";"):
                name, _, value = part.partition(":")
                self.entries.append([name, value.replace("%3B", ";").replace("%25", "%") if "%" in value else value])
        self._first = {}  # name -> its first entry
        for entry in reversed(self.entries):
            self._first[entry[0]] = entry

    def get(self, name):
        entry = self._first.get(name)
        return None if entry is None else entry[1]

    def entry(self, name):
        """The first entry of that name; a new, absent one (value None) in its sorted place when there is none."""
        entry = self._first.get(name)
        if entry is None:
            entry = self._first[name] = [name, None]
            position = next((i for i, (other, _) in enumerate(self.entries) if other > name), len(self.entries))
            self.entries.insert(position, entry)
        return entry

    def render(self):
        """The entries as Slicer writes them, XML-encoded (character by character: the whole text at once)."""
        present = [(name, value) for name, value in self.entries if value is not None]
        if self.legacyUids:
            return xmlEncode("".join(f"{name}; {value}:" for name, value in present))
        if self.isItem:
            return xmlEncode("".join(f"{name}^{value}|" if name else f"{value}|" for name, value in present))
        return xmlEncode(";".join(f"{name}:{value.replace('%', '%25').replace(';', '%3B')}" for name, value in present))


class _Element:
    """A start tag: its name, its attributes' raw values and where each value stands in the text."""

    def __init__(self, tag, attributes, insertAt):
        self.tag = tag
        self.raw = {name: value for name, value, *_ in attributes}
        self.spans = {name: span for name, _, span, _ in attributes}  # where each value stands, inside its quotes
        self.starts = {name: start for name, _, _, start in attributes}  # where each attribute's name starts
        self.insertAt = insertAt  # where a new attribute would go (before the tag's end)
        self.newValues = {}  # attribute name -> new raw text
        self.changedComposites = set()
        self._composites = {}

    def text(self, name):
        raw = self.newValues.get(name, self.raw.get(name))
        return None if raw is None else xmlDecode(raw)

    def composite(self, name):
        if name not in self._composites:
            legacy = self.tag == "SubjectHierarchy" and name == "UIDs"
            self._composites[name] = _Composite(self.raw.get(name, ""), self.tag == "SubjectHierarchyItem", legacy)
        return self._composites[name]

    def setText(self, name, value, encode=xmlEncode):
        self.newValues[name] = encode(value)

    def commitComposite(self, name):
        self.changedComposites.add(name)  # rendered once, when the document is

    def renderComposites(self):
        for name in self.changedComposites:
            self.newValues[name] = self._composites[name].render()
        self.changedComposites.clear()


class _AttributeHandle:
    __slots__ = ("element", "name")

    def __init__(self, element, name):
        self.element, self.name = element, name

    def read(self):
        return self.element.text(self.name)

    def write(self, value):
        self.element.setText(self.name, value or "")


class _FileNameHandle(_AttributeHandle):
    __slots__ = ()

    def read(self):
        raw = self.element.newValues.get(self.name, self.element.raw.get(self.name))
        return None if raw is None else urlDecode(raw)

    def write(self, value):
        self.element.setText(self.name, value or "", encode=lambda text: xmlEncode(urlEncode(text)))


class _EntryHandle:
    __slots__ = ("attribute", "element", "entry")

    def __init__(self, element, attribute, entry):
        self.element, self.attribute, self.entry = element, attribute, entry

    def read(self):
        return self.entry[1]

    def write(self, value):
        self.entry[1] = value
        self.element.commitComposite(self.attribute)


class _EntryNameHandle(_EntryHandle):
    """The name of an item attribute or UID entry: a piece of a value Slicer wrote with a "^" after a "|"."""

    __slots__ = ()

    def read(self):
        return self.entry[0]

    def write(self, value):
        self.entry[0] = (value or "_").replace("^", "_").replace("|", "_")
        self.element.commitComposite(self.attribute)


# Item attribute and UID names Slicer and its DICOM plugins write: never a person's text.
_ITEM_VOCABULARY = re.compile(
    r"DICOM(?:[.\w]*)|Level|Directory|ParentTransform|[A-Za-z]+Plugin[\w.]*|DICOMHierarchy[.\w]*"
)


@functools.lru_cache(maxsize=1 << 12)
def _isVocabulary(name):
    return _ITEM_VOCABULARY.fullmatch(name) is not None


def _itemEntryNames(element, place, context):
    """DATA Sites for the item's attribute and UID names that are not Slicer's vocabulary."""
    for attribute in ("attributes", "uids"):
        if attribute in element.raw:
            for entry in element.composite(attribute).entries:
                if entry[1] is not None and entry[0] and not _isVocabulary(entry[0]):
                    handle = _EntryNameHandle(element, attribute, entry)
                    yield Site(DATA, profile.DATA_TEXT, entry[0], f"{place} {attribute} name", context, handle)


class _ParameterHandle(_AttributeHandle):
    """The value of a scripted module node's ``parameterN= "name value"`` (the name is %-encoded, then a space)."""

    __slots__ = ()

    def read(self):
        text = self.element.text(self.name)
        return None if text is None else text.partition(" ")[2]

    def write(self, value):
        self.element.setText(self.name, self.element.text(self.name).partition(" ")[0] + " " + (value or ""))


_PARAMETER = re.compile(r"parameter[0-9]+")
_FILE_NAME = re.compile(r"fileName|fileListMember[0-9]+")
# What a node element writes that is not a value a person gave: its identity and its references to other nodes.
_STRUCTURE = frozenset(("id", "name", "description", "attributes", "references"))


def _references(element):
    """A node's references: role -> referenced node IDs (``role:id id;role2:id``)."""
    references = {}
    for reference in (element.text("references") or "").split(";"):
        role, _, targets = reference.partition(":")
        references[role] = targets.split()
    return references


class _XmlItem:
    """The planner's view of a SubjectHierarchyItem element."""

    def __init__(self, element):
        self.element = element
        self.level = element.composite("attributes").get("Level")

    def attribute(self, name):
        return self.element.composite("attributes").get(name)

    def uid(self, name):
        return self.element.composite("uids").get(name)

    def _entries(self, attribute):
        element, entries = self.element, self.element.composite(attribute).entries
        return [
            (entry[0], entry[1], _EntryHandle(element, attribute, entry)) for entry in entries if entry[1] is not None
        ]

    def attributes(self):
        return self._entries("attributes")

    def uids(self):
        return self._entries("uids")

    def attributeHandle(self, name):
        return _EntryHandle(self.element, "attributes", self.element.composite("attributes").entry(name))

    def nameHandle(self):
        return None if "dataNode" in self.element.raw else _AttributeHandle(self.element, "name")


_IDLESS_STRUCTURE = frozenset(("version", "type", "index", "xmlns"))


def _idlessValues(element):
    """(name, value, handle) of every attribute of an element without an id that is not the format's own."""
    return [
        (name, element.text(name), _AttributeHandle(element, name))
        for name in element.raw
        if name not in _IDLESS_STRUCTURE and element.text(name)
    ]


_FREE_TEXT_ENDS = {"comment": "--", "CDATA": "]]>", "PI": "?>"}


class _FreeText:
    """Text that is no attribute: between elements (XML-escaped), in a comment, a CDATA section or a processing
    instruction (as written, never holding its own end marker)."""

    def __init__(self, document, start, end, kind):
        self.document, self.start, self.end, self.kind = document, start, end, kind
        written = document.text[start:end]
        self.value = xmlDecode(written) if kind == "text" else written
        self.newValue = self.value

    @property
    def changed(self):
        return self.newValue != self.value

    def read(self):
        return self.newValue

    def write(self, value):
        self.newValue = value or ""

    def edit(self):
        if self.kind == "text":
            written = self.newValue.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        else:
            written = self.newValue.replace(_FREE_TEXT_ENDS[self.kind], " ")
        return (self.start, self.end, written)


def _numbered(elements, prefix):
    """(element or _ItemTag, its place): "item 6", and "item 6 (copy 2)" for the second one with that id."""
    seen = {}
    for element in elements:
        identifier = element.raw["id"]
        seen[identifier] = seen.get(identifier, 0) + 1
        copy = f" (copy {seen[identifier]})" if seen[identifier] > 1 else ""
        yield element, f"{prefix}{identifier}{copy}"


def _element(match, base=0):
    """The _Element of a start tag _TAG matched; its spans are offsets from base (0: from the text's start)."""
    attributes = [
        (
            m.group(1),
            m.group(2) if m.group(2) is not None else m.group(3),
            m.span(2 if m.group(2) is not None else 3),
            m.start(),
        )
        for m in _ATTRIBUTE.finditer(match.group(3))
    ]
    offset = match.start(3) - base
    attributes = [
        (name, value, (offset + start, offset + end), offset + whole) for name, value, (start, end), whole in attributes
    ]
    return _Element(match.group(2), attributes, match.end(3) - base)


class _ItemTag:
    """A SubjectHierarchyItem start tag with an id, read once: what the hierarchy needs of it (raw: its id, parent and
    data node; level; its patient context; its markers), the plan of its values (their Decided) for the last policy,
    context and place, and its last rendering. A document read with ItemTags reads, plans and renders again only the
    tags that changed since the last one.

    Between documents a tag keeps its plan compact: the values and categories of its rule changes with their Sites'
    positions, its text and data Sites without handles; no parsed element. A tag is parsed again to be rendered anew;
    an element is written once, then dropped (so none is ever reused written)."""

    __slots__ = (
        "_compact",
        "_decided",
        "_element",
        "_fingerprint",
        "_key",
        "_live",
        "_markers",
        "_positions",
        "_rendered",
        "_renderedFor",
        "_renderedWrites",
        "_ruleWrites",
        "entryCount",
        "isDicomPatient",
        "level",
        "patientContext",
        "raw",
        "text",
    )

    def __init__(self, text, element):
        self.text = text
        self.raw = {name: element.raw[name] for name in ("id", "parent", "dataNode") if name in element.raw}
        self.entryCount = _entryCount(element.composite(name) for name in ("attributes", "uids") if name in element.raw)
        item = _XmlItem(element)
        self.level = item.level
        self.isDicomPatient = isDicomPatient(item)
        self.patientContext = patientContext(item) if self.level == profile.PATIENT_LEVEL else None
        self._markers = {name: item.attribute(name) for name in _MARKER_NAMES}
        self._element = element  # the element read, until Sites are made on it
        self._live = None  # (context, place, element, its Sites): Sites with handles, until written
        # The context (its key and options), place and policy fingerprint of the Decided planned for them. Kept as
        # strings, numbers and references, in no new tuple or list: what a tag keeps between saves is not visited by
        # the cycle collector, apart from a few objects (a full collection costs in proportion to them).
        self._key = self._fingerprint = self._decided = None
        self._compact = False  # whether that Decided is compact: then these give its Sites' positions
        self._positions = {}  # id(text or data Site of the compact Decided) -> its position among the tag's Sites
        self._ruleWrites = ()  # (position of its Site, new value) of each change of the Decided made compact
        self._renderedFor = self._rendered = None  # the Decided last written, and the text it rendered
        self._renderedWrites = ()  # with it, (position, value) of each other change written

    def attribute(self, name):
        """A de-identification marker's value (outsideContext reads a scene item's)."""
        return self._markers.get(name)

    def sites(self, context, place):
        """Its Sites for context and place, with handles on an element of their own."""
        if self._live is None or self._live[:2] != (context, place):
            element = self._element or _element(_TAG.match(self.text))
            self._element = None
            sites = [*itemSites(_XmlItem(element), place, context), *_itemEntryNames(element, place, context)]
            self._live = (context, place, element, sites)
        return self._live[3]

    def liveElement(self):
        """The element its Sites write to (None when it has none)."""
        return self._live and self._live[2]

    def decided(self, policy, fingerprint, context, place):
        """The Decided of its Sites under policy (whose fingerprint is given)."""
        if self._key != (context.key, context.deidentifiedOptions, place) or self._fingerprint != fingerprint:
            self._decided = decideRules(self.sites(context, place), policy)
            self._key, self._fingerprint = (context.key, context.deidentifiedOptions, place), fingerprint
            self._compact, self._ruleWrites = False, ()
        return self._decided

    def write(self, changes):
        """The tag's text with its Decided's changes and changes (to the text and data Sites of its Decided) written,
        None when it stays as it was; the tag is compact afterwards, whatever happens."""
        if self._live is None and not changes and self._renderedFor is self._decided and not self._renderedWrites:
            return self._rendered  # (compact, written as last time)
        positions = None
        try:
            decided = self._decided
            if not decided.changes and not self._ruleWrites and not changes:
                return None
            positions = self._positions if self._compact else self._livePositions()
            written = tuple((positions[id(change.site)], change.value) for change in changes)
            if decided is self._renderedFor and written == self._renderedWrites:
                return self._rendered
            if self._compact:  # on a new element, by position
                sites = self.sites(PatientContext(*self._key[:2]), self._key[2])
                ruleWrites = [(sites[position], value) for position, value in self._ruleWrites]
            else:
                sites, ruleWrites = self._live[3], [(change.site, change.value) for change in decided.changes]
            for site, value in ruleWrites:
                site.handle.write(value)
            for position, value in written:
                sites[position].handle.write(value)
            self._rendered = _applied(self.text, _elementEdits(self._live[2], self.text))
            self._renderedFor, self._renderedWrites = decided, written
            return self._rendered
        finally:
            self._makeCompact(None if self._compact else positions)

    def _livePositions(self):
        return {id(site): position for position, site in enumerate(self._live[3])}

    def _makeCompact(self, positions=None):
        """Keep the plan without Sites' handles or an element (a rendering of the full plan is kept for it).
        positions: those of its live Sites, when the caller has them."""
        if self._live is None:
            return
        if self._decided is None or self._compact:
            self._live = None
            return
        positions = positions or self._livePositions()
        self._live = None
        decided = self._decided
        compact = Decided()  # (tuples of strings and numbers: no object the cycle collector must visit)
        compact.changes = ()
        compact.reused = tuple(Counter(change.category for change in decided.changes).items())
        self._ruleWrites = tuple((positions[id(change.site)], change.value) for change in decided.changes)
        compact.found = tuple(decided.found)
        self._positions = {}
        for kind in ("textSites", "dataSites"):
            kept = []
            for site in getattr(decided, kind):
                copy = Site(site.kind, site.name, site.value, site.place, site.context, None, site.source)
                self._positions[id(copy)] = positions[id(site)]
                kept.append(copy)
            setattr(compact, kind, tuple(kept))
        if self._renderedFor is decided:
            self._renderedFor = compact
        self._decided, self._compact = compact, True


def _entryCount(composites):
    """(entries, characters of their names) of composites."""
    entries = [entry[0] for composite in composites for entry in composite.entries]
    return len(entries), sum(map(len, entries))


_MARKER_NAMES = (profile.PATIENT_IDENTITY_REMOVED, profile.DEIDENTIFICATION_METHOD)


class ItemTags:
    """The item tags of the last document read with this: a text of the same scene saved again reads, plans and
    renders only the tags that changed (each tag's Sites, Decided and rendering depend on nothing but the tag, its
    context, its place, the policy and what is written to it)."""

    def __init__(self):
        self.last = {}


class MrmlDocument:
    """The values of a .mrml text as Sites; render() gives the text with the changes written."""

    def __init__(self, text, itemTags=None):
        """itemTags: the ItemTags to reuse the item tags of the last document from (and keep this one's in); changes
        to a document read with it are written with write()."""
        if "<!doctype" in text[:4096].lower() or "<!entity" in text.lower():
            raise MrmlSyntaxError("DOCTYPE and entity declarations are not allowed in a scene file")
        try:  # well-formed (expat alone: nothing is built)
            expat.ParserCreate().Parse(text, True)
        except expat.ExpatError as error:
            raise MrmlSyntaxError(f"not well-formed XML ({error.lineno}:{error.offset})") from None
        self.text = text
        self.elements = []  # every element but the items with an id
        self.itemTags = []  # (_ItemTag, its start and end in the text) of the items with an id
        self.freeTexts = []  # _FreeText: comments, CDATA, text between elements, processing instructions
        lastTags, tags = (itemTags.last if itemTags is not None else {}), {}
        position = 0
        for match in _TAG.finditer(text):
            start, end = match.span()
            if start > position and not text[position:start].isspace():
                self._addFreeText(position, start, "text")
            position = end
            closing, name = match.group(1, 2)
            if name is None:
                self._addMarkup(match)
                continue  # comment, processing instruction or CDATA
            if closing:
                continue
            if name == "SubjectHierarchyItem":
                tagText = match.group(0)
                tag = lastTags.pop(tagText, None) if tagText not in tags else None  # a tag written twice: its own
                if tag is None:
                    element = _element(match, start)
                    tag = _ItemTag(tagText, element) if "id" in element.raw else None
                if tag is not None:
                    tags.setdefault(tagText, tag)
                    self.itemTags.append((tag, start, end))
                    continue
            self.elements.append(_element(match))
        self._addFreeText(position, len(text), "text")
        self._renderedTags = {}  # _ItemTag -> its text as write() rendered it (None: as it was)
        self._decided = []  # (_ItemTag, the Decided sites(policy) gave for it)
        if itemTags is not None:
            itemTags.last = tags
        # Ids are not unique in real files (scene views copy the live nodes, SlicerRT scenes repeat item ids): every
        # element has sites; lookups by id (parents, data nodes, references) take the first element with it.
        self.nodeElements = [e for e in self.elements if e.tag != "SubjectHierarchyItem" and "id" in e.raw]
        self.items, self.nodes, self._itemOfNode = {}, {}, {}  # items: id -> _ItemTag
        for tag, _, _ in self.itemTags:
            self.items.setdefault(tag.raw["id"], tag)
            if "dataNode" in tag.raw:
                self._itemOfNode.setdefault(tag.raw["dataNode"], tag)
        for element in self.nodeElements:
            self.nodes.setdefault(element.raw["id"], element)
        self._patients = {}  # id(_ItemTag) -> its patient's, or None
        self._storageOwners = None
        self._proxySequences = self._findProxySequences()
        self.outsideContext = NO_PATIENT
        patients = [tag for tag, _, _ in self.itemTags if tag.isDicomPatient]
        sceneItems = [tag for tag, _, _ in self.itemTags if tag.level == profile.SCENE_LEVEL]
        self.outsideContext = outsideContext(
            sceneItems[0] if sceneItems else None, [self.contextOfItem(patient) for patient in patients]
        )

    # --- hierarchy ---

    def _patientOf(self, item):
        """The patient item (_ItemTag) above item or item itself, None when there is none; remembered for each item
        on the way up (a parent written after its child, or a loop of parents, is walked as it stands)."""
        path, patient = [], None
        while item is not None and id(item) not in self._patients:
            if id(item) in path:
                break
            path.append(id(item))
            if item.level == profile.PATIENT_LEVEL:
                patient = item
                break
            item = self.items.get(item.raw.get("parent"))
        else:
            patient = self._patients.get(id(item)) if item is not None else None
        for key in path:
            self._patients[key] = patient
        return patient

    def contextOfItem(self, item):
        patient = self._patientOf(item) if item is not None else None
        return self.outsideContext if patient is None else patient.patientContext

    def contextOfNode(self, nodeId):
        item = self._itemOfNode.get(nodeId)
        if item is None and nodeId in self._proxySequences:
            # A browser's proxy node shows (and is refreshed from) its sequence's items: it is their patient's.
            item = self._itemOfNode.get(self._proxySequences[nodeId])
        return self.contextOfItem(item)

    def _findProxySequences(self):
        """proxy node ID -> sequence node ID, from each browser's dataNodeRefN / sequenceNodeRefN pairs."""
        found = {}
        for element in self.nodeElements:
            references = _references(element)
            for role, proxies in references.items():
                if role.startswith("dataNodeRef"):
                    sequences = references.get("sequenceNodeRef" + role[len("dataNodeRef") :], [])
                    if proxies and sequences:
                        found[proxies[0]] = sequences[0]
        return found

    def nodeReferencing(self, storageNodeId):
        """The ID of the node whose storage node is storageNodeId, or None."""
        if self._storageOwners is None:
            self._storageOwners = {}
            for element in self.nodeElements:
                for storage in _references(element).get("storage", []):
                    self._storageOwners.setdefault(storage, element.raw["id"])
        return self._storageOwners.get(storageNodeId)

    def storageFileNames(self):
        """(storage node ID, attribute name, file name) for every file name a storage node refers to."""
        found = []
        for element in self.nodeElements:
            nodeId = element.raw["id"]
            for name in element.raw:
                if _FILE_NAME.fullmatch(name):
                    found.append((nodeId, name, urlDecode(element.raw[name])))
        return found

    # --- sites ---

    def _addFreeText(self, start, end, kind):
        if self.text[start:end].strip():
            self.freeTexts.append(_FreeText(self, start, end, kind))

    def _addMarkup(self, match):
        written = match.group(0)
        for opening, closing, kind in (("<!--", "-->", "comment"), ("<![CDATA[", "]]>", "CDATA"), ("<?", "?>", "PI")):
            if written.startswith(opening) and not written.startswith("<?xml "):
                self._addFreeText(match.start() + len(opening), match.end() - len(closing), kind)

    def sites(self, place="", policy=None):
        """Every value of the file as Sites (place prefixes their descriptions, e.g. the file's name); with policy,
        each item's as their Decided under it (planner.decideRules), kept with its tag."""
        sites = [
            Site(DATA, profile.DATA_TEXT, free.read(), f"{place}{free.kind} {number}", NO_PATIENT, free)
            for number, free in enumerate(self.freeTexts, 1)
        ]
        for element in self.elements:
            if "id" not in element.raw:  # the scene element (its userTags), a scene view's children
                sites += [
                    Site(DATA, profile.DATA_TEXT, value, f"{place}<{element.tag}> {name}", NO_PATIENT, handle)
                    for name, value, handle in _idlessValues(element)
                ]
        fingerprint, self._decided = policy and policy.fingerprint(), []
        for tag, where in _numbered([tag for tag, _, _ in self.itemTags], f"{place}item "):
            context = self.contextOfItem(tag)
            if policy is None:
                sites += tag.sites(context, where)
            else:
                decided = tag.decided(policy, fingerprint, context, where)
                self._decided.append((tag, decided))
                sites.append(decided)
        for node, where in _numbered(self.nodeElements, f"{place}node "):
            sites.extend(self._nodeSites(node, where, self.contextOfNode(node.raw["id"])))
        return sites

    def _nodeSites(self, node, place, context):
        for name in ("name", "description"):
            if name in node.raw:
                handle = _AttributeHandle(node, name)
                yield Site(TEXT, profile.FREE_TEXT, handle.read(), f"{place} {name}", context, handle)
        if "attributes" in node.raw:
            attributes = node.composite("attributes")
            for entry in list(attributes.entries):
                name, value = entry
                if value is not None:
                    handle = _EntryHandle(node, "attributes", entry)
                    if name == "DicomUid":  # Slicer 4.2-4.3 Hierarchy node: the patient ID at the patient level
                        kind = PATIENT_ITEM_UID if attributes.get("DicomLevel") == "Patient" else ITEM_UID
                        yield Site(kind, "DICOM", value, f"{place} attribute {name}", context, handle)
                    else:
                        yield Site(ATTRIBUTE, name, value, f"{place} attribute {name}", context, handle)
        if node.tag == "SubjectHierarchy" and "UIDs" in node.raw:  # Slicer 4.4-4.6: the UIDs of a legacy item
            kind = PATIENT_ITEM_UID if node.raw.get("Level") == "Patient" else ITEM_UID
            for entry in list(node.composite("UIDs").entries):
                handle = _EntryHandle(node, "UIDs", entry)
                yield Site(kind, entry[0], entry[1], f"{place} UID {entry[0]}", context, handle)
        for name in node.raw:
            if _FILE_NAME.fullmatch(name):
                handle = _FileNameHandle(node, name)
                yield Site(TEXT, profile.FILE_NAMES, handle.read(), f"{place} {name}", context, handle)
            elif name not in _STRUCTURE and not (node.tag == "SubjectHierarchy" and name == "UIDs"):
                # Any other value (a parameter, a short text, a segment ID in display properties, sequence index
                # values, a view label) is data: the known values found in it are replaced.
                isParameter = node.tag == "ScriptedModule" and _PARAMETER.fullmatch(name)
                handle = (_ParameterHandle if isParameter else _AttributeHandle)(node, name)
                yield Site(DATA, profile.DATA_TEXT, handle.read(), f"{place} {name}", context, handle)

    def write(self, changes):
        """Write changes, planned from sites(policy=...): an item tag's are written only while its new text is
        rendered, and a tag written as it was last time is not rendered again."""
        ruleChanges = list(itertools.chain.from_iterable(decided.changes for _, decided in self._decided))
        if changes[: len(ruleChanges)] != ruleChanges:  # the item tags' Decided changes come first (items are
            raise ValueError("changes not planned from this document's sites(policy=...)")  # before nodes)
        others = changes[len(ruleChanges) :]
        tagOf = {}
        for tag, decided in self._decided:
            tagOf.update((id(site), tag) for site in itertools.chain(decided.textSites, decided.dataSites))
        byTag = {tag: [] for tag, _ in self._decided}
        for change in others:
            tag = tagOf.get(id(change.site))
            if tag is None:
                change.site.handle.write(change.value)
            else:
                byTag[tag].append(change)
        self._renderedTags = {tag: tag.write(written) for tag, written in byTag.items()}

    def entryCounts(self):
        """How many attributes and UIDs the items hold and how many characters their names have; the same of the
        nodes' attributes; as read (sceneSites.entryCounts gives the live scene's)."""
        items = [tag.entryCount for tag, _, _ in self.itemTags]
        nodes = _entryCount(e.composite("attributes") for e in self.nodeElements if e.raw.get("attributes"))
        return (sum(count for count, _ in items), sum(length for _, length in items), *nodes)

    def render(self):
        """The text with every changed value written; identical bytes elsewhere."""
        edits = [edit for element in self.elements for edit in _elementEdits(element, self.text)]
        for tag, start, end in self.itemTags:
            if tag in self._renderedTags:
                new = self._renderedTags[tag]
            else:  # written through its Sites' handles, or not at all
                element = tag.liveElement()
                tagEdits = _elementEdits(element, tag.text) if element is not None else ()
                new = _applied(tag.text, tagEdits) if tagEdits else None
            if new is not None:
                edits.append((start, end, new))
        edits += [free.edit() for free in self.freeTexts if free.changed]
        return _applied(self.text, edits)


def _elementEdits(element, text):
    """(start, end, new text) of each value written to the element, by its offsets into text."""
    element.renderComposites()
    edits = []
    for name, value in element.newValues.items():
        emptied = name == "attributes" and not value and element.raw.get(name)
        if emptied and element.tag != "SubjectHierarchyItem":
            # every attribute of a node removed: vtkMRMLNode::WriteXML writes none then
            start = element.starts[name]
            while start and text[start - 1].isspace():
                start -= 1
            edits.append((start, element.spans[name][1] + 1, ""))
        elif name in element.spans:
            start, end = element.spans[name]  # the value only: the spacing around "=" is kept
            edits.append((start, end, value))
        else:
            edits.append((element.insertAt, element.insertAt, f' {name}="{value}"'))
    return edits


def _applied(text, edits):
    """text with each (start, end, replacement) made, in one pass: linear in the text, whatever the edits."""
    pieces, position = [], 0
    for start, end, replacement in sorted(edits):
        pieces += [text[position:start], replacement]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
