"""The segmentation widget in a real viewer: strokes drive the output, undo/redo, accept, classes."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def test_painted_stroke_updates_output(segment, paint):
    viewer, widget = segment
    scribbles, output = widget.scribble_layer, widget.output_layer
    paint(scribbles, [(20, 10), (20, 14), (20, 18)], 1)
    assert set(np.unique(output.data)) == {1}  # one class: the whole image follows it
    paint(scribbles, [(5, 50), (30, 50)], 2)
    assert output.data[20, 12] == 1 and output.data[20, 55] == 2
    assert "ms per stroke" in widget.status.text()


def test_data_setitem_and_three_classes(segment, paint):
    viewer, widget = segment
    layer = widget.scribble_layer
    layer.data_setitem((np.array([2, 2]), np.array([2, 3])), 1)
    layer.data_setitem((np.array([37, 37]), np.array([2, 3])), 2)
    layer.data_setitem((np.array([20, 20]), np.array([57, 58])), 3)
    out = widget.output_layer.data
    assert out[0, 0] == 1 and out[39, 0] == 2 and out[20, 59] == 3
    assert widget.classes.table.rowCount() >= 2


def test_undo_redo_keys_move_strokes_and_prediction(segment, paint):
    viewer, widget = segment
    layer = widget.scribble_layer
    paint(layer, [(20, 10)], 1)
    paint(layer, [(20, 50)], 2)
    assert widget.output_layer.data[20, 55] == 2
    undo = [f for k, f in layer.keymap.items() if str(k) == "Ctrl+Z"][0]
    undo(layer)
    assert not np.any(layer.data == 2)
    assert set(np.unique(widget.output_layer.data)) == {1}
    widget.redo()
    assert np.any(layer.data == 2) and widget.output_layer.data[20, 55] == 2
    widget.undo()
    widget.undo()
    assert not np.any(layer.data)
    assert not np.any(widget.output_layer.data)


def test_accept_keeps_foreign_labels_and_clear_keeps_accepted(segment, paint):
    viewer, widget = segment
    committed = widget.committed_layer
    committed.data[0:3, 0:3] = 9  # labels the user made before; not ours to overwrite
    paint(widget.scribble_layer, [(20, 10)], 1)
    widget.accept()
    assert np.all(committed.data[0:3, 0:3] == 9)
    assert committed.data[20, 30] == 1
    widget.clear()
    assert not np.any(widget.scribble_layer.data) and not np.any(widget.output_layer.data)
    assert committed.data[20, 30] == 1  # accepted labels survive a clear


def test_reaccept_keeps_a_hand_edit_of_an_accepted_pixel(segment, paint):
    viewer, widget = segment
    committed = widget.committed_layer
    paint(widget.scribble_layer, [(20, 10)], 1)
    widget.accept()
    assert committed.data[20, 30] == 1
    committed.data[20, 30] = 7  # the user corrects one accepted pixel by hand
    widget.select_class(3)
    paint(widget.scribble_layer, [(20, 40)], 3)  # the prediction now claims that pixel as class 3
    assert widget.output_layer.data[20, 30] == 3
    widget.accept()
    assert committed.data[20, 30] == 7 and committed.data[20, 55] == 3


def test_background_class_is_not_accepted(segment, paint):
    viewer, widget = segment
    paint(widget.scribble_layer, [(20, 15)], 1)
    paint(widget.scribble_layer, [(5, 50)], 2)
    widget.set_predictor("threshold")  # switching the model keeps the strokes and their undo history
    assert len(widget.segmenter.scribbles_of(()).log) == 2
    widget.accept()
    committed = widget.committed_layer.data
    assert committed[20, 15] == 1 and committed[5, 50] == 0 and committed[35, 55] == 0


def test_class_keys_pick_the_brush_label(segment, paint):
    viewer, widget = segment
    layer = widget.scribble_layer
    [f for k, f in layer.keymap.items() if str(k) == "Alt+3"][0](layer)
    assert layer.selected_label == 3 and widget.classes.table.rowCount() == 3


@pytest.mark.shown
def test_canvas_draws_the_prediction(segment, paint):
    viewer, widget = segment
    paint(widget.scribble_layer, [(20, 12)], 1)
    paint(widget.scribble_layer, [(20, 55)], 2)
    widget.opacity.setValue(100)
    shot = viewer.screenshot(canvas_only=True, flash=False)
    assert shot.shape[-1] == 4 and shot[..., :3].std() > 10  # really rendered, not a blank canvas


def test_worker_thread_keeps_viewer_responsive_and_drops_stale(segment, paint, monkeypatch, qtbot):
    import time

    from napari_scribbleseg.interactive import InteractiveSegmenter

    viewer, widget = segment
    monkeypatch.delenv("SCRIBBLESEG_SYNC")
    slow = widget.segmenter.predictor
    original = slow.predict

    def predict(scribbles, prev=None):
        time.sleep(0.3)
        return original(scribbles, prev)

    monkeypatch.setattr(slow, "predict", predict)
    delivered = []
    deliver = InteractiveSegmenter.deliver
    monkeypatch.setattr(widget.segmenter, "deliver", lambda r: delivered.append(deliver(widget.segmenter, r)) or delivered[-1])
    paint(widget.scribble_layer, [(20, 10)], 1)
    paint(widget.scribble_layer, [(20, 50)], 2)  # arrives while the first prediction runs
    assert widget._worker is not None and not np.any(widget.output_layer.data)  # painting did not wait
    qtbot.waitUntil(lambda: widget.output_layer.data[20, 55] == 2, timeout=5000)
    qtbot.waitUntil(lambda: widget._worker is None, timeout=5000)
    assert delivered == [False, True]  # the first (stale) result was dropped, the latest shown


def test_output_follows_during_the_drag(segment, monkeypatch, qtbot):
    viewer, widget = segment
    monkeypatch.delenv("SCRIBBLESEG_SYNC")
    layer = widget.scribble_layer
    layer.brush_size = 3
    layer.selected_label = 1
    layer._begin_stroke()  # mouse pressed: napari groups the drag's edits into one history item
    layer.paint((20, 10), 1)
    qtbot.waitUntil(lambda: widget.output_layer.data[0, 0] == 1, timeout=5000)  # before the mouse is released
    assert widget.segmenter.scribbles_of(()).log == []  # the stroke is logged only when it ends
    layer.paint((20, 14), 1)
    layer._commit_stroke()
    qtbot.waitUntil(lambda: len(widget.segmenter.scribbles_of(()).log) == 1 and widget._worker is None, timeout=5000)


def test_shapes_layer_as_scribbles(make_napari_viewer, image):
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    viewer = make_napari_viewer()
    viewer.add_image(image, name="photo")
    shapes = viewer.add_shapes(
        [np.array([[20, 8], [20, 20]]), np.array([[5, 45], [35, 55]])],
        shape_type=["path", "path"], features={"label": [1, 2]}, name="strokes",
    )
    widget = SegmentWidget(viewer)
    widget.model_combo.setCurrentText("nearest")
    widget.scribble_combo.setCurrentText("strokes")
    widget.start("photo")
    out = widget.output_layer.data
    assert out[20, 10] == 1 and out[20, 55] == 2
    widget.undo()  # removes the last shape: only class 1 is left
    assert len(shapes.data) == 1 and set(np.unique(widget.output_layer.data)) == {1}
    widget.redo()
    assert len(shapes.data) == 2 and widget.output_layer.data[20, 55] == 2
    assert list(shapes.features["label"]) == [1, 2]


def test_start_on_a_second_image_keeps_the_first_session_layers(segment, paint):
    viewer, widget = segment
    paint(widget.scribble_layer, [(20, 12)], 1)
    widget.accept()
    first_scribbles, first_committed = widget.scribble_layer, widget.committed_layer
    viewer.add_image(np.zeros((30, 30)), name="second")
    widget.start("second")
    assert widget.scribble_layer is not first_scribbles and widget.scribble_layer.data.shape == (30, 30)
    assert np.any(first_scribbles.data) and np.any(first_committed.data)  # nothing of the first image lost
    widget.contour.setChecked(True)
    widget.opacity.setValue(30)
    assert widget.output_layer.contour == 2 and widget.output_layer.opacity == pytest.approx(0.3)


def test_a_new_layer_that_reuses_a_removed_layers_id_starts_clean(segment, paint, monkeypatch):
    """Python reuses ids of freed objects; state of a removed layer must not stick to a new one."""
    import builtins

    from napari_scribbleseg._napari import _segment_widget as module

    viewer, widget = segment
    paint(widget.scribble_layer, [(20, 10)], 1)
    widget.accept()  # every pixel of the old committed layer is now "written by us" as 1
    old_scribbles, old_committed = widget.scribble_layer, widget.committed_layer
    viewer.layers.remove(old_scribbles)
    viewer.layers.remove(old_committed)
    new_scribbles = viewer.add_labels(np.zeros((40, 60), np.uint8), name="strokes 2")
    new_committed = viewer.add_labels(np.ones((40, 60), np.int32), name="user labels")  # the user's own 1s
    reuse = {builtins.id(new_scribbles): builtins.id(old_scribbles), builtins.id(new_committed): builtins.id(old_committed)}
    monkeypatch.setattr(module, "id", lambda o: reuse.get(builtins.id(o), builtins.id(o)), raising=False)
    widget.scribble_combo.setCurrentText("strokes 2")
    widget.committed_combo.setCurrentText("user labels")
    widget.start("photo")
    assert widget.scribble_layer is new_scribbles and widget.committed_layer is new_committed
    widget.select_class(3)
    paint(new_scribbles, [(20, 40)], 3)
    assert np.all(widget.output_layer.data == 3)  # the new scribble layer's strokes reach the widget
    widget.accept()
    assert np.all(new_committed.data == 1)  # none of the user's labels counts as written by the widget


def test_load_checkpoint_builds_the_model_once(segment, monkeypatch):
    from napari_scribbleseg._napari import _notify

    viewer, widget = segment
    built, errors = [], []
    monkeypatch.setattr(_notify, "report", lambda exc: errors.append(exc))

    def build(name, device="auto", connected=True, checkpoint=None):
        built.append((name, checkpoint))
        raise FileNotFoundError("no such checkpoint")

    from napari_scribbleseg import interactive

    monkeypatch.setattr(interactive, "make_predictor", build)
    widget.load_checkpoint("missing.pt")
    assert built == [("default", "missing.pt")]  # one load, not one per combo-box signal
    assert len(errors) == 1 and "missing.pt" not in str(widget._checkpoint)


def test_class_picked_applies_to_new_shapes(make_napari_viewer, image):
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    viewer = make_napari_viewer()
    viewer.add_image(image, name="photo")
    shapes = viewer.add_shapes([np.array([[20, 8], [20, 20]])], shape_type=["path"], name="strokes")  # no label feature
    widget = SegmentWidget(viewer)
    widget.model_combo.setCurrentText("nearest")
    widget.scribble_combo.setCurrentText("strokes")
    widget.start("photo")
    [f for k, f in shapes.keymap.items() if str(k) == "Alt+2"][0](shapes)
    shapes.add(np.array([[5, 45], [35, 55]]), shape_type="path")
    assert list(shapes.features["label"]) == [1, 2]
    assert widget.output_layer.data[20, 10] == 1 and widget.output_layer.data[20, 55] == 2
    widget.select_class(3)
    shapes.add(np.array([[2, 2], [2, 6]]), shape_type="path")
    assert list(shapes.features["label"]) == [1, 2, 3]


def test_shapes_follow_the_image_scale_and_translate(make_napari_viewer, image):
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    viewer = make_napari_viewer()
    viewer.add_image(image, name="photo", scale=(2.0, 2.0), translate=(10.0, 0.0))  # world = 2 * pixel + (10, 0)
    # drawn in world units on a layer with the default scale: the image pixel (20, 50) is world (50, 100)
    shapes = viewer.add_shapes(
        [np.array([[50, 16], [50, 40]]), np.array([[20, 100], [70, 100]])],
        shape_type=["path", "path"], features={"label": [1, 3]}, name="strokes",
    )
    widget = SegmentWidget(viewer)
    widget.model_combo.setCurrentText("nearest")
    widget.scribble_combo.setCurrentText("strokes")
    widget.start("photo")
    scribbles = widget.segmenter.scribbles_of(()).labels
    assert scribbles[20, 8] == 1 and scribbles[20, 50] == 3 and scribbles[5, 50] == 3
    assert not np.any(scribbles[:, 23:48])  # the class-1 path ends at pixel 20 (world 40), not at 40
    assert widget.output_layer.data[20, 12] == 1 and widget.output_layer.data[20, 55] == 3
    assert len(shapes.data) == 2


def test_connected_switch_drops_look_alikes_away_from_the_strokes(make_napari_viewer, paint):
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    yy, xx = np.mgrid[:40, :60]
    two_disks = ((((yy - 20) ** 2 + (xx - 12) ** 2) < 64) | (((yy - 20) ** 2 + (xx - 48) ** 2) < 64)) * 200.0 + 20
    viewer = make_napari_viewer()
    viewer.add_image(two_disks, name="two")
    widget = SegmentWidget(viewer)
    widget.model_combo.setCurrentText("threshold")
    widget.start("two")
    assert widget.connected.isChecked()  # on by default
    paint(widget.scribble_layer, [(20, 10), (20, 14)], 1)
    paint(widget.scribble_layer, [(2, 30)], 2)
    out = widget.output_layer.data
    assert out[20, 12] == 1 and out[20, 48] == 2  # the right disk touches no class-1 stroke: background
    widget.connected.setChecked(False)  # strokes and their history survive the switch
    out = widget.output_layer.data
    assert out[20, 12] == 1 and out[20, 48] == 1
    assert len(widget.segmenter.scribbles_of(()).log) == 2
