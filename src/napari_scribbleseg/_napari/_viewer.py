"""The viewer ``python -m napari_scribbleseg`` opens: napari with a sample and the segmentation widget.

Imports napari and Qt (a Qt binding is the ``qt`` extra): ``__main__`` reaches them only through here.
"""

from __future__ import annotations

from typing import Any

import qtpy  # noqa: F401 - an ImportError here tells __main__ there is no Qt binding


def open_viewer(sample: str, model: str | None = None, screenshot: str | None = None) -> Any:
    """Open napari with the sample data function ``sample`` (a name in :mod:`._sample_data`) and the
    segmentation widget docked and started on it."""
    import napari

    from napari_scribbleseg._napari import _sample_data
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    viewer = napari.Viewer(title="napari-scribbleseg")
    layers = []
    for data, kwargs, kind in getattr(_sample_data, sample)():
        layers.append(getattr(viewer, f"add_{kind}")(data, **kwargs))
    widget = SegmentWidget(viewer)
    if model:
        widget.model_combo.setCurrentText(model)
    viewer.window.add_dock_widget(widget, name="Scribble segmentation", area="right")
    widget.start(layers[0].name)
    if screenshot:
        from qtpy.QtCore import QTimer

        def shoot() -> None:
            viewer.screenshot(screenshot, canvas_only=False, flash=False)
            print(f"wrote {screenshot}")
            viewer.close()

        QTimer.singleShot(1500, shoot)
    napari.run()
    return viewer
