"""Scribble-based interactive segmentation for napari.

The core (everything outside ``_napari``) is plain Python: ``import napari_scribbleseg`` imports
neither torch nor Qt; they load when a model or a widget is first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Scribbles": "napari_scribbleseg.scribbles",
    "Predictor": "napari_scribbleseg.predictor",
    "get_predictor": "napari_scribbleseg.predictor",
    "available_predictors": "napari_scribbleseg.predictor",
}

# eager, so the name is the function even after ``napari_scribbleseg.evaluate`` (the subpackage) is imported;
# the subpackage imports only numpy-level modules
from napari_scribbleseg.evaluate import evaluate  # noqa: E402

__all__ = ["__version__", "evaluate", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'napari_scribbleseg' has no attribute {name!r}")
