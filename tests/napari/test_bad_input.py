"""Bad input in the viewer: a notification naming the fix, never a traceback, nothing painted or accepted lost."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


@pytest.fixture
def notes(monkeypatch):
    """Messages of the error / warning notifications the plugin shows."""
    from napari_scribbleseg._napari import _notify

    shown: list[str] = []
    monkeypatch.setattr(_notify, "show_error", shown.append)
    monkeypatch.setattr(_notify, "show_warning", shown.append)
    return shown


@pytest.fixture
def bare(make_napari_viewer):
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    viewer = make_napari_viewer()
    widget = SegmentWidget(viewer)
    widget.model_combo.setCurrentText("nearest")
    return viewer, widget


def test_no_image_layer(bare, notes):
    viewer, widget = bare
    widget.start()
    assert notes and "no image layer" in notes[0]
    assert len(viewer.layers) == 0


@pytest.mark.parametrize(
    "data, kwargs, words",
    [
        (np.zeros((2, 3, 16, 16), np.float32), {}, "4-D"),
        (np.zeros((16, 16, 4), np.uint8), {"rgb": True}, "RGBA"),
        (np.zeros((4100, 4100), np.uint8), {}, "crop the region of interest or downsample"),
    ],
    ids=["4d", "rgba", "huge"],
)
def test_unusable_images(bare, notes, data, kwargs, words):
    viewer, widget = bare
    viewer.add_image(data, name="bad", **kwargs)
    widget.start("bad")
    assert notes and words in notes[0]
    assert widget.segmenter is None and [l.name for l in viewer.layers] == ["bad"]


def test_labels_layer_of_another_shape(segment, paint, notes):
    viewer, widget = segment
    paint(widget.scribble_layer, [(20, 12)], 1)
    widget.accept()
    painted = widget.scribble_layer.data.copy()
    accepted = widget.committed_layer.data.copy()
    viewer.add_labels(np.zeros((10, 10), np.int32), name="small")
    widget.scribble_combo.setCurrentText("small")
    widget.start("photo")
    assert notes and "shape (10, 10)" in notes[0] and "(40, 60)" in notes[0]
    assert np.array_equal(widget.scribble_layer.data, painted) and np.array_equal(widget.committed_layer.data, accepted)
    paint(widget.scribble_layer, [(20, 55)], 2)  # the session still works
    assert widget.output_layer.data[20, 55] == 2


def test_float_ground_truth_in_evaluation(make_napari_viewer, notes, image):
    from napari_scribbleseg._napari._evaluate_widget import EvaluateWidget

    viewer = make_napari_viewer()
    viewer.add_image(image, name="photo")
    viewer.add_image(np.random.default_rng(0).random(image.shape), name="soft mask")
    widget = EvaluateWidget(viewer)
    widget.image_combo.setCurrentText("photo")
    widget.gt_combo.setCurrentText("soft mask")
    widget.run()
    assert notes and "non-integer" in notes[0]
    assert widget.result is None


def test_failing_predictor_keeps_strokes(segment, paint, notes, monkeypatch):
    viewer, widget = segment
    paint(widget.scribble_layer, [(20, 12)], 1)
    widget.accept()
    accepted = widget.committed_layer.data.copy()

    def broken(scribbles, prev=None):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(widget.segmenter.predictor, "predict", broken)
    paint(widget.scribble_layer, [(20, 50)], 2)
    assert notes and "out of memory" in notes[0]
    assert np.count_nonzero(widget.scribble_layer.data == 2) > 0
    assert np.array_equal(widget.committed_layer.data, accepted)


def test_removing_the_image_mid_session(segment, paint, notes):
    viewer, widget = segment
    paint(widget.scribble_layer, [(20, 12)], 1)
    viewer.layers.remove("photo")
    paint(widget.scribble_layer, [(20, 50)], 2)  # no session: painting just paints
    widget.accept()
    assert notes and "Start" in notes[-1]
    assert np.count_nonzero(widget.scribble_layer.data) > 0


def test_propagate_on_a_2d_image(segment, notes):
    viewer, widget = segment
    widget.propagate(+1)
    assert notes and "3-D volume" in notes[0]


@pytest.mark.errors_expected
def test_a_worker_failure_is_one_notification_and_no_traceback(segment, paint, monkeypatch, qtbot, capfd, no_error_notifications):
    viewer, widget = segment
    monkeypatch.delenv("SCRIBBLESEG_SYNC")  # predictions run in a worker thread

    def broken(scribbles, prev=None):
        raise RuntimeError("the model ran out of memory; pick a smaller model")

    monkeypatch.setattr(widget.segmenter.predictor, "predict", broken)
    paint(widget.scribble_layer, [(20, 12)], 1)
    qtbot.waitUntil(lambda: widget._worker is None, timeout=10000)
    qtbot.wait(50)
    assert no_error_notifications == ["RuntimeError: the model ran out of memory; pick a smaller model"]
    assert "Traceback" not in capfd.readouterr().err
    assert np.any(widget.scribble_layer.data == 1)  # the stroke stays
    no_error_notifications.clear()


def test_a_worker_failure_in_a_plain_script_does_not_abort(tmp_path):
    """No napari.run() hooks: a re-raised exception in a Qt slot would abort the process (PyQt6 qFatal)."""
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(
        "import numpy as np, napari\n"
        "from qtpy.QtWidgets import QApplication\n"
        "from napari_scribbleseg._napari._segment_widget import SegmentWidget\n"
        "viewer = napari.Viewer(show=False)\n"
        "viewer.add_image(np.random.default_rng(0).random((40, 60)), name='photo')\n"
        "widget = SegmentWidget(viewer)\n"
        "widget.model_combo.setCurrentText('growcut')\n"
        "widget.start('photo')\n"
        "def broken(scribbles, prev=None):\n"
        "    raise RuntimeError('broken on purpose')\n"
        "widget.segmenter.predictor.predict = broken\n"
        "widget.scribble_layer.data_setitem((np.array([20]), np.array([12])), 1)\n"
        "for _ in range(200):\n"
        "    QApplication.processEvents()\n"
        "    if widget._worker is None:\n"
        "        break\n"
        "    import time; time.sleep(0.02)\n"
        "QApplication.processEvents()\n"
        "print('still running')\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "SCRIBBLESEG_SYNC"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0 and "still running" in done.stdout, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
