"""Scenes written by Slicer 4.2-4.3 (the DICOM hierarchy as Hierarchy nodes: HierarchyType:PatientHierarchy,
DicomLevel and DicomUid, PatientHierarchy.* attributes, nodes named "<patient>_PatientHierarchy") and by Slicer
4.4-4.6 (SubjectHierarchy nodes: Level, UIDs="DICOM; <value>:", DICOMHierarchy.* attributes), which Slicer still
reads (vtkMRMLSubjectHierarchyLegacyNode): the file tool finds the patient's name, ID, dates and UIDs in them and
cleans every one, reported in scan, none left in any byte. Built from the legacy node's serialization."""

import pytest
from hospitalScenes import leaks

from AnonymizeOnSaveLib import Policy
from AnonymizeOnSaveLib.sceneFiles import cleanPath, scanPath

NAME, PID, BORN, STUDY_UID = "Nakamura^Haruki", "JP0042917", "19570211", "1.2.392.200036.9116.2.6.1.48.1214245"
VALUES = [NAME, PID, BORN, STUDY_UID, "Nakamura Haruki"]
POLICY = Policy(key="legacy-key", recognisers=False)
SLICER_4_3 = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<MRML  version="Slicer4.3.1" userTags="">\n'
    f' <Hierarchy id="vtkMRMLHierarchyNode1" name="Nakamura Haruki_PatientHierarchy" hideFromEditors="false" '
    'selectable="true" selected="false" attributes="DicomLevel:Patient;DicomUid:'
    f"{PID};HierarchyType:PatientHierarchy;PatientHierarchy.PatientBirthDate:{BORN};"
    f'PatientHierarchy.PatientName:{NAME}" sortingValue="0" expanded="true" ></Hierarchy>\n'
    ' <Hierarchy id="vtkMRMLHierarchyNode2" name="CT chest_PatientHierarchy" hideFromEditors="false" '
    'parentNodeRef="vtkMRMLHierarchyNode1" attributes="DicomLevel:Study;'
    f'DicomUid:{STUDY_UID};HierarchyType:PatientHierarchy;PatientHierarchy.StudyDate:20130514" '
    'sortingValue="0" expanded="true" ></Hierarchy>\n</MRML>\n'
)
SLICER_4_5 = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<MRML  version="Slicer4.5.0" userTags="">\n'
    f' <SubjectHierarchy id="vtkMRMLSubjectHierarchyNode1" name="{NAME.replace("^", " ")}_SubjectHierarchy" '
    'hideFromEditors="false" selectable="true" selected="false" '
    f'attributes="DICOMHierarchy.PatientBirthDate:{BORN};DICOMHierarchy.PatientID:{PID};'
    f'DICOMHierarchy.PatientName:{NAME}" sortingValue="0" expanded="true" Level="Patient" '
    f'OwnerPluginName="DICOM" UIDs="DICOM; {PID}:" ></SubjectHierarchy>\n'
    ' <SubjectHierarchy id="vtkMRMLSubjectHierarchyNode2" name="CT chest_SubjectHierarchy" '
    'parentNodeRef="vtkMRMLSubjectHierarchyNode1" attributes="DICOMHierarchy.StudyDate:20130514" '
    f'Level="Study" OwnerPluginName="DICOM" UIDs="DICOM; {STUDY_UID}:" ></SubjectHierarchy>\n</MRML>\n'
)


@pytest.mark.parametrize("text", [SLICER_4_3, SLICER_4_5], ids=["Slicer 4.3 Hierarchy nodes", "Slicer 4.5 nodes"])
def test_a_legacy_dicom_hierarchy_is_found_and_cleaned(tmp_path, text):
    source = tmp_path / "old.mrml"
    source.write_text(text, encoding="utf-8")
    assert leaks(str(source), VALUES)
    places = [finding.place for finding in scanPath(str(source), POLICY).findings]
    assert any("DicomUid" in place or "UID DICOM" in place for place in places)
    cleaned = tmp_path / "cleaned.mrml"
    cleanPath(str(source), str(cleaned), policy=POLICY)
    assert leaks(str(cleaned), VALUES) == []
    assert not scanPath(str(cleaned), POLICY)
    written = cleaned.read_text(encoding="utf-8")
    assert "ANON" in written and ("DicomUid:ANON" in written or 'UIDs="DICOM; ANON' in written)
