"""The widgets as a person uses them: clicks on the real buttons, keys and drags on the real canvas.

Every user-facing control of both widgets is driven here through Qt input events at least once; a test
fails if napari shows an error notification during it (the autouse fixture in conftest.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from napari_scribbleseg._napari._real_input import User

pytestmark = [pytest.mark.gui, pytest.mark.shown]


def _two_classes(user, widget):
    """Paint an object stroke, pick class 2 with Alt+2, paint a background stroke: all by mouse and keys."""
    layer = widget.scribble_layer
    layer.brush_size = 3
    user.drag(layer, [(20, 10), (20, 14), (20, 18)])
    user.key("2", "Alt")
    assert layer.selected_label == 2
    user.drag(layer, [(5, 50), (30, 50)])


def test_paint_undo_redo_accept_clear_by_buttons(segment, user):
    viewer, widget = segment
    _two_classes(user, widget)
    scribbles, out = widget.scribble_layer, widget.output_layer
    assert out.data[20, 12] == 1 and out.data[20, 55] == 2
    user.click(widget, "Undo")
    assert not np.any(scribbles.data == 2) and set(np.unique(out.data)) == {1}
    user.click(widget, "Redo")
    assert np.any(scribbles.data == 2) and out.data[20, 55] == 2
    user.click(widget, "Accept")
    committed = widget.committed_layer.data
    assert committed[20, 12] == 1 and committed[20, 55] == 0  # class 2 is the background: not accepted
    user.click(widget, "Clear")
    assert not scribbles.data.any() and not out.data.any()
    assert widget.committed_layer.data[20, 12] == 1  # accepted labels survive a clear


def test_undo_redo_accept_by_keys_on_the_canvas(segment, user):
    viewer, widget = segment
    _two_classes(user, widget)
    user.key("Z", "Control")
    assert not np.any(widget.scribble_layer.data == 2)
    user.key("Z", "Control", "Shift")
    assert np.any(widget.scribble_layer.data == 2)
    user.key("A", "Alt")
    assert widget.committed_layer.data[20, 12] == 1


def test_display_and_model_controls(segment, user, qtbot):
    from qtpy.QtCore import Qt

    viewer, widget = segment
    _two_classes(user, widget)
    user.tick(widget.contour)
    assert widget.contour.isChecked() and widget.output_layer.contour == 2
    widget.opacity.setFocus()
    qtbot.keyClick(widget.opacity, Qt.Key.Key_End)
    assert widget.output_layer.opacity == 1.0
    before = widget.segmenter.predictor
    user.tick(widget.connected)
    assert not widget.connected.isChecked() and widget.segmenter.predictor is not before
    user.tick(widget.live)
    assert not widget.live.isChecked()
    index = widget.model_combo.findText("threshold")
    widget.model_combo.setFocus()
    while widget.model_combo.currentIndex() != index:  # arrow keys walk the list, as a user would
        qtbot.keyClick(widget.model_combo, Qt.Key.Key_Down if widget.model_combo.currentIndex() < index else Qt.Key.Key_Up)
    assert type(widget.segmenter.predictor).__name__ == "Threshold"  # the switch above: no connected wrapper
    assert widget.output_layer.data[20, 12] == 1  # re-predicted with the new model, strokes kept
    qtbot.keyClick(widget.device_combo, Qt.Key.Key_Home)
    assert widget.device_combo.currentText() == "auto"


def test_load_checkpoint_button(segment, user, monkeypatch):
    from qtpy.QtWidgets import QFileDialog

    from napari_scribbleseg.session import DEFAULT_WEIGHTS, Session

    viewer, widget = segment
    path = str(DEFAULT_WEIGHTS)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (path, "")))
    user.click(widget, "Load checkpoint...")
    assert isinstance(widget._predictor, Session) and widget.model_combo.currentText() == "default"


def test_class_table_buttons(segment, user):
    viewer, widget = segment
    user.click(widget, "+ class")
    assert widget.classes.table.rowCount() == 3
    user.click(widget, "- class")
    assert widget.classes.table.rowCount() == 2


def test_start_button_resets_the_view_and_names_layers_by_role(make_napari_viewer, qtbot):
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    viewer = make_napari_viewer(show=True)
    photo = viewer.add_image(np.random.default_rng(0).random((300, 400)), name="Flair_subtrMeanDivStd")
    viewer.camera.zoom *= 8  # the user zoomed in before docking the widget: the photo is mostly out of view
    widget = SegmentWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.model_combo.setCurrentText("nearest")
    user = User(viewer)
    user.click(widget, "Start on image")
    size = user.canvas.native.size()
    for corner in [(0, 0), (299, 399)]:
        pos = user.canvas_position(photo, corner)
        assert 0 <= pos.x() <= size.width() and 0 <= pos.y() <= size.height()
    names = [layer.name for layer in viewer.layers]
    assert {"scribbles: Flair_subtrMeanDivStd", "prediction: Flair_subtrMeanDivStd"} <= set(names)
    assert "segmentation: Flair_subtrMeanDivStd" in names


def test_long_layer_names_are_elided_in_the_middle(segment):
    viewer, widget = segment
    for combo in (widget.image_combo, widget.scribble_combo):
        combo.setMaximumWidth(120)
        combo.resize(120, combo.height())
    viewer.layers["photo"].name = "Flair_subtrMeanDivStd_patient_0042"
    widget._refresh_layer_choices()
    widget.scribble_combo.setCurrentText(widget.scribble_layer.name)
    image, scribbles = widget.image_combo.shown_text(), widget.scribble_combo.shown_text()
    assert "\u2026" in image and image.endswith("0042") and image.startswith("Fl")
    assert scribbles.startswith("scri") and image != scribbles
    assert widget.scribble_combo.toolTip() == widget.scribble_layer.name


def _volume(make_napari_viewer, balls: list[tuple[int, int]]):
    """(viewer, widget, user) started on slice 10 of a (20, 40, 40) volume (scale 2, 1, 1 mm) of bright
    balls of radius 8 centred on slice 10 at the (y, x) of ``balls``."""
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    z, y, x = np.mgrid[:20, :40, :40]
    volume = np.full((20, 40, 40), 30.0, np.float32)
    for cy, cx in balls:
        volume[((z - 10) * 2.0) ** 2 + (y - cy) ** 2 + (x - cx) ** 2 < 64] = 180.0
    viewer = make_napari_viewer(show=True)
    viewer.add_image(volume, name="volume", scale=(2.0, 1.0, 1.0))
    widget = SegmentWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.model_combo.setCurrentText("threshold")
    viewer.dims.set_point(0, 20.0)  # slice 10
    user = User(viewer)
    user.click(widget, "Start on image")
    return viewer, widget, user


def _object_and_background(widget, user, obj: list, background: list) -> None:
    """Drag a class-1 stroke along ``obj`` and, after Alt+2, a class-2 stroke along ``background``."""
    layer = widget.scribble_layer
    layer.brush_size = 2
    user.drag(layer, obj)
    user.key("2", "Alt")
    user.drag(layer, background)


def test_every_volume_button_and_step_wise_propagation(make_napari_viewer):
    viewer, widget, user = _volume(make_napari_viewer, [(20, 20)])
    _object_and_background(widget, user, [(20, 17), (20, 23)], [(2, 2), (2, 8)])
    user.click(widget, "Propagate >")
    assert widget._key == (0, 11)
    user.click(widget, "Propagate >")  # again: from the propagated slice, one more step
    assert widget._key == (0, 12)
    user.key("Right", "Alt")
    assert widget._key == (0, 13)
    committed = widget.committed_layer.data
    assert all(np.any(committed[i] == 1) for i in (11, 12, 13)) and not np.any(committed[14])
    viewer.dims.set_point(0, 20.0)
    user.click(widget, "< Propagate")
    user.click(widget, "< Propagate")
    assert widget._key == (0, 8) and np.any(committed[8] == 1) and not np.any(committed[7])
    viewer.dims.set_point(0, 20.0)
    user.click(widget, "Through object")
    assert "propagated to" in widget.status.text()
    assert np.any(committed[7] == 1) and not np.any(committed[:4]) and not np.any(committed[16:])
    user.click(widget, "Cancel")  # nothing running: nothing happens, nothing lost
    assert np.any(committed[7] == 1)


def test_the_model_propagates_with_growcut_unless_the_switch_is_off(make_napari_viewer):
    """The shipped model segments the scribbled slice; "Propagate >" carries it with GrowCut while the
    switch is on, with the model once it is ticked off."""
    viewer, widget, user = _volume(make_napari_viewer, [(20, 20)])
    widget.model_combo.setCurrentText("default")
    assert widget.propagate_growcut.isChecked()  # on by default
    _object_and_background(widget, user, [(20, 15), (20, 25)], [(2, 2), (2, 30)])
    user.click(widget, "Propagate >")
    volume = next(iter(widget.segmenter._volumes.values()))
    assert type(volume.predictor).__name__ == "Session" and volume.propagator.name == "growcut"
    assert widget._key == (0, 11) and np.any(widget.committed_layer.data[11] == 1)
    user.tick(widget.propagate_growcut)
    assert not widget.propagate_growcut.isChecked()
    user.click(widget, "Propagate >")
    volume = next(iter(widget.segmenter._volumes.values()))
    assert volume.propagator is volume.predictor and widget._key == (0, 12)
    assert np.any(widget.committed_layer.data[12] == 1)


def test_through_object_finishes_in_3d_unless_the_switch_is_off(make_napari_viewer, monkeypatch):
    """"Through object" propagates slice by slice, then the 3-D walker re-segments around the scribbled
    slice (on by default); ticked off, the slice-by-slice result stays. The scribbled slice never changes."""
    from napari_scribbleseg.volume import VolumeSegmenter

    calls = []
    original = VolumeSegmenter.walk_3d
    monkeypatch.setattr(VolumeSegmenter, "walk_3d", lambda self: calls.append(1) or original(self))
    viewer, widget, user = _volume(make_napari_viewer, [(20, 20)])
    assert widget.walk_3d.isChecked()
    _object_and_background(widget, user, [(20, 17), (20, 23)], [(2, 2), (2, 8)])
    shown = widget.segmenter.predictions[(0, 10)].copy()  # what the user saw on the scribbled slice
    user.click(widget, "Through object")
    assert calls == [1] and "propagated to" in widget.status.text()
    committed = widget.committed_layer.data
    # the ball (radius 8 mm, slices 2 mm apart) spans slices 7-13: found there (the scribbled slice 10 is
    # the user's to accept), nothing far beyond
    assert all(np.any(committed[i] == 1) for i in (7, 8, 9, 11, 12, 13))
    assert not np.any(committed[:5] == 1) and not np.any(committed[16:] == 1)
    volume = next(iter(widget.segmenter._volumes.values()))
    assert np.array_equal(volume.slice_labels(10), shown)
    user.click(widget, "Propagate >")  # a step never runs the walker
    assert calls == [1]
    user.tick(widget.walk_3d)
    assert not widget.walk_3d.isChecked() and not widget.segmenter.walk_3d
    viewer.dims.set_point(0, 20.0)
    user.click(widget, "Through object")
    assert calls == [1] and np.any(committed[8] == 1)


def test_a_background_stroke_on_a_propagated_slice_trims_it_and_keeps_the_object(make_napari_viewer):
    """The user propagates through the object, goes to a propagated slice and paints one background stroke
    there: the slice keeps its object (the stroke gives the background only; the slice's own object is
    carried as a seed, as propagation segmented it) instead of losing it for want of an object stroke."""
    viewer, widget, user = _volume(make_napari_viewer, [(20, 20)])
    _object_and_background(widget, user, [(20, 17), (20, 23)], [(2, 2), (2, 8)])
    user.click(widget, "Through object")
    assert np.any(widget.committed_layer.data[12] == 1)
    viewer.dims.set_point(0, 24.0)  # slice 12, propagated to
    assert widget._key == (0, 12)
    user.key("2", "Alt")
    user.drag(widget.scribble_layer, [(36, 4), (36, 12)])
    shown = widget.output_layer.data[12]
    assert shown[20, 20] == 1 and np.count_nonzero(shown == 1) > 50
    assert np.all(shown[36, 4:13] == 2)


def test_evaluate_widget_run_and_exports(make_napari_viewer, qtbot, tmp_path, monkeypatch):
    from qtpy.QtWidgets import QFileDialog

    from napari_scribbleseg._napari._evaluate_widget import SCOPES, EvaluateWidget
    from napari_scribbleseg._napari._sample_data import mr_brain_sample

    viewer = make_napari_viewer(show=True)
    for data, kwargs, kind in mr_brain_sample():
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    widget = EvaluateWidget(viewer)
    viewer.window.add_dock_widget(widget)
    assert widget.scope_combo.currentText() == SCOPES[1]  # a volume: the slice in view by itself
    assert "default" in widget.checked_predictors()      # the shipped model is checked by default
    widget.set_predictors(["nearest"])
    widget.max_spin.setValue(3)
    image = widget.image_combo.currentText()
    z = int(np.argmax(np.asarray(viewer.layers[widget.gt_combo.currentText()].data).sum((1, 2))))
    viewer.dims.set_point(0, viewer.layers[image].data_to_world((z, 0, 0))[0])
    user = User(viewer)
    user.click(widget, "Run evaluation")
    assert widget.table.rowCount() == 1
    assert image in widget.figure.axes[0].get_title() and "arrays" not in widget.figure.axes[0].get_title()
    for button, name in (("Export CSV...", "r.csv"), ("Export PNG...", "r.png")):
        target = str(tmp_path / name)
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, t=target, **k: (t, "")))
        user.click(widget, button)
        assert (tmp_path / name).stat().st_size > 0


def test_evaluate_widget_instance_protocol(make_napari_viewer):
    """Ticking "instances" and clicking Run annotates each object of an instance map in turn, largest first."""
    from napari_scribbleseg._napari._evaluate_widget import EvaluateWidget

    yy, xx = np.mgrid[:60, :80]
    image = np.full((60, 80), 10.0, np.float32)
    instances = np.zeros((60, 80), np.int32)
    for label, (cy, cx, r) in zip((3, 400, 9), [(15, 15, 6), (20, 55, 10), (45, 30, 8)]):
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        image[inside], instances[inside] = 200.0, label
    viewer = make_napari_viewer(show=True)
    viewer.add_image(image, name="nuclei")
    viewer.add_labels(instances, name="nuclei ids")
    widget = EvaluateWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.image_combo.setCurrentText("nuclei")
    widget.gt_combo.setCurrentText("nuclei ids")
    widget.set_predictors(["threshold"])
    widget.max_spin.setValue(3)
    user = User(viewer)
    user.tick(widget.instances)
    user.click(widget, "Run evaluation")
    assert [row["sample"] for row in widget.result.rows] == ["nuclei #400", "nuclei #9", "nuclei #3"]
    assert widget.table.rowCount() == 1 and widget.result.settings["protocol"].startswith("instances")
    widget.row_combo.setCurrentIndex(1)  # stepping shows the second object's strokes on the image
    shown = np.asarray(viewer.layers["simulated scribbles"].data)
    assert shown.any() and np.all(instances[shown == 1] == 9)


def _nuclei(make_napari_viewer, brightness: dict):
    """(widget, user) on a (60, 80) image of disks {centre: brightness}, started in instance mode."""
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    yy, xx = np.mgrid[:60, :80]
    image = np.full((60, 80), 10.0, np.float32)
    for (cy, cx), value in brightness.items():
        image[(yy - cy) ** 2 + (xx - cx) ** 2 < 64] = value
    viewer = make_napari_viewer(show=True)
    viewer.add_image(image, name="nuclei")
    widget = SegmentWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.model_combo.setCurrentText("threshold")
    user = User(viewer)
    user.click(widget, "Start on image")
    user.tick(widget.instances)
    assert widget.instances.isChecked()
    return widget, user


def test_instances_three_nuclei_in_a_row_with_undo(make_napari_viewer):
    centres = [(15, 15), (15, 60), (45, 38)]
    widget, user = _nuclei(make_napari_viewer, {c: 200.0 for c in centres})
    layer = widget.scribble_layer
    layer.brush_size = 2
    user.key("2", "Alt")
    user.drag(layer, [(2, 2), (2, 77), (57, 77)])  # background once, kept for every nucleus
    for cy, cx in centres:
        user.key("1", "Alt")
        user.drag(layer, [(cy, cx - 2), (cy, cx + 2)])
        user.key("A", "Alt")  # accept and move on
        assert not np.any(layer.data == 1)  # the object's strokes are cleared, the background's stay
        assert np.any(layer.data == 2)
    committed = widget.committed_layer.data
    ids = [int(committed[cy, cx]) for cy, cx in centres]
    assert ids == [1, 2, 3] and set(np.unique(committed)) == {0, 1, 2, 3}
    assert widget.output_layer.data[15, 15] != 1  # accepted objects are background for the next
    user.click(widget, "Undo")  # right after an accept: the last object goes, its strokes come back
    assert not np.any(widget.committed_layer.data == 3) and widget.committed_layer.data[15, 60] == 2
    assert np.any(layer.data == 1)
    user.key("A", "Alt")
    assert widget.committed_layer.data[45, 38] == 3


def test_instances_a_committed_nucleus_is_corrected_under_its_id(make_napari_viewer):
    widget, user = _nuclei(make_napari_viewer, {(20, 20): 200.0, (20, 55): 120.0})  # one bright, one dim
    user.tick(widget.connected)  # a class may hold detached parts: the object here is two blobs
    layer = widget.scribble_layer
    layer.brush_size = 2
    user.key("2", "Alt")
    user.drag(layer, [(2, 2), (2, 77)])
    user.key("1", "Alt")
    user.drag(layer, [(20, 18), (20, 22)])  # the bright one: threshold takes only it
    user.key("A", "Alt")
    committed = widget.committed_layer.data
    assert committed[20, 20] == 1 and committed[20, 55] == 0
    user.click(widget, "Edit object")
    user.drag(layer, [(20, 20)])  # a click on object 1 picks it; nothing is painted
    assert not np.any(layer.data == 1) and "correcting object 1" in widget.status.text()
    user.key("1", "Alt")
    user.drag(layer, [(20, 53), (20, 57)])  # the dim nucleus belongs to this object too
    user.key("A", "Alt")
    committed = widget.committed_layer.data
    assert committed[20, 20] == 1 and committed[20, 55] == 1 and committed.max() == 1  # same id, no new one


def test_instances_an_accepted_object_propagates_through_the_volume_with_its_id(make_napari_viewer):
    viewer, widget, user = _volume(make_napari_viewer, [(12, 12), (28, 28)])
    user.tick(widget.instances)
    layer = widget.scribble_layer
    layer.brush_size = 2
    user.key("2", "Alt")
    user.drag(layer, [(2, 2), (2, 37), (37, 37)])
    for cy, cx in [(12, 12), (28, 28)]:
        user.key("1", "Alt")
        user.drag(layer, [(cy, cx - 2), (cy, cx + 2)])
        user.key("A", "Alt")
    user.click(widget, "Propagate >")  # carries the object accepted last (id 2) to slice 11
    user.click(widget, "Propagate >")  # and on to 12, step by step
    committed = widget.committed_layer.data
    assert committed[11, 28, 28] == 2 and committed[12, 28, 28] == 2
    assert committed[11, 12, 12] == 0  # the other object was not carried
    assert "object 2 propagated" in widget.status.text()
