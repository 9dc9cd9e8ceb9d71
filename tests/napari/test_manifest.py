"""The npe2 manifest: valid, and every python_name it names imports."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest
import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "napari.yaml"


def test_manifest_validates():
    from npe2 import PluginManifest

    manifest = PluginManifest.from_file(MANIFEST)
    assert manifest.name == "napari-scribbleseg"
    assert {w.display_name for w in manifest.contributions.widgets} >= {"Scribble segmentation", "Evaluate"}


@pytest.mark.gui
@pytest.mark.parametrize("command", yaml.safe_load(MANIFEST.read_text())["contributions"]["commands"], ids=lambda c: c["id"])
def test_python_name_imports(command):
    module, attr = command["python_name"].split(":")
    assert callable(getattr(import_module(module), attr))


def test_package_manifest_is_the_top_level_one():
    packaged = Path(__file__).resolve().parents[2] / "src" / "napari_scribbleseg" / "napari.yaml"
    assert packaged.read_text() == MANIFEST.read_text()


def test_core_import_pulls_no_qt_or_torch():
    import subprocess
    import sys

    code = (
        "import sys, napari_scribbleseg, napari_scribbleseg.interactive, napari_scribbleseg.phantoms;"
        "bad = [m for m in ('torch', 'napari', 'qtpy', 'PyQt6', 'magicgui') if m in sys.modules];"
        "assert not bad, bad"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": src, "PATH": ""})
