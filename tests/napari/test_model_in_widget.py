"""The real model Session behind the widget: a checkpoint loaded from a file segments live strokes."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


@pytest.fixture
def tiny_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    from napari_scribbleseg.model import build_scribbleseg_tiny, save_checkpoint

    torch.manual_seed(0)
    path = tmp_path / "tiny.pt"
    save_checkpoint(build_scribbleseg_tiny(), path)
    return path


def test_load_checkpoint_and_paint(segment, paint, tiny_checkpoint):
    viewer, widget = segment
    widget.load_checkpoint(str(tiny_checkpoint))
    assert type(widget.segmenter.predictor).__name__ == "Session"
    paint(widget.scribble_layer, [(20, 12), (20, 16)], 1)
    first = np.asarray(widget.scribble_layer.data).copy()
    paint(widget.scribble_layer, [(5, 50), (35, 50)], 2)
    out = np.asarray(widget.output_layer.data)
    # what the widget shows is what a script gets from the same checkpoint, image and strokes in that order
    from napari_scribbleseg.session import Session

    script = Session(tiny_checkpoint, device="cpu")
    script.set_image(np.asarray(viewer.layers["photo"].data))
    script.predict(first)
    assert np.array_equal(out, script.predict(np.asarray(widget.scribble_layer.data)))


def test_bad_checkpoint_is_a_notification_and_keeps_the_model(segment, tmp_path, monkeypatch):
    from napari_scribbleseg._napari import _notify

    viewer, widget = segment
    errors = []
    monkeypatch.setattr(_notify, "show_error", errors.append)
    before = widget.segmenter.predictor
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    widget.load_checkpoint(str(bad))
    assert errors and "broken.pt" in errors[0]
    assert widget.segmenter.predictor is before
