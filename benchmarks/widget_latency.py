"""What the widget adds to a prediction: stroke written -> output layer updated, against predict() alone.

In a real napari viewer (run under a display or Xvfb), strokes are written into the scribble layer the
way the brush writes them; the widget runs synchronously (SCRIBBLESEG_SYNC=1) so the time from the
stroke to the refreshed output layer is measured on one thread, and inside that same call the time the
predictor itself took (set_image + predict, as the widget's Result records it). The difference is the
widget's overhead (stroke log, snapshot, layer writes and refresh); the ratio says how much of the
felt latency is the model's. Medians over the strokes.

    xvfb-run -a python benchmarks/widget_latency.py [--strokes 12] [--size 512]

Predictors: growcut, and the model Session (the shipped weights where installed, else the same
architecture untrained, which costs the same time).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ["SCRIBBLESEG_SYNC"] = "1"


def session_predictor():
    from napari_scribbleseg.predictor import get_predictor

    try:
        return "default (shipped)", get_predictor("default", device="cpu")
    except FileNotFoundError:
        from napari_scribbleseg.model import build_scribbleseg_lite0
        from napari_scribbleseg.session import Session

        return "session (lite0, untrained)", Session(build_scribbleseg_lite0(), device="cpu")


def strokes(n: int, size: int, seed: int = 0):
    """n strokes: (label, rows, cols) short segments, alternating object (1) and background (2)."""
    from napari_scribbleseg.scribbles import rasterize_path

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = 1 if i % 2 == 0 else 2
        centre = rng.uniform(0.3, 0.7, 2) * size if label == 1 else rng.uniform(0.02, 0.25, 2) * size
        path = np.stack([centre, centre + rng.uniform(-0.1, 0.1, 2) * size])
        rows, cols = np.nonzero(rasterize_path(path, (size, size), width=5))
        out.append((label, rows, cols))
    return out


def measure(viewer, widget, name, predictor, image, plan):
    for layer in list(viewer.layers):
        if layer.name != "image":
            viewer.layers.remove(layer)
    widget.scribble_combo.setCurrentText("<new>")
    widget.committed_combo.setCurrentText("<new>")
    widget.set_predictor(predictor)
    widget.start("image")
    layer = widget.scribble_layer
    t_widget, t_predict = [], []
    for label, rows, cols in plan:
        t0 = time.perf_counter()
        layer.data_setitem((rows, cols), label)  # the paint event drives record -> predict -> show
        t_widget.append(time.perf_counter() - t0)
        # the predictor's own time inside that same call (image features were computed at start)
        t_predict.append((widget.last_result.t_predict_ms + widget.last_result.t_image_ms) / 1e3)
    w, p = np.median(t_widget) * 1e3, np.median(t_predict) * 1e3
    print(f"{name:28s} {image.shape[0]:>5d}  {p:10.1f}  {w:10.1f}  {w - p:11.1f}  {w / p:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=12)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    import napari
    from skimage import data, transform

    from napari_scribbleseg._napari._segment_widget import SegmentWidget
    from napari_scribbleseg.predictor import get_predictor

    image = data.astronaut()
    if image.shape[0] != args.size:
        image = (transform.resize(image, (args.size, args.size), anti_aliasing=True) * 255).astype(np.uint8)
    viewer = napari.Viewer(show=True)
    viewer.add_image(image, name="image", rgb=True)
    widget = SegmentWidget(viewer)
    viewer.window.add_dock_widget(widget)
    plan = strokes(args.strokes, args.size)
    print(f"{'predictor':28s} {'size':>5s}  {'predict ms':>10s}  {'widget ms':>10s}  {'overhead ms':>11s}  {'ratio':>7s}")
    for name, predictor in [("growcut", get_predictor("growcut")), session_predictor()]:
        measure(viewer, widget, name, predictor, image, plan)
    viewer.close()


if __name__ == "__main__":
    main()
