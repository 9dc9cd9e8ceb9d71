"""The npe2 manifest: valid, and every python_name it names imports."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import numpy as np
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


@pytest.mark.gui
@pytest.mark.parametrize("name", ["Scribble segmentation", "Evaluate"])
def test_widgets_dock_from_the_plugin_menu(make_napari_viewer, name):
    viewer = make_napari_viewer()
    dock, widget = viewer.window.add_plugin_dock_widget("napari-scribbleseg", name)
    viewer.add_image(np.zeros((8, 8)), name="late")  # the widget sees layers added after it
    assert "late" in [widget.image_combo.itemText(i) for i in range(widget.image_combo.count())]


@pytest.mark.gui
def test_plugin_docked_widget_segments(make_napari_viewer):
    """Through the plugin menu napari hands the widget a proxy of the viewer; painting must still work."""
    import warnings

    viewer = make_napari_viewer()
    viewer.add_image(np.arange(400, dtype=float).reshape(20, 20), name="ramp")
    _, widget = viewer.window.add_plugin_dock_widget("napari-scribbleseg", "Scribble segmentation")
    widget.model_combo.setCurrentText("nearest")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # napari warns when a plugin touches private API
        widget.start("ramp")
        scribbles = viewer.layers["scribbles: ramp"]
        scribbles.data_setitem((np.array([2]), np.array([2])), 1)
        scribbles.data_setitem((np.array([17]), np.array([17])), 2)
    out = viewer.layers["prediction: ramp"].data
    assert out[0, 0] == 1 and out[19, 19] == 2
