"""A scene file edited by hand or written by another tool: the patient's values in comments, CDATA sections,
processing instructions, text between elements, the scene element's userTags, and in a subject hierarchy value
that holds "|" (Slicer writes it unescaped, so the pieces after it look like other entries). The file tool finds
each place, cleans it, and what it writes is still a scene Slicer reads."""

import xml.etree.ElementTree as ElementTree

import pytest
import slicer
from dicomScenes import newScene
from hospitalScenes import leaks

from AnonymizeOnSaveLib import Policy
from AnonymizeOnSaveLib.sceneFiles import cleanPath, scanPath

NAME, PID = "DOE^JOHN", "MRN0042"
POLICY = Policy(key="hand-edited-key")
PATIENT = (
    f'<SubjectHierarchyItem id="6" name="{NAME}" parent="3" type="DICOM" uids="DICOM^{PID}|" '
    f'attributes="DICOM.PatientComments^{{comments}}|DICOM.PatientID^{PID}|DICOM.PatientName^{NAME}|Level^Patient|">'
    "</SubjectHierarchyItem>"
)
PLACES = {
    "comment": (f"<!-- sent by Dr Who for John Doe, {PID} -->", "", "comment 1"),
    "CDATA": ("", f"<Notes><![CDATA[John Doe <{PID}>]]></Notes>", "CDATA 1"),
    "processing instruction": ("<?review Doe John?>", "", "PI 1"),
    "element text": ("", "<Notes>Doe &amp; John, born here</Notes>", "text 1"),
    "userTags": ("", "", "<MRML> userTags"),
    "a | inside a value": ("", "", "attributes name"),
}


def _scene(case):
    before, inside, _ = PLACES[case]
    tags = ' userTags="Doe John"' if case == "userTags" else ""
    comments = "called|Doe^John twice" if case == "a | inside a value" else "none"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{before}<MRML version="5"{tags}>\n'
        '<SubjectHierarchy id="vtkMRMLSubjectHierarchyNode1" name="SubjectHierarchy">'
        '<SubjectHierarchyItem id="3" name="Scene" parent="0" attributes="Level^Scene|">'
        f"{PATIENT.format(comments=comments)}</SubjectHierarchyItem></SubjectHierarchy>\n{inside}</MRML>\n"
    )


@pytest.mark.parametrize("case", PLACES)
def test_a_value_in_any_part_of_a_hand_edited_scene_is_found_and_cleaned(tmp_path, case):
    source = tmp_path / "scene.mrml"
    source.write_text(_scene(case), encoding="utf-8")
    assert any(PLACES[case][2] in finding.place for finding in scanPath(str(source), POLICY).findings)
    assert leaks(str(source), [NAME]) != []
    cleaned = tmp_path / "cleaned.mrml"
    cleanPath(str(source), str(cleaned), policy=POLICY)
    assert leaks(str(cleaned), [NAME, PID]) == []
    assert not scanPath(str(cleaned), POLICY)
    text = cleaned.read_text(encoding="utf-8")
    ElementTree.fromstring(text)
    # Slicer reads it as it reads the original (an element it has no node class for fails both alike).
    assert _imported(text) == _imported(source.read_text(encoding="utf-8"))


def _imported(text):
    scene = newScene()
    scene.SetLoadFromXMLString(1)
    scene.SetSceneXMLString(text)
    result = scene.Import()
    hierarchy = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    return result, hierarchy.GetNumberOfItems()
