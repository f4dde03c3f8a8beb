"""A scene with every node type Slicer users save, and patient values typed into every place people type them.

Patients come from hospitalScenes (loaded as the DICOM plugins load them); then, as users do: markups of the
six kinds with point labels and descriptions (one list named after a patient, so its default point labels are
too), segment names, IDs and Description tags, a table (cells and a column name), short and long text, colour
tables written as .csv and .ctbl, a scripted module parameter node, a volume sequence indexed by study dates, a
model, a transform and a view label. dataState() reads all of that back from the live nodes, to compare before
and after a save.
"""

import slicer
import vtk
from dicomScenes import fileValue, newScene, sceneXml
from hospitalScenes import hospitalDatasets, loadImageSequence, loadScalarVolume

DISPLAY = (True, False, False, True)
MARKUPS = (
    "vtkMRMLMarkupsFiducialNode",
    "vtkMRMLMarkupsLineNode",
    "vtkMRMLMarkupsAngleNode",
    "vtkMRMLMarkupsCurveNode",
    "vtkMRMLMarkupsClosedCurveNode",
    "vtkMRMLMarkupsPlaneNode",
    "vtkMRMLMarkupsROINode",
)
LONG_TEXT_REPEATS = 20  # long enough for a text node to get its own .txt file


def _typed(datasets):
    """What users type, from the patients' own values: (name as people write it, ID, birth date spelled)."""
    mueller, obrien, ivanov = (datasets[i] for i in (0, 2, 5))
    return {
        "mueller": "José María Müller-Lüdenscheidt",
        "muellerFamily": "Müller-Lüdenscheidt",
        "muellerId": fileValue(mueller, "PatientID"),
        "muellerBorn": "02.03.1945",
        "obrien": "O'Brien, Seán",
        "obrienId": fileValue(obrien, "PatientID"),
        "yamada": "山田太郎",
        "ivanov": "Иванов Иван",
        "studyDates": (fileValue(mueller, "StudyDate"), fileValue(ivanov, "StudyDate")),
    }


def _addMarkups(scene, typed):
    for index, className in enumerate(MARKUPS):
        node = scene.AddNewNodeByClass(className, f"Findings {index}")
        node.CreateDefaultDisplayNodes()
        maximum = node.GetMaximumNumberOfControlPoints()  # -1: no limit
        for point in range(2 if maximum < 0 else min(maximum, 2)):
            node.AddControlPoint(vtk.vtkVector3d(point, 2 * point, index), "")
        node.SetNthControlPointLabel(0, f"{typed['muellerFamily']} tumour")
        node.SetNthControlPointDescription(0, f"{typed['mueller']}, born {typed['muellerBorn']}, {typed['muellerId']}")
        if node.GetNumberOfControlPoints() > 1:
            node.SetNthControlPointDescription(1, f"{typed['obrien']} ({typed['obrienId']}) / {typed['yamada']}")
    named = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", f"{typed['muellerFamily']} lesions")
    named.CreateDefaultDisplayNodes()
    for point in range(3):  # labelled "<node name>-<n>" by the markups node
        named.AddControlPoint(vtk.vtkVector3d(point, 0, 0))


def _addSegments(scene, typed):
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Segmentation")
    segmentation.CreateDefaultDisplayNodes()
    segments = segmentation.GetSegmentation()
    liver = segments.AddEmptySegment(f"{typed['muellerFamily']}_liver", f"{typed['muellerFamily']} liver")
    segments.GetSegment(liver).SetTag("Description", f"liver of {typed['mueller']}")
    segments.AddEmptySegment("Segment_2", f"{typed['ivanov']} опухоль")  # IDs given: twin scenes must match
    segments.AddEmptySegment("Segment_3", "Kidney")
    for index, segmentId in enumerate(segments.GetSegmentIDs()):  # not the random colours of new segments
        segments.GetSegment(segmentId).SetColor(0.2 * index, 0.5, 0.9)


def _addTable(scene, typed):
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", "Measurements")
    for name in ("Patient", "MRN", "Volume (ml)", f"{typed['ivanov']} mm"):
        table.AddColumn().SetName(name)
    rows = (
        (typed["mueller"], typed["muellerId"], "12.5", "3"),
        (typed["obrien"], typed["obrienId"], "3.0", "4"),
    )
    for row, values in enumerate(rows):
        table.AddEmptyRow()
        for column, value in enumerate(values):
            table.SetCellText(row, column, value)


def _addTexts(scene, typed):
    scene.AddNewNodeByClass("vtkMRMLTextNode", "Call").SetText(f"Called {typed['obrien']} on the phone")
    report = f"Report for {typed['mueller']} ({typed['muellerId']}), born {typed['muellerBorn']}. "
    scene.AddNewNodeByClass("vtkMRMLTextNode", "Report").SetText(report * LONG_TEXT_REPEATS)


def _addColorTables(scene, typed):
    for name, extension in (("Organs", "csv"), ("Organs legacy", "ctbl")):
        colors = scene.AddNewNodeByClass("vtkMRMLColorTableNode", name)
        colors.SetTypeToUser()
        colors.SetNumberOfColors(3)
        colors.SetColor(0, "background", 0, 0, 0, 0)
        colors.SetColor(1, f"{typed['muellerFamily']} liver", 1, 0, 0, 1)
        colors.SetColor(2, f"{typed['yamada']} spleen", 0, 1, 0, 1)
        storage = colors.CreateDefaultStorageNode()
        scene.AddNode(storage)
        storage.SetDefaultWriteFileExtension(extension)
        colors.SetAndObserveStorageNodeID(storage.GetID())


def _addParameters(scene, typed):
    parameters = scene.AddNewNodeByClass("vtkMRMLScriptedModuleNode", "TumourTrackerParameters")
    parameters.SetParameter("Patient", typed["obrien"])
    parameters.SetParameter("Note", f"follow up {typed['muellerId']}")
    parameters.SetParameter("Threshold", "120")


def _addDateSequence(scene, typed):
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "Follow-up")
    sequence.SetIndexName("date")
    sequence.SetIndexUnit("")
    for date in typed["studyDates"]:
        volume = slicer.vtkMRMLScalarVolumeNode()
        image = vtk.vtkImageData()
        image.SetDimensions(4, 4, 1)
        image.AllocateScalars(vtk.VTK_SHORT, 1)
        image.GetPointData().GetScalars().Fill(7)
        volume.SetAndObserveImageData(image)
        sequence.SetDataNodeAtValue(volume, date)


def _addModelAndTransform(scene, typed):
    sphere = vtk.vtkSphereSource()
    sphere.Update()
    model = scene.AddNewNodeByClass("vtkMRMLModelNode", "Skull")
    model.SetAndObservePolyData(sphere.GetOutput())
    transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", f"Registration to {typed['obrien']}")
    matrix = vtk.vtkMatrix4x4()
    matrix.SetElement(0, 3, 12.5)
    transform.SetMatrixTransformToParent(matrix)
    view = slicer.vtkMRMLViewNode()  # a 3D view a user labelled for a case review
    view.SetLayoutName("CaseReview")
    view.SetLayoutLabel(f"{typed['obrien']} review")
    scene.AddNode(view)
    storage = transform.CreateDefaultStorageNode()  # ITK's text format: HDF5 files hold the time they were written
    scene.AddNode(storage)
    storage.SetDefaultWriteFileExtension("tfm")
    transform.SetAndObserveStorageNodeID(storage.GetID())


def buildSceneWithPhiEverywhere(patients=(0, 2, 3, 5), sequencePatient=4):
    """(scene, values): the values the oracle scans for (everything the profile replaces, and what was typed).

    patients: the hospital patients loaded as volumes; sequencePatient: the one loaded as an image sequence."""
    scene = newScene()
    datasets = hospitalDatasets()
    for index in patients:
        loadScalarVolume(scene, datasets[index], DISPLAY)
    loadImageSequence(scene, datasets[sequencePatient], DISPLAY)
    typed = _typed(datasets)
    for add in (_addMarkups, _addSegments, _addTable, _addTexts, _addColorTables, _addParameters):
        add(scene, typed)
    _addDateSequence(scene, typed)
    _addModelAndTransform(scene, typed)
    sceneXml(scene)  # the first Commit stamps the hierarchy's version: settle it before any comparison
    keywords = ("PatientName", "PatientID", "PatientBirthDate", "StudyInstanceUID", "SeriesInstanceUID")
    values = [fileValue(datasets[i], k) for i in (*patients, sequencePatient) for k in keywords]
    values += [typed[key] for key in ("mueller", "muellerId", "muellerBorn", "obrien", "obrienId", "yamada", "ivanov")]
    values += list(typed["studyDates"])
    return scene, [value for value in values if len(value) >= 4 or any(ord(c) > 0x2E80 for c in value)]


def _markupsState(node):
    points = range(node.GetNumberOfControlPoints())
    return tuple((node.GetNthControlPointLabel(i), node.GetNthControlPointDescription(i)) for i in points)


def _segmentsState(node):
    segments = node.GetSegmentation()
    state = []
    for segmentId in segments.GetSegmentIDs():
        segment = segments.GetSegment(segmentId)
        tags = []
        for name in ("Description", segment.GetTerminologyEntryTagName()):  # vtkSegment does not list its tags
            value = vtk.reference("")
            tags.append((name, str(value) if segment.GetTag(name, value) else None))
        state.append((segmentId, segment.GetName(), tuple(tags)))
    return tuple(state)


def _tableState(node):
    table = node.GetTable()
    columns = range(table.GetNumberOfColumns())
    cells = tuple(node.GetCellText(row, column) for row in range(table.GetNumberOfRows()) for column in columns)
    return tuple(node.GetColumnName(column) for column in columns) + cells


def _colorState(node):
    return tuple(node.GetColorName(index) for index in range(node.GetNumberOfColors()))


def _parameterState(node):
    return tuple((name, node.GetParameter(name)) for name in node.GetParameterNames())


def _sequenceState(node):
    return tuple(node.GetNthIndexValue(index) for index in range(node.GetNumberOfDataNodes()))


_DATA_STATES = (
    ("vtkMRMLMarkupsNode", _markupsState),
    ("vtkMRMLSegmentationNode", _segmentsState),
    ("vtkMRMLTableNode", _tableState),
    ("vtkMRMLTextNode", lambda node: node.GetText()),
    ("vtkMRMLColorTableNode", _colorState),
    ("vtkMRMLScriptedModuleNode", _parameterState),
    ("vtkMRMLSequenceNode", _sequenceState),
    ("vtkMRMLAbstractViewNode", lambda node: node.GetLayoutLabel()),
)


def dataState(scene):
    """node ID -> what people typed into it (point labels, segments, cells, text, colours, parameters, indices)."""
    state = {}
    for index in range(scene.GetNumberOfNodes()):
        node = scene.GetNthNode(index)
        for className, read in _DATA_STATES:
            if node.IsA(className):
                state[node.GetID()] = read(node)
    return state
