"""The instance protocol: every object of an image annotated one after another, as in instance mode.

For an image with N annotated instances, objects are taken largest first. Each is a binary task (object
1, background 2) run by the same loop as :func:`~napari_scribbleseg.evaluate.evaluate` (the deterministic
simulator, NoI / NoF at the targets, time per interaction); what the predictor finally made of each
object is committed, and committed pixels are background for every later object (the prediction is
forced to background there, as the widget's instance mode never shows a new object over an accepted
one: :class:`~napari_scribbleseg.instances.InstanceAnnotator`). One row per (object, predictor).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from napari_scribbleseg.datasets import Sample
from napari_scribbleseg.datasets.base import image_kind
from napari_scribbleseg.errors import InputError
from napari_scribbleseg.evaluate.loop import LoopSettings, resolve_simulator, run_sample
from napari_scribbleseg.evaluate.report import EvaluationResult
from napari_scribbleseg.evaluate.runner import _result, predictor_specs
from napari_scribbleseg.predictor import get_predictor, takes_current


class _OnFreePixels:
    """A predictor whose output is background (2) on pixels earlier objects hold; remembers its last output."""

    def __init__(self, predictor: Any, taken: np.ndarray) -> None:
        self.predictor, self.taken, self.last = predictor, taken, None

    def set_image(self, image: np.ndarray, **options: Any) -> None:
        from napari_scribbleseg.predictor import accepts_keyword

        method = self.predictor.set_image
        method(image, **{k: v for k, v in options.items() if accepts_keyword(method, k)})

    def predict(self, scribbles: np.ndarray, prev: np.ndarray | None = None, current: np.ndarray | None = None) -> np.ndarray:
        options = {"current": current} if current is not None and takes_current(self.predictor) else {}
        out = np.array(self.predictor.predict(scribbles, prev, **options), np.int32, copy=True)
        out[self.taken] = 2
        self.last = out
        return out


def instance_order(labels: np.ndarray) -> np.ndarray:
    """The object ids of an instance map, largest first (ties by id): the protocol's order."""
    ids, areas = np.unique(labels[labels > 0], return_counts=True)
    return ids[np.argsort(-areas, kind="stable")]


def evaluate_instances(
    predictors: Any,
    images: Sequence[tuple[str, np.ndarray, np.ndarray]],
    simulator: str = "scribble",
    targets: Sequence[float] = (0.85, 0.90),
    max_interactions: int = 20,
    width: float = 3,
    max_objects: int | None = None,
    kind: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_scribbles: bool = False,
) -> EvaluationResult:
    """Annotate every instance of each image one after another; one row per object and predictor.

    Parameters
    ----------
    predictors : as for :func:`~napari_scribbleseg.evaluate.evaluate`
    images : sequence of (name, image (H, W) or (H, W, 3), instance labels (H, W) int: 0 none, k object k)
    max_objects : int, optional
        The largest this many objects of each image (all by default).
    kind : intensity convention handed to ``set_image`` (e.g. "gray"); None: the predictor's own guess.
    keep_scribbles : keep each row's strokes and predictions (for stepping through them, as ``evaluate``).

    Returns
    -------
    EvaluationResult
        Rows named ``"<image> #<id>"``; its summary gives interactions per object to each target and
        the time per object (``t_image`` + the interactions' times).
    """
    specs = predictor_specs(predictors)
    settings = LoopSettings(simulator, tuple(float(t) for t in targets), int(max_interactions), float(width), False, bool(keep_scribbles))
    simulate = resolve_simulator(simulator, width)
    tasks = []
    for name, image, labels in images:
        labels = np.asarray(labels)
        if labels.shape != np.shape(image)[:2]:
            raise InputError(f"{name}: instance labels {labels.shape} do not match the image {np.shape(image)}")
        order = instance_order(labels)[:max_objects]
        if not order.size:
            raise InputError(f"{name}: the instance labels are empty; annotate at least one object")
        tasks.append((name, image, labels, order))
    total = sum(len(order) for *_, order in tasks) * len(specs)
    rows, done = [], 0
    for display, spec in specs:
        predictor = get_predictor(spec)
        for name, image, labels, order in tasks:
            taken = np.zeros(labels.shape, bool)
            for label in order.tolist():
                gt = (labels == label).astype(np.int32)
                wrapped = _OnFreePixels(predictor, taken)
                sample = Sample(f"{name} #{label}", image, gt, kind=kind or image_kind(image), meta={"image": name})
                rows.append(run_sample(wrapped, display, sample, settings, simulate))
                if wrapped.last is not None:
                    taken |= wrapped.last == 1  # what the user accepted is what the predictor made
                done += 1
                if progress is not None:
                    progress(done, total)
    return _result(
        rows, specs, settings, "instances: " + ", ".join(name for name, *_ in tasks), total // max(1, len(specs)),
        1, simulator, protocol="instances, largest first, earlier objects committed",
    )
