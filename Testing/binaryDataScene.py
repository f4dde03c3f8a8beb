"""A scene with a patient's values typed into the data Slicer writes in binary formats, built with slicer-core as
Slicer builds it: a closed-surface segmentation (the source representation a segmentation made in the Segment
Editor's surface tools or converted from an RTSTRUCT has; vtkMRMLSegmentationStorageNode writes it as a .seg.vtm
with one .vtp per segment, segment name, ID and tags in String arrays of field data), compressed and not, also
inside a sequence (a .seq.mrb nested in the bundle), and the planar contours SlicerRT's RTSTRUCT plugin makes
(source representation "Planar contour", written the same way); models
with string arrays (field data named after the patient, point labels) written as legacy .vtk (Slicer's default,
binary) and ASCII, and as .vtp; a table stored in SQLite (vtkMRMLTableSQLiteStorageNode); and a model whose name
is long enough for ClampFileName to cut the patient's name in its file name."""

import slicer
import vtk
from dicomScenes import newScene
from hospitalScenes import PATIENTS, hospitalDatasets, loadScalarVolume

PATIENT = PATIENTS[0]
FAMILY = PATIENT["PatientName"].split("^")[0]
VALUES = [PATIENT["PatientName"], FAMILY, PATIENT["PatientID"]]
LONG_NAME = f"{FAMILY} {PATIENT['PatientName'].split('^')[1]} left kidney surface reconstruction"
# ClampFileName keeps 45 characters of the percent-encoded name: this one is cut inside the family name's second
# part ("...of the L%ffc3%ffbcdensch_XXXX.vtk"), a fragment no whole-word search finds.
CUT_NAME = f"Kidney surface model of the {FAMILY.split('-')[1]} family case"


def _sphere():
    source = vtk.vtkSphereSource()
    source.SetThetaResolution(12)
    source.SetPhiResolution(12)
    source.Update()
    polyData = vtk.vtkPolyData()
    polyData.DeepCopy(source.GetOutput())
    return polyData


def _closedSurfaceSegmentation(scene, name, compressed):
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    node.CreateDefaultDisplayNodes()
    segmentation = node.GetSegmentation()
    segmentation.SetSourceRepresentationName("Closed surface")
    for segmentId, segmentName in ((f"tumour_{PATIENT['PatientID']}", f"{FAMILY} tumour"), ("kidney", "Kidney")):
        segment = slicer.vtkSegment()
        segment.SetName(segmentName)
        segment.SetTag("TrackingIdentifier", f"{PATIENT['PatientID']} lesion 1")
        segment.AddRepresentation("Closed surface", _sphere())
        segmentation.AddSegment(segment, segmentId)
    storage = scene.AddNewNodeByClass("vtkMRMLSegmentationStorageNode")
    storage.SetUseCompression(compressed)
    node.SetAndObserveStorageNodeID(storage.GetID())
    return node


def _convertedSegmentation(scene):
    """As the Segment Editor leaves a segmentation the user made a closed surface of: painted as a labelmap,
    converted by the segmentation logic (vtkBinaryLabelmapToClosedSurfaceConversionRule), the surface made its
    source representation (so it is saved as a .seg.vtm)."""
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Converted")
    labelmap = slicer.vtkOrientedImageData()
    labelmap.SetDimensions(12, 12, 12)
    labelmap.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 1)
    labelmap.GetPointData().GetScalars().Fill(0)
    for index in range(3 * 12 * 12 + 3 * 12 + 3, 9 * 12 * 12, 1):
        if 3 <= index % 12 < 9 and 3 <= (index // 12) % 12 < 9:
            labelmap.GetPointData().GetScalars().SetValue(index, 1)
    node.AddSegmentFromBinaryLabelmapRepresentation(labelmap, f"{FAMILY} kidney")
    segmentation = node.GetSegmentation()
    assert segmentation.CreateRepresentation("Closed surface")
    segmentation.SetSourceRepresentationName("Closed surface")


def _segmentationSequence(scene):
    """A sequence of closed-surface segmentations: vtkMRMLSequenceStorageNode writes it as a nested .seq.mrb."""
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "Segments over time")
    for frame in range(2):
        node = _closedSurfaceSegmentation(scene, f"frame {frame}", compressed=True)
        sequence.SetDataNodeAtValue(node, str(frame))
        scene.RemoveNode(node)


def _planarContours(scene):
    """As SlicerRT's DICOM RT structure set plugin loads a structure: planar contour polylines per segment."""
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "RTSTRUCT contours")
    segmentation = node.GetSegmentation()
    segmentation.SetSourceRepresentationName("Planar contour")
    contour = vtk.vtkPolyData()
    points = vtk.vtkPoints()
    for index in range(4):
        points.InsertNextPoint(index, index % 2, 0)
    contour.SetPoints(points)
    lines = vtk.vtkCellArray()
    lines.InsertNextCell(4, [0, 1, 2, 3])
    contour.SetLines(lines)
    segment = slicer.vtkSegment()
    segment.SetName(f"GTV {FAMILY}")
    segment.AddRepresentation("Planar contour", contour)
    segmentation.AddSegment(segment, "GTV")


def _model(scene, name, extension=None, compressed=True):
    polyData = _sphere()
    patient = vtk.vtkStringArray()
    patient.SetName(f"Patient {FAMILY}")
    for value in (PATIENT["PatientName"], PATIENT["PatientID"]):
        patient.InsertNextValue(value)
    polyData.GetFieldData().AddArray(patient)
    labels = vtk.vtkStringArray()
    labels.SetName("Point labels")
    for index in range(polyData.GetNumberOfPoints()):
        labels.InsertNextValue(f"{FAMILY} point {index}" if index % 7 == 0 else f"point {index}")
    polyData.GetPointData().AddArray(labels)
    node = scene.AddNewNodeByClass("vtkMRMLModelNode", name)
    node.SetAndObservePolyData(polyData)
    node.CreateDefaultDisplayNodes()
    storage = scene.AddNewNodeByClass("vtkMRMLModelStorageNode")
    storage.SetUseCompression(compressed)
    if extension:
        storage.SetDefaultWriteFileExtension(extension)
    node.SetAndObserveStorageNodeID(storage.GetID())
    return node


def _sqliteTable(scene):
    """As vtkSlicerTablesLogic::AddTable loads a table from a database: a storage node with the file and table
    name (which vtkMRMLTableSQLiteStorageNode does not write into the scene file), a table node named after it."""
    tableName = f"{FAMILY.split('-')[0]}_results"
    node = scene.AddNewNodeByClass("vtkMRMLTableNode", tableName)
    for columnName in ("Patient", "MRN", "Volume"):
        column = node.AddColumn()
        column.SetName(columnName)
    for row, (patient, mrn) in enumerate(((PATIENT["PatientName"], PATIENT["PatientID"]), ("phantom", "none"))):
        node.AddEmptyRow()
        node.SetCellText(row, 0, patient)
        node.SetCellText(row, 1, mrn)
        node.SetCellText(row, 2, str(12.5 + row))
    storage = slicer.vtkMRMLTableSQLiteStorageNode()
    storage.SetTableName(tableName)
    scene.AddNode(storage)
    node.SetAndObserveStorageNodeID(storage.GetID())
    return node


def buildBinaryDataScene():
    """The scene, and the values typed into it."""
    scene = newScene()
    loadScalarVolume(scene, hospitalDatasets()[0], (True, False, False, True))
    _closedSurfaceSegmentation(scene, "Surfaces", compressed=True)
    _closedSurfaceSegmentation(scene, "Surfaces uncompressed", compressed=False)
    _convertedSegmentation(scene)
    _segmentationSequence(scene)
    _planarContours(scene)
    _model(scene, "Surface")
    _model(scene, "Surface ascii", compressed=False)
    _model(scene, "Surface xml", extension="vtp")
    _model(scene, LONG_NAME)
    _model(scene, CUT_NAME)
    _sqliteTable(scene)
    return scene, VALUES
