"""Screenshots of the widgets in use, for the docs, made through real input as a person makes them.

Strokes are dragged on the canvas (Qt mouse press, moves, release), classes picked with Alt+digit on
the canvas, and the widgets' buttons clicked ("Start on image", "Accept", "Propagate >", "Run
evaluation"): ``napari_scribbleseg._napari._real_input``. Run under a display or a virtual one:

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_screenshots.py [--model NAME]

Writes docs/screenshot_photo.png, docs/screenshot_ct.png, docs/screenshot_evaluate.png and, where
../shared/data holds the fluorescence nuclei, docs/screenshot_nuclei.png (instance mode). The predictor is the shipped model where
it is installed, else GrowCut (the name is printed and drawn into the status line).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("SCRIBBLESEG_SYNC", "1")  # predictions finish before each screenshot

HERE = Path(__file__).resolve().parent


def make_viewer(napari, sample, model):
    from napari_scribbleseg._napari import _sample_data
    from napari_scribbleseg._napari._real_input import User
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    viewer = napari.Viewer(title="napari-scribbleseg")
    viewer.window._qt_window.resize(1500, 950)
    layers = [getattr(viewer, f"add_{kind}")(data, **kwargs) for data, kwargs, kind in getattr(_sample_data, sample)()]
    widget = SegmentWidget(viewer)
    if model:
        widget.model_combo.setCurrentText(model)
    viewer.window.add_dock_widget(widget, name="Scribble segmentation", area="right")
    widget.image_combo.setCurrentText(layers[0].name)
    return viewer, widget, User(viewer)


def paint(user, widget, label, points, size):
    """Pick class ``label`` with Alt+label on the canvas and drag a stroke through ``points`` (row, col)."""
    user.key(str(label), "Alt")
    widget.scribble_layer.brush_size = size
    user.drag(widget.scribble_layer, points)


def photo(napari, model, out):
    """The astronaut, object and background painted, after Accept."""
    viewer, widget, user = make_viewer(napari, "astronaut", model)
    user.click(widget, "Start on image")
    for label, points in (
        (1, [(330, 150), (380, 180), (420, 230), (470, 200)]),  # the suit
        (1, [(120, 200), (150, 260), (190, 300)]),  # the face and hair
        (2, [(40, 30), (40, 150), (80, 80)]),  # background, left
        (2, [(60, 330), (200, 420), (300, 460)]),  # background, right (the shuttle)
    ):
        paint(user, widget, label, points, 6)
    user.click(widget, "Accept")
    _grab(viewer, out)
    viewer.close()


def ct(napari, model, out):
    """A CT slice with liver and spleen strokes, then "Propagate >" pressed three times: slice by slice."""
    viewer, widget, user = make_viewer(napari, "ct_abdomen_sample", model)
    z = 18
    viewer.dims.set_point(0, z * viewer.layers[0].scale[0])
    user.click(widget, "Start on image")
    user.click(widget, "+ class")
    widget.classes.table.item(0, 0).setText("liver")
    widget.classes.table.item(2, 0).setText("spleen")
    paint(user, widget, 1, [(45, 35), (60, 45), (66, 35)], 3)
    paint(user, widget, 3, [(43, 92), (56, 95)], 3)
    for path in (
        [(20, 20), (20, 100), (100, 110), (105, 20)],  # around the organs
        [(38, 70), (60, 70), (75, 60)],  # between liver and spleen
        [(68, 82), (70, 104)],  # below the spleen
        [(82, 30), (82, 55)],  # below the liver
    ):
        paint(user, widget, 2, path, 3)
    user.click(widget, "Accept")
    for _ in range(3):
        user.click(widget, "Propagate >")
    _grab(viewer, out)
    viewer.close()


def evaluation(napari, out):
    """The Evaluate widget after "Run evaluation" on the MR phantom's slice in view, every predictor."""
    from napari_scribbleseg._napari import _sample_data
    from napari_scribbleseg._napari._evaluate_widget import EvaluateWidget
    from napari_scribbleseg._napari._real_input import User

    viewer = napari.Viewer(title="napari-scribbleseg")
    viewer.window._qt_window.resize(1500, 1000)
    for data, kwargs, kind in _sample_data.mr_brain_sample():
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    widget = EvaluateWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Evaluate", area="right")
    viewer.dims.set_point(0, 18 * viewer.layers[0].scale[0])
    widget.max_spin.setValue(8)
    User(viewer).click(widget, "Run evaluation")
    widget.step_slider.setValue(2)
    _grab(viewer, out)
    viewer.close()


def nuclei(napari, model, out, n=12):
    """Instance mode on a fluorescence image of ../shared/data: a dozen nuclei accepted one after another."""
    from PIL import Image
    from scipy import ndimage

    from napari_scribbleseg._napari._real_input import User
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    data = HERE.parents[1] / "shared" / "data" / "microscopy" / "fluo_nuclei"
    if not data.exists():
        print(f"skipped the nuclei screenshot: {data} is missing")
        return
    image = np.asarray(Image.open(data / "images" / "03.jpg").convert("L"))
    truth = np.asarray(Image.open(data / "labels" / "03.png")).astype(np.int32)
    viewer = napari.Viewer(title="napari-scribbleseg")
    viewer.window._qt_window.resize(1500, 950)
    viewer.add_image(image, name="Hoechst 03", contrast_limits=(0, float(np.percentile(image, 99.8))))
    widget = SegmentWidget(viewer)
    if model:
        widget.model_combo.setCurrentText(model)
    viewer.window.add_dock_widget(widget, name="Scribble segmentation", area="right")
    user = User(viewer)
    user.click(widget, "Start on image")
    user.tick(widget.instances)
    ids, areas = np.unique(truth[truth > 0], return_counts=True)
    layer = widget.scribble_layer
    layer.brush_size = 4
    for label in ids[np.argsort(-areas)][:n]:
        rows, cols = np.nonzero(truth == label)
        top, bottom, left, right = rows.min() - 6, rows.max() + 6, cols.min() - 6, cols.max() + 6
        cy, cx = ndimage.center_of_mass(truth == label)
        user.key("2", "Alt")  # background: a loop around the nucleus
        user.drag(layer, [(top, left), (top, right), (bottom, right), (bottom, left), (top, left)])
        user.key("1", "Alt")
        user.drag(layer, [(cy, cx - 4), (cy, cx + 4)])
        user.key("A", "Alt")  # accept this nucleus under a new id and move on
    committed = widget.committed_layer.data
    ious = []
    for label in ids[np.argsort(-areas)][:n]:
        held = committed[(truth == label) & (committed > 0)]
        mine = np.bincount(held).argmax() if held.size else 0  # the id accepted for this nucleus
        a, b = committed == mine, truth == label
        ious.append((a & b).sum() / (a | b).sum() if mine else 0.0)
    print(f"{len(ious)} nuclei accepted with one stroke each: IoU to the annotation, mean {np.mean(ious):.2f}")
    _grab(viewer, out)
    viewer.close()


def _grab(viewer, out):
    from qtpy.QtWidgets import QApplication

    for _ in range(5):
        QApplication.processEvents()
    viewer.layers.selection.active = viewer.layers[0]
    viewer.screenshot(str(out), canvas_only=False, flash=False)
    print(f"wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="predictor name (default: the shipped model, else growcut)")
    parser.add_argument("--only", choices=["photo", "ct", "evaluate", "nuclei"], help="make one screenshot")
    args = parser.parse_args()
    import napari

    shots = {
        "photo": lambda: photo(napari, args.model, HERE / "screenshot_photo.png"),
        "ct": lambda: ct(napari, args.model, HERE / "screenshot_ct.png"),
        "evaluate": lambda: evaluation(napari, HERE / "screenshot_evaluate.png"),
        "nuclei": lambda: nuclei(napari, args.model, HERE / "screenshot_nuclei.png"),
    }
    for name, shoot in shots.items():
        if args.only in (None, name):
            shoot()


if __name__ == "__main__":
    main()
