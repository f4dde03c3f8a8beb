"""The smallest scene file a DICOM load writes for one patient, as text: the scene item and a patient item with the
patient's name and ID in its name, UID and attributes (vtkMRMLSubjectHierarchyNode's serialization)."""


def patientScene(name, patientId):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<MRML version="5">\n'
        '<SubjectHierarchy id="vtkMRMLSubjectHierarchyNode1" name="SubjectHierarchy">'
        '<SubjectHierarchyItem id="3" name="Scene" parent="0" attributes="Level^Scene|">'
        f'<SubjectHierarchyItem id="6" name="{name}" parent="3" type="DICOM" uids="DICOM^{patientId}|" '
        f'attributes="DICOM.PatientID^{patientId}|DICOM.PatientName^{name}|Level^Patient|"></SubjectHierarchyItem>'
        "</SubjectHierarchyItem></SubjectHierarchy>\n</MRML>\n"
    )
