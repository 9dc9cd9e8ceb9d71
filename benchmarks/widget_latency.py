"""What the user waits for: mouse release at the end of a stroke -> the new mask drawn on the canvas.

In a real napari viewer (under a display or Xvfb), strokes are dragged on the canvas through Qt mouse
events (press, moves, release; ``napari_scribbleseg._napari._real_input``), on a 512^2 photo with three
classes. For each stroke the clock starts just before the release event is sent and stops when the
canvas has drawn a frame showing the new prediction. Beside it, the Session's own time for that
prediction (``Result.t_predict_ms + t_image_ms``): the difference is the widget's and napari's overhead.

Two modes: ``sync`` (SCRIBBLESEG_SYNC=1: the prediction runs on the GUI thread inside the release) and
``worker`` (the default in use: a worker thread, the result delivered through the Qt event loop). For
the worker mode it also drags one long stroke slowly and counts the live updates shown per second. Last,
the time napari takes to draw one frame of the same canvas with nothing changed: under Xvfb that is software
OpenGL, a floor below which no widget code can bring an update.

    xvfb-run -a python benchmarks/widget_latency.py [--strokes 20] [--size 512] [--model default]

Target (issue 12): p95 <= 60 ms on this CPU, live updates >= 10 per second.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def stroke_plan(n: int, size: int, seed: int = 0) -> list[tuple[int, np.ndarray]]:
    """n short strokes (class, (k, 2) data points), cycling classes 1, 2, 3 over three regions."""
    rng = np.random.default_rng(seed)
    centres = {1: (0.45, 0.5), 2: (0.1, 0.15), 3: (0.85, 0.8)}
    out = []
    for i in range(n):
        label = 1 + i % 3
        c = (np.asarray(centres[label]) + rng.uniform(-0.06, 0.06, 2)) * size
        end = c + rng.uniform(-0.08, 0.08, 2) * size
        out.append((label, np.linspace(c, end, 6)))
    return out


def wait_for(predicate, timeout_s: float = 10.0) -> None:
    from qtpy.QtWidgets import QApplication

    end = time.perf_counter() + timeout_s
    while not predicate():
        QApplication.processEvents()
        if time.perf_counter() > end:
            raise TimeoutError("the prediction did not reach the screen")
        time.sleep(0.0005)


def measure(viewer, widget, user, plan, mode: str) -> tuple[list[float], list[float]]:
    """Per stroke: (ms from release to the frame drawn, Session ms of that prediction)."""
    from qtpy.QtWidgets import QApplication

    if mode == "sync":
        os.environ["SCRIBBLESEG_SYNC"] = "1"
    else:
        os.environ.pop("SCRIBBLESEG_SYNC", None)
    user.click(widget, "Clear")
    wait_for(lambda: widget._worker is None)
    layer = widget.scribble_layer
    layer.brush_size = 5
    drawn = {"n": 0}
    viewer.window._qt_viewer.canvas._scene_canvas.events.draw.connect(lambda e: drawn.update(n=drawn["n"] + 1))
    felt, own = [], []
    for label, points in plan:
        layer.selected_label = label
        user.press(layer, points[0])
        for p in points[1:]:
            user.move(layer, p)
            QApplication.processEvents()
        wait_for(lambda: widget._worker is None)  # a live preview still running is not this stroke's wait
        before = widget.last_result
        frames = drawn["n"]
        t0 = time.perf_counter()
        user.release(layer, points[-1])
        wait_for(lambda: widget.last_result is not before and widget._worker is None and widget._pending is None)
        wait_for(lambda: drawn["n"] > frames)
        felt.append((time.perf_counter() - t0) * 1e3)
        own.append(widget.last_result.t_predict_ms + widget.last_result.t_image_ms)
    return felt, own


def frame_floor(viewer, n: int = 15) -> float:
    """Median ms for napari to draw one frame of this canvas with nothing changed (``canvas.update()`` to
    the draw event): the renderer's own share of every update (software OpenGL under Xvfb)."""
    from qtpy.QtWidgets import QApplication

    canvas = viewer.window._qt_viewer.canvas._scene_canvas
    drawn = {"n": 0}
    canvas.events.draw.connect(lambda e: drawn.update(n=drawn["n"] + 1))
    times = []
    for _ in range(n):
        frames = drawn["n"]
        t0 = time.perf_counter()
        canvas.update()
        wait_for(lambda: drawn["n"] > frames)
        times.append((time.perf_counter() - t0) * 1e3)
        for _ in range(3):
            QApplication.processEvents()
            time.sleep(0.005)
    return float(np.median(times))


def live_rate(viewer, widget, user, size: int, seconds: float = 2.0) -> float:
    """Live updates shown per second during one slow drag (worker mode)."""
    from qtpy.QtWidgets import QApplication

    os.environ.pop("SCRIBBLESEG_SYNC", None)
    layer = widget.scribble_layer
    layer.selected_label = 1
    shown = {"n": 0}
    original = widget._show

    def counting(labels):
        shown["n"] += 1
        original(labels)

    widget._show = counting
    path = np.linspace([0.35 * size, 0.35 * size], [0.6 * size, 0.6 * size], 200)
    user.press(layer, path[0])
    t0 = time.perf_counter()
    i = 1
    while time.perf_counter() - t0 < seconds:
        user.move(layer, path[min(i, len(path) - 1)])
        i += 1
        end = time.perf_counter() + 0.01
        while time.perf_counter() < end:
            QApplication.processEvents()
    elapsed = time.perf_counter() - t0
    user.release(layer, path[min(i, len(path) - 1)])
    wait_for(lambda: widget._worker is None and widget._pending is None)
    widget._show = original
    return shown["n"] / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=20)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    import napari
    from skimage import data, transform

    from napari_scribbleseg._napari._real_input import User
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    image = data.astronaut()
    if image.shape[0] != args.size:
        image = (transform.resize(image, (args.size, args.size), anti_aliasing=True) * 255).astype(np.uint8)
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1200, 900)
    viewer.add_image(image, name="photo", rgb=True)
    widget = SegmentWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.model_combo.setCurrentText(args.model)
    user = User(viewer)
    user.click(widget, "Start on image")
    user.click(widget, "+ class")  # three classes
    wait_for(lambda: widget._worker is None)
    plan = stroke_plan(args.strokes, args.size)
    print(f"{args.model} at {args.size}^2, 3 classes, {args.strokes} strokes dragged through Qt input")
    print(f"{'mode':8s} {'felt p50':>9s} {'felt p95':>9s} {'Session p50':>12s} {'Session p95':>12s} {'overhead p50':>13s}")
    for mode in ("sync", "worker"):
        felt, own = measure(viewer, widget, user, plan, mode)
        felt, own = np.asarray(felt[2:]), np.asarray(own[2:])  # the first strokes warm the caches
        print(
            f"{mode:8s} {np.percentile(felt, 50):9.1f} {np.percentile(felt, 95):9.1f} "
            f"{np.percentile(own, 50):12.1f} {np.percentile(own, 95):12.1f} {np.percentile(felt - own, 50):13.1f}"
        )
    print(f"live updates during a drag (worker): {live_rate(viewer, widget, user, args.size):.1f} per second")
    floor = frame_floor(viewer)
    print(f"one frame drawn with nothing changed: {floor:.1f} ms (the renderer's share of each update above;"
          " the widget's own overhead is overhead minus this)")
    viewer.close()


if __name__ == "__main__":
    main()
