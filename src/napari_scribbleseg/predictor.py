"""The predictor protocol shared by the model's Session, the classical baselines and user callables.

A predictor is anything with ``set_image(image) -> None`` and ``predict(scribbles, prev=None) -> labels``:

- ``image``: (H, W) grey or (H, W, 3) RGB array, any real dtype (see :mod:`napari_scribbleseg.imaging`);
- ``scribbles``: (H, W) int map, 0 = none, k >= 1 = class k (a binary task: 1 = object, 2 = background);
- ``prev``: the previous (H, W) int label map or None;
- returns an (H, W) int32 label map in which every pixel has exactly one label and every scribbled pixel
  keeps its class; 0 means "no class won" (the background logit, e.g. where only class 1 is scribbled).

``predict_proba(scribbles, prev=None) -> (K, H, W) float`` is optional, over the scribbled classes in
ascending order. Built-in predictors are created by name with :func:`get_predictor`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Predictor(Protocol):
    def set_image(self, image: np.ndarray) -> None: ...

    def predict(self, scribbles: np.ndarray, prev: np.ndarray | None = None) -> np.ndarray: ...


# name -> "module:callable"; the callable takes keyword options and returns a Predictor
_REGISTRY: dict[str, str] = {
    "default": "napari_scribbleseg.session:default_session",
    "random_walker": "napari_scribbleseg.baselines:RandomWalker",
    "grabcut": "napari_scribbleseg.baselines:GrabCut",
    "growcut": "napari_scribbleseg.baselines:GrowCut",
}


def accepts_keyword(function: Callable[..., Any], name: str) -> bool:
    """Whether ``function`` takes keyword ``name`` (or any keyword): how optional predictor features
    (``set_image(..., kind=, key=)``, ``prepare(..., keys=)``) are detected without requiring them."""
    import inspect

    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def takes_current(predictor: Predictor) -> bool:
    """Whether ``predictor.predict`` takes the stroke just drawn as ``current=`` (the Session does): the
    controller and ``evaluate`` then pass it, so the model's input does not depend on the call history."""
    return accepts_keyword(predictor.predict, "current")


def register_predictor(name: str, factory: str | Callable[..., Predictor]) -> None:
    """Make ``get_predictor(name)`` build predictors with ``factory`` ("module:callable" or a callable)."""
    _REGISTRY[name] = factory  # type: ignore[assignment]


def available_predictors() -> list[str]:
    """Names accepted by :func:`get_predictor`."""
    return sorted(_REGISTRY)


def get_predictor(name: str | Predictor, **options: Any) -> Predictor:
    """Return a built-in predictor by name (``available_predictors()``), or ``name`` itself if it is one."""
    if not isinstance(name, str):
        if isinstance(name, Predictor):
            return name
        raise TypeError(
            f"{type(name).__name__} is not a predictor; pass a name from {available_predictors()} "
            "or an object with set_image(image) and predict(scribbles, prev=None)"
        )
    if name not in _REGISTRY:
        raise KeyError(f"unknown predictor {name!r}; choose one of {available_predictors()}")
    factory = _REGISTRY[name]
    if isinstance(factory, str):
        module, attr = factory.split(":")
        factory = getattr(import_module(module), attr)
    return factory(**options)
