"""make bench: what an anonymized save costs on top of a plain one, measured side by side.

Scenarios: a realistic scene (the DICOM sample, three 256x256x100 volumes, a closed-surface segmentation of five
structures, markups and a model) saved as .mrb, and subject
hierarchies of 1k, 10k and 30k DICOM items (patients, studies, series with the ~12 attributes a DICOM load gives
each) saved as .mrml (written by string) and as .mrb (the live design), where the hierarchy is all there is to
write. Plain and anonymized saves are interleaved and
their order alternates run by run; each figure is the median of the runs, with the spread (min-max). Also printed:
the events observers of the subject hierarchy and of every node see during each save, and the anonymized save's
phases (collect the values, plan, apply, write, verify, restore). Temporary files go to the system's temp folder.

Targets (issue 23): verification at most 10% of the realistic save; at 10k items a .mrml (written by string) at
most 6x the plain save repeated and 8x on a first save under a new key, a .mrb (the live design) at most 8x; the
extra cost linear from 1k to 30k items. Also printed: the floor of a first save (what no design that verifies every
byte it writes can skip: write the text, derive every UID under the new key, make the matcher of every value, search
the text), against which the first-save target is judged.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import slicer
import vtk
from dicomScenes import buildSampleScene
from vtk.util.numpy_support import numpy_to_vtk

from AnonymizeOnSaveLib import Policy, lastReport, saveScene, session
from AnonymizeOnSaveLib.sceneFiles import cleanPath

POLICY = Policy(key="bench")


def addVolumes(sample, count=3, shape=(100, 256, 256)):
    """Volumes with smooth anatomy-like content plus noise, so compression has real work to do."""
    scene = sample.scene
    sh = scene.GetFirstNodeByClass("vtkMRMLSubjectHierarchyNode")
    study = sh.GetItemParent(sh.GetItemByDataNode(sample.volumes[0]))
    rng = np.random.default_rng(0)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    body = (((y - 128) ** 2 + (x - 128) ** 2) < 100**2) * 1000
    for index in range(count):
        voxels = (body + z * 2 + rng.normal(0, 20, shape)).astype(np.int16)
        image = vtk.vtkImageData()
        image.SetDimensions(shape[2], shape[1], shape[0])
        image.GetPointData().SetScalars(numpy_to_vtk(voxels.ravel(), deep=True))
        volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", f"{index + 2}: bench series")
        volume.SetAndObserveImageData(image)
        volume.SetAttribute("DICOM.instanceUIDs", " ".join(f"1.2.826.0.1.3680043.9.{index}.{s}" for s in range(100)))
        item = sh.CreateItem(study, volume)
        sh.SetItemUID(item, "DICOM", f"1.2.826.0.1.3680043.9.{index}")
        sh.SetItemAttribute(item, "DICOM.SeriesDescription", "bench series")
    return sample.scene


def addSharedData(scene):
    """What a shared case holds besides its volumes: a closed-surface segmentation of five structures, markups and
    a model, each of a realistic size (about 40k points per surface), so the check reads VTK files to their end."""
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Structures")
    segmentation.GetSegmentation().SetSourceRepresentationName("Closed surface")
    for index in range(5):
        segment = slicer.vtkSegment()
        segment.SetName(f"structure {index}")
        segment.AddRepresentation("Closed surface", _surface(200, index * 10))
        segmentation.GetSegmentation().AddSegment(segment, f"structure_{index}")
    points = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Findings")
    for index in range(20):
        points.AddControlPoint(index, index, index, f"finding {index}")
    model = scene.AddNewNodeByClass("vtkMRMLModelNode", "Skin surface")
    model.SetAndObservePolyData(_surface(300, 0))
    return scene


def _surface(resolution, offset):
    source = vtk.vtkSphereSource()
    source.SetThetaResolution(resolution)
    source.SetPhiResolution(resolution)
    source.SetRadius(40 + offset)
    source.Update()
    return source.GetOutput()


def _attributes(sh, item, values):
    for name, value in values.items():
        sh.SetItemAttribute(item, "DICOM." + name, value)


def hierarchyScene(itemCount):
    """About itemCount DICOM items: per patient 1 patient, 3 studies, 6 series, each with the attributes
    DICOMPlugin.addSeriesInSubjectHierarchy sets (5 patient, 5 study, 11 series attributes plus UIDs)."""
    scene = slicer.vtkMRMLScene()
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    for p in range(itemCount // 10):
        name, pid = f"PATIENT^{p:05d}^Q", f"ID{p:06d}"
        patient = sh.CreateSubjectItem(sh.GetSceneItemID(), f"{name} ({pid})")
        sh.SetItemUID(patient, "DICOM", pid)
        _attributes(sh, patient, {"PatientName": name, "PatientID": pid, "PatientSex": "F"})
        _attributes(sh, patient, {"PatientBirthDate": "19600101", "PatientComments": ""})
        for s in range(3):
            studyUid = f"1.2.826.0.1.3680043.{p}.{s}"
            study = sh.CreateStudyItem(patient, f"Study {s} (2020010{s + 1})")
            sh.SetItemUID(study, "DICOM", studyUid)
            _attributes(sh, study, {"StudyDescription": f"Study {s}", "StudyInstanceUID": studyUid, "StudyID": ""})
            _attributes(sh, study, {"StudyDate": f"2020010{s + 1}", "StudyTime": "101010"})
            for r in range(2):
                series = sh.CreateFolderItem(study, f"{r + 1}: CT series {r}")
                sh.SetItemUID(series, "DICOM", f"{studyUid}.{r}")
                sh.SetItemUID(series, "DICOMInstanceUID", " ".join(f"{studyUid}.{r}.{i}" for i in range(3)))
                _attributes(
                    sh,
                    series,
                    {
                        "Modality": "CT",
                        "SeriesNumber": str(r + 1),
                        "FrameOfReferenceUID": f"{studyUid}.9",
                        "SeriesDescription": f"CT series {r}",
                        "SeriesDate": f"2020010{s + 1}",
                        "SeriesTime": "101500",
                        "ContentDate": f"2020010{s + 1}",
                        "ContentTime": "101501",
                        "Manufacturer": "Bench Medical",
                        "Model": "Scanner 9",
                        "ReferencedInstanceUIDs": "",
                    },
                )
    return scene


class Phases:
    """Times the anonymized save's phases by wrapping the session's steps (the library is not changed)."""

    def __init__(self):
        self.times = {}
        self._originals = []

    def _wrap(self, owner, name, phase):
        original = getattr(owner, name)

        def timed(*arguments, **keywords):
            start = time.perf_counter()
            try:
                return original(*arguments, **keywords)
            finally:
                self.times[phase] = self.times.get(phase, 0.0) + time.perf_counter() - start

        setattr(owner, name, timed)
        self._originals.append((owner, name, original))

    def __enter__(self):
        self._wrap(session, "_plannedSites", "collect")
        self._wrap(session, "planChanges", "plan")
        self._wrap(session.AnonymizationSession, "strip", "strip")
        self._wrap(session.AnonymizationSession, "verify", "verify")
        self._wrap(session.AnonymizationSession, "restore", "restore")
        return self

    def __exit__(self, *exception):
        for owner, name, original in reversed(self._originals):
            setattr(owner, name, original)


class EventCount:
    def __init__(self, scene):
        self.count = 0
        self.tags = []
        nodes = [scene.GetNthNode(i) for i in range(scene.GetNumberOfNodes())]
        for node in nodes:
            self.tags.append((node, node.AddObserver(vtk.vtkCommand.AnyEvent, self)))

    def __call__(self, caller, event):
        self.count += 1

    def stop(self):
        for node, tag in self.tags:
            node.RemoveObserver(tag)
        return self.count


def floorOf(scene, repeats):
    """The cost floor of this design, VTK calls only (the issue's definition): read every subject hierarchy value,
    write the changed ones, write the originals back, with the node's events held. Median of repeats, in s."""
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    writes = []  # (setter, remover, item, name, new, old) of each value the plan changes
    for change in session.planChanges(session._sites(scene), POLICY):
        handle = change.site.handle
        kind = type(handle).__name__
        if kind in ("_ItemAttribute", "_ItemUid"):
            isUid = kind == "_ItemUid"
            setter = sh.SetItemUID if isUid else sh.SetItemAttribute
            remover = sh.RemoveItemUID if isUid else sh.RemoveItemAttribute
            writes.append((setter, remover, isUid, handle.item, handle.name, change.value, change.site.value))
        elif kind == "_ItemName":
            writes.append((None, None, False, handle.item, None, change.value or "", change.site.value))
    children = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), children, True)
    items = [children.GetId(i) for i in range(children.GetNumberOfIds())]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        sh.SetDisableModifiedEvent(1)
        for item in items:
            sh.GetItemName(item)
            for name in sh.GetItemAttributeNames(item):
                sh.GetItemAttribute(item, name)
            for name in sh.GetItemUIDNames(item):
                sh.GetItemUID(item, name)
        for original in (False, True):  # the new values, then the originals
            for setter, remover, isUid, item, name, new, old in writes:
                value = old if original else new
                if setter is None:
                    sh.SetItemName(item, value)
                    continue
                if value is None or isUid:  # a UID is removed first, as the session does
                    remover(item, name)
                if value is not None:
                    setter(item, name, value)
        sh.SetDisableModifiedEvent(0)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def firstSaveFloorOf(scene, repeats):
    """The cost of what a first save under a new key cannot skip, in any design that verifies every byte it
    writes: write the scene (Commit, to a string), derive the key's UID for every UID the scene holds (each
    keyed), make the matcher of every value it replaces (their spellings), and search the cleaned text for them.
    Each run under a key of its own, the spellings not remembered. Median of repeats, in s."""
    # (imported here: benchSpellings imports this module with code from before the string path)
    from AnonymizeOnSaveLib import mrmlString, phiText, profile
    from AnonymizeOnSaveLib.mrmlText import MrmlDocument
    from AnonymizeOnSaveLib.outputSearch import searchBytes
    from AnonymizeOnSaveLib.planner import planChanges

    with tempfile.TemporaryDirectory() as folder:
        target = os.path.join(folder, "floor.mrml")
        policy = Policy(key="first-save floor")
        _, text = mrmlString.sceneText(scene, target, slicer.vtkMRMLMessageCollection())
        cleaned = mrmlString.anonymizedText(text, target, policy).text.encode()
        values = list(planChanges(MrmlDocument(text).sites(), policy).values)
        uids = [original for original, _, category in values if category == profile.UIDS]
        times = []
        for run in range(repeats):
            fresh = Policy(key=f"first-save floor {run}")
            phiText.valueKeys.cache_clear()
            start = time.perf_counter()
            mrmlString.sceneText(scene, target, slicer.vtkMRMLMessageCollection())
            for uid in uids:
                fresh.pseudonyms.uid(uid)
            searchBytes("floor.mrml", cleaned, values, phiText.PhiTextMatcher(values))
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def firstSave(scene, fileName):
    """One anonymized save under a new key: no pseudonym is remembered from an earlier save."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        if not saveScene(scene, os.path.join(folder, fileName), policy=Policy(key="first save")):
            raise SystemExit(f"benchmark save failed: {fileName}")
        return time.perf_counter() - start


def changedSaves(scene, fileName, repeats):
    """Anonymized saves each after one item was renamed, the first after a save under the same key (not timed): the
    last cleaned text cannot be reused, the plans of the unchanged item tags can; times, in s."""
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    children = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), children, True)
    item = children.GetId(children.GetNumberOfIds() - 1)
    name = sh.GetItemName(item)
    times = []
    with tempfile.TemporaryDirectory() as folder:
        if not saveScene(scene, os.path.join(folder, f"warm-up-{fileName}"), policy=POLICY):
            raise SystemExit(f"benchmark save failed: {fileName}")
        for run in range(repeats):
            sh.SetItemName(item, f"{name} {run}")
            start = time.perf_counter()
            if not saveScene(scene, os.path.join(folder, f"{run}-{fileName}"), policy=POLICY):
                raise SystemExit(f"benchmark save failed: {fileName}")
            times.append(time.perf_counter() - start)
    sh.SetItemName(item, name)
    return times


def measure(scene, fileName, repeats, clean=False):
    """Interleaved, alternating plain and anonymized saves, after one anonymized save not timed (each timed one saves
    the scene again): times, phases and events of each; with clean, the file tool cleaning each plain save too
    (runs["clean"])."""
    runs = {False: [], True: [], "clean": []}
    phases, events = [], {False: [], True: []}
    with tempfile.TemporaryDirectory() as folder:
        if not saveScene(scene, os.path.join(folder, f"warm-up-{fileName}"), policy=POLICY):  # the runs are repeats
            raise SystemExit(f"benchmark save failed: {fileName}")
        for run in range(repeats):
            for anonymize in (False, True) if run % 2 == 0 else (True, False):
                target = os.path.join(folder, f"{int(anonymize)}-{run}-{fileName}")
                counter = EventCount(scene)
                with Phases() as timed:
                    start = time.perf_counter()
                    if not saveScene(scene, target, anonymize=anonymize, policy=POLICY):
                        raise SystemExit(f"benchmark save failed: {fileName}")
                    elapsed = time.perf_counter() - start
                runs[anonymize].append(elapsed)
                events[anonymize].append(counter.stop())
                if clean and not anonymize:
                    start = time.perf_counter()
                    cleanPath(target, os.path.join(folder, f"clean-{run}-{fileName}"), policy=POLICY)
                    runs["clean"].append(time.perf_counter() - start)
                if anonymize:
                    timed.times["total"] = elapsed
                    phases.append(timed.times)
                    assert lastReport(scene).verifications, "the anonymized save was not verified"
    return runs, phases, events


def _spread(values):
    return f"{statistics.median(values):7.3f} ({min(values):.3f}-{max(values):.3f})"


def report(title, runs, phases, events, floor=None, first=None, changed=None, firstFloor=None):
    """Print one scenario; returns (extra cost, first save's extra cost, verification share, a changed save's extra
    cost, the first save floor's extra cost), None for those not measured."""
    plain, anonymized = statistics.median(runs[False]), statistics.median(runs[True])
    print(f"\n{title}")
    print(f"  plain save       {_spread(runs[False])} s   events seen {statistics.median(events[False]):.0f}")
    print(f"  anonymized save  {_spread(runs[True])} s   events seen {statistics.median(events[True]):.0f}")
    print(f"  extra cost       {(anonymized - plain) / plain:6.2f} x the plain save")
    verifyShare = None
    if phases and "strip" in phases[0]:  # the live design (a .mrml written by string has no such phases)
        phase = {name: statistics.median(p.get(name, 0.0) for p in phases) for name in phases[0]}
        write = phase["total"] - phase["strip"] - phase["verify"] - phase["restore"]
        apply = phase["strip"] - phase["collect"] - phase["plan"]
        print(
            f"  phases (median s): collect {phase['collect']:.3f}, plan {phase['plan']:.3f}, apply {apply:.3f}, "
            f"write {write:.3f}, verify {phase['verify']:.3f}, restore {phase['restore']:.3f}"
        )
        verifyShare = phase["verify"] / plain
        print(f"  verification     {verifyShare * 100:6.1f} % of the plain save")
    if floor is not None:
        print(f"  cost floor       {floor:7.3f} s = {floor / plain:.2f} x the plain save (VTK calls only: read every")
        print("                   value, write the changed ones, write the originals back)")
    firstExtra = None
    if first is not None:
        firstExtra = (first - plain) / plain
        print(f"  first save       {first:7.3f} s under a new key, extra cost {firstExtra:.2f} x the plain save")
    floorExtra = None
    if firstFloor is not None:
        floorExtra = (firstFloor - plain) / plain
        print(f"  first save floor {firstFloor:7.3f} s, extra {floorExtra:.2f} x (what no design verifying every")
        print("                   byte skips: write the text, derive every UID, make the matcher, search the text)")
    changedExtra = None
    if changed is not None:
        changedExtra = (statistics.median(changed) - plain) / plain
        print(f"  one item changed {_spread(changed)} s, extra {changedExtra:.2f} x (the other items' plans reused)")
    if runs["clean"]:
        cleaning = statistics.median(runs["clean"])
        print(f"  file tool clean  {_spread(runs['clean'])} s = {cleaning / anonymized:.2f} x the anonymized save")
    return (anonymized - plain) / plain, firstExtra, verifyShare, changedExtra, floorExtra


def _missed(value, target):
    return "" if value <= target else "  MISSED"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 30000])
    arguments = parser.parse_args()
    print("median (min-max) of", arguments.repeats, "interleaved runs, order alternating")
    _, _, verifyShare, _, _ = report(
        "Realistic: DICOM sample + 3 volumes 256x256x100, a closed-surface segmentation, markups, a model, .mrb"
        " (target: verification at most 10%)",
        *measure(addSharedData(addVolumes(buildSampleScene())), "scene.mrb", arguments.repeats),
    )
    results = {}
    for size in arguments.sizes:
        scene = hierarchyScene(size)
        repeats = max(2, arguments.repeats // (1 + size // 10000))
        results[size, "mrml"] = report(
            f"{size} subject hierarchy items (~12 attributes each), .mrml written by string (mrmlString.py); a"
            " repeated save of the unchanged scene reuses the last cleaned text",
            *measure(scene, "scene.mrml", repeats, clean=True),
            first=firstSave(scene, "scene.mrml"),
            changed=changedSaves(scene, "scene.mrml", repeats),
            firstFloor=firstSaveFloorOf(scene, repeats),
        )
        results[size, "mrb"] = report(
            f"{size} subject hierarchy items, .mrb: the live design (strip, write, verify, restore)",
            *measure(scene, "scene.mrb", repeats),
            floor=floorOf(scene, repeats),
            first=firstSave(scene, "scene.mrb"),
        )
    print("\nTargets:")
    print(
        f"  verification on the realistic scene: {verifyShare * 100:.1f} % (target <= 10 %){_missed(verifyShare, 0.10)}"
    )
    if 10000 in arguments.sizes:
        repeated, first, _, changed, firstFloor = results[10000, "mrml"]
        print(f"  .mrml at 10k items, repeated save: extra {repeated:.2f} x (target <= 6 x){_missed(repeated, 6)}")
        print(f"  .mrml at 10k items, one changed:   extra {changed:.2f} x (target <= 6 x){_missed(changed, 6)}")
        print(f"  .mrml at 10k items, first save:    extra {first:.2f} x (target <= 8 x){_missed(first, 8)}")
        print(f"    (its floor alone: extra {firstFloor:.2f} x{'; the target is below it' if firstFloor > 8 else ''})")
        extra = results[10000, "mrb"][0]
        print(f"  .mrb at 10k items:                 extra {extra:.2f} x (target <= 8 x){_missed(extra, 8)}")
    if 1000 in arguments.sizes and 30000 in arguments.sizes:
        for kind, figure in (("mrml", 3), ("mrb", 0)):  # the extra cost at 30k against 1k, of saves that clean
            growth = results[30000, kind][figure] / results[1000, kind][figure]
            print(f"  .{kind} extra cost 30k / 1k items: {growth:.2f} (linear: about 1; <= 1.5){_missed(growth, 1.5)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
