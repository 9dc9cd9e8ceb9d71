"""Screenshots of the segmentation widget in use, for the docs: a photograph and a CT slice.

Run under a display or a virtual one (the strokes are written into the scribble layer the way the
brush writes them, so the widget reacts exactly as to a user's painting):

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_screenshots.py [--model NAME]

Writes docs/screenshot_photo.png, docs/screenshot_ct.png and docs/screenshot_evaluate.png. The predictor is the shipped model where
it is installed, else GrowCut (the name is printed and drawn into the status line).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("SCRIBBLESEG_SYNC", "1")  # predictions finish before each screenshot

HERE = Path(__file__).resolve().parent


def stroke(layer, points, label, width=5, index=None):
    """Paint a polyline of (row, col) points as one stroke (data_setitem: one undo step, one paint event)."""
    from napari_scribbleseg.scribbles import rasterize_path

    shape = layer.data.shape[-2:]
    rows, cols = np.nonzero(rasterize_path(np.asarray(points, float), shape, width=width))
    indices = (rows, cols) if index is None else (np.full(rows.size, index), rows, cols)
    layer.data_setitem(indices, label)


def make_viewer(napari, sample, model):
    from napari_scribbleseg._napari import _sample_data
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    viewer = napari.Viewer(title="napari-scribbleseg")
    viewer.window._qt_window.resize(1500, 950)
    layers = [getattr(viewer, f"add_{kind}")(data, **kwargs) for data, kwargs, kind in getattr(_sample_data, sample)()]
    widget = SegmentWidget(viewer)
    if model:
        widget.model_combo.setCurrentText(model)
    viewer.window.add_dock_widget(widget, name="Scribble segmentation", area="right")
    widget.start(layers[0].name)
    return viewer, widget


def photo(napari, model, out):
    viewer, widget = make_viewer(napari, "astronaut", model)
    layer = widget.scribble_layer
    stroke(layer, [(330, 150), (380, 180), (420, 230), (470, 200)], 1)  # the orange suit
    stroke(layer, [(120, 200), (150, 260), (190, 300)], 1)  # the face and hair
    stroke(layer, [(40, 30), (40, 150), (80, 80)], 2)  # background, left
    stroke(layer, [(60, 330), (200, 420), (300, 460)], 2)  # background, right (the shuttle)
    widget.select_class(3)
    widget.classes.table.item(2, 0).setText("helmet")
    stroke(layer, [(430, 380), (470, 430), (500, 480)], 3)
    viewer.reset_view()
    _grab(viewer, out)
    viewer.close()


def ct(napari, model, out):
    viewer, widget = make_viewer(napari, "ct_abdomen_sample", model)
    z = 18
    viewer.dims.set_point(0, z * viewer.layers[0].scale[0])
    widget.classes.table.item(0, 0).setText("liver")
    widget.select_class(3)
    widget.classes.table.item(2, 0).setText("spleen")
    layer = widget.scribble_layer
    stroke(layer, [(45, 35), (60, 45), (66, 35)], 1, width=3, index=z)  # liver
    stroke(layer, [(43, 92), (56, 95)], 3, width=3, index=z)  # spleen
    for path in (
        [(20, 20), (20, 100), (100, 110), (105, 20)],  # around the organs
        [(38, 70), (60, 70), (75, 60)],  # between liver and spleen
        [(68, 82), (70, 104)],  # below the spleen
        [(36, 110), (62, 110)],  # beside the spleen
        [(82, 30), (82, 55)],  # below the liver
    ):
        stroke(layer, path, 2, width=3, index=z)
    widget.accept()
    widget.propagate(0)
    viewer.dims.set_point(0, z * viewer.layers[0].scale[0])
    viewer.reset_view()
    _grab(viewer, out)
    viewer.close()


def evaluation(napari, out):
    """The evaluation widget after a run on the MR phantom's slices (classical peers: fast on a CPU)."""
    from napari_scribbleseg._napari import _sample_data
    from napari_scribbleseg._napari._evaluate_widget import SCOPES, EvaluateWidget

    viewer = napari.Viewer(title="napari-scribbleseg")
    viewer.window._qt_window.resize(1500, 1000)
    for data, kwargs, kind in _sample_data.mr_brain_sample():
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    widget = EvaluateWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Evaluate", area="right")
    widget.image_combo.setCurrentText("MR brain (synthetic)")
    widget.gt_combo.setCurrentText("MR brain (synthetic) ground truth")
    widget.scope_combo.setCurrentText(SCOPES[2])
    widget.samples_spin.setValue(4)
    widget.max_spin.setValue(8)
    widget.multi_region.setChecked(True)
    widget.set_predictors(["growcut", "random_walker"])
    widget.run()
    row = 2 * 2  # rows go sample by sample, one per predictor: the third slice, growcut
    widget.row_combo.setCurrentIndex(row)
    widget.step_slider.setValue(2)
    viewer.dims.set_point(0, widget.samples[2].meta['key'][1] * viewer.layers[0].scale[0])
    viewer.reset_view()
    _grab(viewer, out)
    viewer.close()


def _grab(viewer, out):
    from qtpy.QtWidgets import QApplication

    for _ in range(5):
        QApplication.processEvents()
    viewer.screenshot(str(out), canvas_only=False, flash=False)
    print(f"wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="predictor name (default: the shipped model, else growcut)")
    args = parser.parse_args()
    import napari

    photo(napari, args.model, HERE / "screenshot_photo.png")
    ct(napari, args.model, HERE / "screenshot_ct.png")
    evaluation(napari, HERE / "screenshot_evaluate.png")


if __name__ == "__main__":
    main()
