"""make bench: the cost of anonymizing, as the ratio of anonymized to plain save time, measured side by side.

Scenarios: a realistic scene (DICOM sample plus three 256x256x100 volumes) saved as MRB, and subject hierarchies
of 1k and 10k DICOM items saved as .mrml (where the hierarchy is all there is to write, so the overhead shows).
Plain and anonymized saves alternate; each figure is the median of the repeats.
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

from AnonymizeOnSaveLib import Policy, saveScene


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
    return sample


def hierarchyScene(itemCount):
    """A scene whose subject hierarchy has about itemCount DICOM items (patients, studies, series)."""
    scene = slicer.vtkMRMLScene()
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    perPatient = 10  # 1 patient, 3 studies, 6 series
    for p in range(itemCount // perPatient):
        patient = sh.CreateSubjectItem(sh.GetSceneItemID(), f"PATIENT^{p:05d}")
        sh.SetItemUID(patient, "DICOM", f"ID{p:06d}")
        for name, value in [
            ("PatientName", f"PATIENT^{p:05d}"),
            ("PatientID", f"ID{p:06d}"),
            ("PatientBirthDate", "19600101"),
        ]:
            sh.SetItemAttribute(patient, "DICOM." + name, value)
        for s in range(3):
            study = sh.CreateStudyItem(patient, f"Study {s}")
            sh.SetItemUID(study, "DICOM", f"1.2.826.0.1.{p}.{s}")
            sh.SetItemAttribute(study, "DICOM.StudyDate", f"2020010{s + 1}")
            for r in range(2):
                series = sh.CreateFolderItem(study, f"{r}: series of ID{p:06d}")
                sh.SetItemUID(series, "DICOM", f"1.2.826.0.1.{p}.{s}.{r}")
                sh.SetItemAttribute(series, "DICOM.SeriesDate", f"2020010{s + 1}")
                sh.SetItemAttribute(series, "DICOM.Modality", "CT")
    return scene


def measure(scene, fileName, repeats):
    policy = Policy(key="bench")
    plain, anonymized = [], []
    with tempfile.TemporaryDirectory() as folder:
        for run in range(repeats):
            for anonymize, times in ((False, plain), (True, anonymized)):
                target = os.path.join(folder, f"{int(anonymize)}-{run}-{fileName}")
                start = time.perf_counter()
                if not saveScene(scene, target, anonymize=anonymize, policy=policy):
                    raise SystemExit(f"benchmark save failed: {fileName}")
                times.append(time.perf_counter() - start)
    return statistics.median(plain), statistics.median(anonymized)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    scenarios = [
        ("DICOM sample + 3 volumes 256x256x100, .mrb", addVolumes(buildSampleScene()).scene, "scene.mrb"),
        ("1k subject hierarchy items, .mrml", hierarchyScene(1000), "scene.mrml"),
        ("10k subject hierarchy items, .mrml", hierarchyScene(10000), "scene.mrml"),
    ]
    print(f"{'scenario':48} {'plain s':>9} {'anonymized s':>13} {'ratio':>6}")
    for title, scene, fileName in scenarios:
        plain, anonymized = measure(scene, fileName, arguments.repeats)
        print(f"{title:48} {plain:9.3f} {anonymized:13.3f} {anonymized / plain:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
