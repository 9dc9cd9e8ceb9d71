"""Where to scribble next: per-pixel uncertainty from class probabilities and a ranking of slices.

Plain functions over numpy arrays, so the widget can show an uncertainty map and a "next slice" hint
without knowing which predictor produced the probabilities.

Probabilities are (K, H, W) over the scribbled classes, as ``predict_proba`` returns them. Where they sum
to less than one (a model with a background logit that is not among the K classes), the remainder is the
background's probability and competes like any other class.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np

from napari_scribbleseg.errors import InputError

Measure = Literal["least_confidence", "entropy", "margin"]


def full_proba(proba: np.ndarray) -> np.ndarray:
    """Return (K', H, W) float32 probabilities that sum to one per pixel.

    A background row ``1 - sum(proba)`` is appended where ``proba`` leaves some mass unassigned
    (more than 1e-3 anywhere); otherwise ``proba`` is returned as float32.
    """
    proba = np.asarray(proba, dtype=np.float32)
    if proba.ndim != 3:
        raise InputError(
            f"class probabilities are {proba.ndim}-D with shape {proba.shape}; pass (K, H, W) as predict_proba returns"
        )
    if proba.shape[0] == 0:
        raise InputError("class probabilities have no class (K = 0); scribble at least one class first")
    rest = 1.0 - proba.sum(axis=0)
    if rest.max() > 1e-3:
        return np.concatenate([proba, np.clip(rest, 0.0, 1.0)[None]], axis=0)
    return proba


def uncertainty_map(proba: np.ndarray, measure: Measure = "least_confidence") -> np.ndarray:
    """Per-pixel uncertainty in [0, 1] of (K, H, W) class probabilities; returns (H, W) float32.

    Parameters
    ----------
    proba : (K, H, W) float
        Class probabilities (see :func:`full_proba` for the background remainder).
    measure : {"least_confidence", "entropy", "margin"}
        ``least_confidence``: 1 - max probability, rescaled by K / (K - 1) so a uniform pixel scores 1;
        ``entropy``: Shannon entropy divided by log K; ``margin``: 1 - (top1 - top2).
        With a single class every pixel is certain (0).
    """
    p = full_proba(proba)
    k = p.shape[0]
    if k == 1:
        return np.zeros(p.shape[1:], np.float32)
    if measure == "least_confidence":
        u = (1.0 - p.max(axis=0)) * (k / (k - 1))
    elif measure == "entropy":
        u = -(p * np.log(np.clip(p, 1e-12, 1.0))).sum(axis=0) / np.log(k)
    elif measure == "margin":
        top2 = np.partition(p, k - 2, axis=0)[k - 2 :]
        u = 1.0 - (top2[1] - top2[0])
    else:
        raise InputError(f"unknown uncertainty measure {measure!r}; use 'least_confidence', 'entropy' or 'margin'")
    return np.clip(u, 0.0, 1.0).astype(np.float32)


def expected_error(proba: np.ndarray, pixel_area: float = 1.0, ignore: np.ndarray | None = None) -> float:
    """Expected misclassified area of a slice under its own probabilities: sum of (1 - max p) x pixel area.

    If the prediction takes the most probable class at each pixel, ``1 - max p`` is the probability that
    the pixel is wrong, so the sum is the expected number of wrong pixels; ``pixel_area`` (mm^2) turns it
    into an area that compares across axes and spacings. ``ignore`` (H, W) bool leaves pixels out (e.g.
    scribbled ones, which keep their class by contract).
    """
    p = full_proba(proba)
    wrong = 1.0 - p.max(axis=0)
    if ignore is not None:
        ignore = np.asarray(ignore, bool)
        if ignore.shape != wrong.shape:
            raise InputError(f"ignore mask has shape {ignore.shape} but the probabilities are {wrong.shape}; pass an (H, W) ignore mask of the slice's shape")
        wrong = wrong[~ignore]
    return float(wrong.sum(dtype=np.float64) * pixel_area)


def shape_change(labels: np.ndarray, neighbour: np.ndarray, ignore_label: int | None = None) -> float:
    """1 - Dice of the labelled area (labels > 0, minus ``ignore_label``) of two (H, W) label maps.

    The fallback confidence signal for predictors without ``predict_proba``: a slice whose result
    differs abruptly from its neighbour's is the one most likely to have drifted. Two empty maps give 0.
    """
    a = np.asarray(labels) > 0
    b = np.asarray(neighbour) > 0
    if ignore_label is not None:
        a &= np.asarray(labels) != ignore_label
        b &= np.asarray(neighbour) != ignore_label
    total = np.count_nonzero(a) + np.count_nonzero(b)
    return 0.0 if total == 0 else 1.0 - 2.0 * np.count_nonzero(a & b) / total


def rank_slices(scores: Mapping[int, float], exclude: Iterable[int] = ()) -> list[int]:
    """Slice indices ordered by expected error, worst first (ties: lower index first).

    Parameters
    ----------
    scores : mapping slice index -> expected error (e.g. :func:`expected_error` in mm^2)
    exclude : slices not to suggest (those the user scribbled or accepted)
    """
    skip = {int(i) for i in exclude}
    items = [(int(i), float(s)) for i, s in scores.items() if int(i) not in skip and np.isfinite(s)]
    return [i for i, _ in sorted(items, key=lambda item: (-item[1], item[0]))]


def labels_from_proba(proba: np.ndarray, classes: Sequence[int], scribbles: np.ndarray) -> np.ndarray:
    """(H, W) int32 labels from (K, H, W) probabilities over ``classes`` (ascending), as the contract says.

    Each pixel takes its most probable class; with one class, 0 where the background remainder
    (``1 - sum``) beats it; scribbled pixels keep their class.
    """
    import torch

    from napari_scribbleseg.model.interaction import decide_labels

    p = full_proba(proba)
    if p.shape[0] not in (len(classes), len(classes) + 1):
        raise InputError(f"probabilities have {p.shape[0]} classes but {len(classes)} classes are scribbled; pass the classes predict_proba was computed for, ascending")
    # the logits against a background logit 0 that give these probabilities: log p_k - log p_background
    # (a common shift where the background has no share, which leaves the arg-max among classes as it is)
    tiny = np.float32(1e-12)
    background = np.clip(1.0 - p[: len(classes)].sum(0), tiny, 1.0) if p.shape[0] == len(classes) else np.clip(p[-1], tiny, 1.0)
    logits = np.log(np.clip(p[: len(classes)], tiny, 1.0)) - np.log(background)[None]
    return decide_labels(torch.from_numpy(np.ascontiguousarray(logits, np.float32)), list(classes), scribbles)
