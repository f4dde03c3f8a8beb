"""Slicer 4 declared every scene it wrote ISO-8859-1; the content is ASCII, real Latin-1 bytes, or UTF-8 bytes under
that declaration. The file tool reads each (UTF-8 when the bytes are UTF-8, else the declared encoding), cleans it,
and writes it back in its own encoding with its declaration; they were refused as "not UTF-8"."""

import pytest
from hospitalScenes import leaks

from AnonymizeOnSaveLib import Policy
from AnonymizeOnSaveLib.sceneFiles import cleanPath, scanPath

NAME, PID = "Müller^Jörg", "MRN7731"
POLICY = Policy(key="latin1-key", recognisers=False)
SCENE = (
    '<?xml version="1.0" encoding="ISO-8859-1"?>\n<MRML  version="Slicer4.4.0" userTags="">\n'
    '<SubjectHierarchy id="vtkMRMLSubjectHierarchyNode1" name="SubjectHierarchy">'
    '<SubjectHierarchyItem id="3" name="Scene" parent="0" attributes="Level^Scene|">'
    f'<SubjectHierarchyItem id="6" name="{{name}}" parent="3" type="DICOM" uids="DICOM^{PID}|" '
    f'attributes="DICOM.PatientID^{PID}|DICOM.PatientName^{{name}}|Level^Patient|"></SubjectHierarchyItem>'
    "</SubjectHierarchyItem></SubjectHierarchy>\n<Notes>{name} née Größe</Notes>\n</MRML>\n"
)


@pytest.mark.parametrize(
    ("case", "name", "encoding"),
    [
        ("ASCII content", "Mueller^Joerg", "latin-1"),
        ("Latin-1 bytes", NAME, "latin-1"),
        ("UTF-8 bytes under the Latin-1 declaration", NAME, "utf-8"),
    ],
)
def test_a_scene_declared_latin1_is_read_cleaned_and_written_back_in_its_encoding(tmp_path, case, name, encoding):
    source = tmp_path / "old.mrml"
    source.write_bytes(SCENE.format(name=name).encode(encoding))
    assert scanPath(str(source), POLICY)
    cleaned = tmp_path / "cleaned.mrml"
    cleanPath(str(source), str(cleaned), policy=POLICY)
    assert leaks(str(cleaned), [name, PID]) == []
    written = cleaned.read_bytes()
    assert written.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    text = written.decode(encoding)  # in its own encoding: what was not a value is as it was
    assert "née Größe" in text or case == "ASCII content"
