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


# Schemas/slicer-extension-catalog-entry-schema-v1.0.2.json (Slicer, read by the Extensions Index since 5.8):
# "required": ["$schema", "category", "scm_url"], "additionalProperties": false, and these property types.
CATALOG_SCHEMA = (
    "https://raw.githubusercontent.com/Slicer/Slicer/main/Schemas/slicer-extension-catalog-entry-schema-v1.0.2.json#"
)
CATALOG_REQUIRED = {"$schema", "category", "scm_url"}
CATALOG_TYPES = {
    "$schema": str,
    "category": str,
    "scm_url": str,
    "scm_revision": str,
    "scm_type": str,
    "build_dependencies": list,
    "dicom_support_rule": str,
    "build_subdirectory": str,
    "enabled": bool,
    "tier": int,
}


def test_the_catalog_entry_follows_the_extension_catalog_schema():
    import json

    assert not (ROOT / "AnonymizeOnSave.s4ext").exists()  # no longer read since Slicer 5.8
    entry = json.loads((ROOT / "AnonymizeOnSave.json").read_text(encoding="utf-8"))
    assert CATALOG_REQUIRED <= set(entry) <= set(CATALOG_TYPES)
    assert all(isinstance(entry[key], CATALOG_TYPES[key]) for key in entry)
    assert entry["$schema"] == CATALOG_SCHEMA
    assert entry.get("scm_type", "git") in ("git", "local") and 1 <= entry.get("tier", 1) <= 5
    assert all(isinstance(name, str) for name in entry.get("build_dependencies", []))
    assert entry["scm_url"].endswith(".git") and entry["category"] in (ROOT / "CMakeLists.txt").read_text()
    assert (MODULE / "Resources" / "Icons" / "AnonymizeOnSave.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cmake_builds_the_module_and_registers_its_slicer_test():
    top = (ROOT / "CMakeLists.txt").read_text()
    module = (MODULE / "CMakeLists.txt").read_text()
    assert "add_subdirectory(AnonymizeOnSave)" in top and "EXTENSION_DESCRIPTION" in top
    assert (
        "slicerMacroBuildScriptedModule" in module and "slicer_add_python_unittest(SCRIPT ${MODULE_NAME}.py)" in module
    )
    assert "AnonymizeOnSaveLib/*.py" in module and "AnonymizeOnSaveGlue/*.py" in module
    assert "AnonymizeOnSaveLib/formats/*.py" in module
    for path in MODULE.rglob("*.py"):  # every Python file the module runs is built into the extension
        relative = path.relative_to(MODULE)
        if "egg-info" not in str(relative) and "__pycache__" not in relative.parts and relative.parts[0] != "Testing":
            listed = str(relative).replace("AnonymizeOnSave.py", "${MODULE_NAME}.py")
            assert listed in module or f"{relative.parent}/*.py" in module, relative
    for path in MODULE.rglob("*.csv"):  # and every data file it reads
        assert str(path.relative_to(MODULE)) in module, path.name
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
    for path in (MODULE / "AnonymizeOnSaveLib").rglob("*.py"):
        assert not _imports(path) & {"qt", "PySide6", "PythonQt", "ctk"}, path.name
        assert "slicer.app" not in path.read_text(), path.name


def test_the_file_tools_need_only_the_standard_library():
    scene = {"sceneSites.py", "session.py", "saveHook.py", "sceneWriter.py", "sharedCopy.py"}  # slicer/vtk on first use
    for path in (MODULE / "AnonymizeOnSaveLib").rglob("*.py"):
        if path.name not in scene:
            assert not _imports(path) & {"slicer", "vtk", "numpy"}, path.name
