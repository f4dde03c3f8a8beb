"""Changes a user or a DICOM load makes to a scene between two saves (a renamed item, a new patient name, a new
patient whose name is typed into another item, a study moved to another patient, a new UID), and the policies the
scene is saved again under."""

import slicer
import vtk

from AnonymizeOnSaveLib import Policy


def policiesUnder(key):
    """The policies a scene is saved again under: the default, with the recognisers, and retaining options."""
    return {
        "default": Policy(key=key),
        "recognisers": Policy(key=key).withRecognisers(True),
        "retaining": Policy(key=key, retain={"longitudinalDates", "descriptions"}),
    }


def shItems(scene, level=None):
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    children = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), children, True)
    items = [children.GetId(index) for index in range(children.GetNumberOfIds())]
    return sh, [item for item in items if level is None or sh.GetItemLevel(item) == level]


def renameAnItem(scene):
    """An item named in its own tag (one with a data node is named after the node)."""
    sh, items = shItems(scene)
    item = [item for item in items if sh.GetItemDataNode(item) is None][-1]
    sh.SetItemName(item, sh.GetItemName(item) + " (edited)")


def renameAPatient(scene):
    sh, patients = shItems(scene, "Patient")
    sh.SetItemAttribute(patients[0], "DICOM.PatientName", "Renamed^Synthetic^Person")


def addAPatientNamedInAnotherItem(scene):
    sh, items = shItems(scene)
    patient = sh.CreateSubjectItem(sh.GetSceneItemID(), "Quintero^Synthetic (SYN-4411)")
    sh.SetItemUID(patient, "DICOM", "SYN-4411")
    sh.SetItemAttribute(patient, "DICOM.PatientName", "Quintero^Synthetic")
    sh.SetItemAttribute(patient, "DICOM.PatientID", "SYN-4411")
    sh.SetItemName(items[0], sh.GetItemName(items[0]) + " Quintero SYN-4411")


def moveAStudyToAnotherPatient(scene):
    sh, patients = shItems(scene, "Patient")
    _, studies = shItems(scene, "Study")
    sh.SetItemParent(studies[0], patients[-1] if sh.GetItemParent(studies[0]) != patients[-1] else patients[0])


def addAUid(scene):
    sh, items = shItems(scene)
    sh.SetItemUID(items[-1], "DICOM", "1.2.826.0.1.3680043.8.498.4411")


CHANGES = (renameAnItem, renameAPatient, addAPatientNamedInAnotherItem, moveAStudyToAnotherPatient, addAUid)
