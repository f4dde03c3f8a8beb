"""The extension's files fit together: UI, CMake, Extensions Index description, and the library's boundaries."""

import ast
import pathlib
import re
import xml.etree.ElementTree as ElementTree

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODULE = ROOT / "AnonymizeOnSave"


def test_the_ui_file_has_every_widget_the_module_uses():
    tree = ElementTree.parse(MODULE / "Resources" / "UI" / "AnonymizeOnSave.ui")
    names = {element.get("name") for element in tree.iter() if element.get("name")}
    used = set(re.findall(r"self\.ui\.(\w+)", (MODULE / "AnonymizeOnSave.py").read_text()))
    assert used and used <= names, used - names


def test_the_extension_description_has_what_the_index_needs():
    description = (ROOT / "AnonymizeOnSave.s4ext").read_text()
    keys = {line.split()[0] for line in description.splitlines() if line.strip() and not line.startswith("#")}
    assert {"scm", "scmurl", "scmrevision", "depends", "homepage", "contributors", "category", "iconurl"} <= keys
    assert {"status", "description", "screenshoturls", "enabled", "build_subdirectory"} <= keys
    assert (MODULE / "Resources" / "Icons" / "AnonymizeOnSave.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cmake_builds_the_module_and_registers_its_slicer_test():
    top = (ROOT / "CMakeLists.txt").read_text()
    module = (MODULE / "CMakeLists.txt").read_text()
    assert "add_subdirectory(AnonymizeOnSave)" in top and "EXTENSION_DESCRIPTION" in top
    assert (
        "slicerMacroBuildScriptedModule" in module and "slicer_add_python_unittest(SCRIPT ${MODULE_NAME}.py)" in module
    )
    assert "AnonymizeOnSaveLib/*.py" in module and "AnonymizeOnSaveGlue/*.py" in module
    assert "class AnonymizeOnSaveTest(ScriptedLoadableModuleTest)" in (MODULE / "AnonymizeOnSave.py").read_text()


def _imports(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_library_keeps_qt_and_the_application_out():
    for path in (MODULE / "AnonymizeOnSaveLib").glob("*.py"):
        assert not _imports(path) & {"qt", "PySide6", "PythonQt", "ctk"}, path.name
        assert "slicer.app" not in path.read_text(), path.name


def test_the_file_tools_need_only_the_standard_library():
    scene = {"sceneSites.py", "session.py", "saveHook.py", "sceneWriter.py", "sharedCopy.py"}  # slicer/vtk on first use
    for path in (MODULE / "AnonymizeOnSaveLib").glob("*.py"):
        if path.name not in scene:
            assert not _imports(path) & {"slicer", "vtk", "numpy"}, path.name
