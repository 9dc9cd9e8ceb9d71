"""One round of given (real, human) scribbles per sample -> Dice per class, for every predictor.

The protocol of datasets that come with the annotators' strokes (``Sample.meta["scribbles"]``, e.g.
:class:`napari_scribbleseg.datasets.scribbled.AcdcScribbles`): each predictor gets the image and all the
strokes at once, predicts once, and each class present in the ground truth is scored by Dice. The
dataset's background strokes are a class of their own (``meta["background_class"]``) that competes
like the others and counts as background in the scores.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.evaluate.loop import model_input
from napari_scribbleseg.evaluate.runner import predictor_specs
from napari_scribbleseg.metrics import dice
from napari_scribbleseg.predictor import get_predictor, takes_current


@dataclass
class GivenResult:
    """Rows (one per sample and predictor: ``sample``, ``predictor``, ``dice`` {class: Dice}, ``t_image``,
    ``t_predict`` in s) and the class names; :meth:`summary` and :meth:`table` aggregate them."""

    rows: list[dict[str, Any]]
    predictors: list[str]
    classes: dict[int, str] = field(default_factory=dict)

    def summary(self) -> list[dict[str, Any]]:
        """Per predictor: mean Dice per class (over the samples whose ground truth holds it), their mean,
        and the median times."""
        out = []
        for name in self.predictors:
            rows = [r for r in self.rows if r["predictor"] == name]
            entry: dict[str, Any] = {"predictor": name, "n": len(rows)}
            means = []
            for k, label in self.classes.items():
                scores = [r["dice"][k] for r in rows if k in r["dice"]]
                entry[f"Dice {label}"] = float(np.mean(scores)) if scores else float("nan")
                means.append(entry[f"Dice {label}"])
            entry["mean Dice"] = float(np.nanmean(means)) if means else float("nan")
            entry["t_image p50 ms"] = 1e3 * float(np.median([r["t_image"] for r in rows])) if rows else float("nan")
            entry["t_predict p50 ms"] = 1e3 * float(np.median([r["t_predict"] for r in rows])) if rows else float("nan")
            out.append(entry)
        return out

    def table(self) -> str:
        """The summary as a Markdown table."""
        summary = self.summary()
        if not summary:
            return ""
        keys = list(summary[0])
        lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        for entry in summary:
            lines.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in entry.values()) + " |")
        return "\n".join(lines)


def evaluate_given_scribbles(
    predictors: Any,
    samples: Sequence[Any],
    progress: Callable[[int, int], None] | None = None,
) -> GivenResult:
    """Predict each sample once from its given scribbles; Dice per ground-truth class.

    Parameters
    ----------
    predictors : as for :func:`~napari_scribbleseg.evaluate.evaluate`
    samples : sequence of :class:`~napari_scribbleseg.datasets.Sample` with ``meta["scribbles"]`` ((H, W)
        int: 0 none, k class k) and optionally ``meta["background_class"]`` and ``meta["classes"]``.
    """
    specs = predictor_specs(predictors)
    if not len(samples):
        raise InputError("no samples to evaluate; pass a dataset with given scribbles (e.g. acdc_scribbles)")
    first = samples[0]
    if "scribbles" not in first.meta:
        raise InputError(
            f"sample {first.name!r} has no given scribbles (meta['scribbles']); this protocol needs a dataset that "
            "comes with its annotators' strokes, such as acdc_scribbles"
        )
    classes = dict(first.meta.get("classes") or {k: str(k) for k in range(1, int(first.gt.max()) + 1)})
    rows: list[dict[str, Any]] = []
    total, done = len(samples) * len(specs), 0
    for display, spec in specs:
        predictor = get_predictor(spec)
        options = takes_current(predictor)
        for sample in samples:
            scribbles = np.asarray(sample.meta["scribbles"], np.int32)
            if scribbles.shape != sample.gt.shape:
                raise InputError(f"sample {sample.name!r}: scribbles {scribbles.shape} do not match its labels {sample.gt.shape}")
            start = time.perf_counter()
            predictor.set_image(model_input(sample))
            t_image = time.perf_counter() - start
            start = time.perf_counter()
            extra = {"current": scribbles > 0} if options else {}
            pred = np.asarray(predictor.predict(scribbles, **extra))
            t_predict = time.perf_counter() - start
            background = sample.meta.get("background_class")
            if background is not None:
                pred = np.where(pred == background, 0, pred)
            scores = {k: dice(pred == k, sample.gt == k) for k in classes if np.any(sample.gt == k)}
            rows.append({"sample": sample.name, "predictor": display, "dice": scores, "t_image": t_image, "t_predict": t_predict})
            done += 1
            if progress is not None:
                progress(done, total)
    return GivenResult(rows, [display for display, _ in specs], classes)
