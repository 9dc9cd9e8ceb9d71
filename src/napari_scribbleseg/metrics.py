"""Segmentation metrics: IoU and Dice with an ignore mask, NoI / NoF and IoU-per-interaction curves.

All masks are (H, W) or (Z, Y, X) arrays; ``ignore`` marks pixels left out of every metric (GrabCut's 128
band). Empty-vs-empty counts as a perfect match (1.0).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from napari_scribbleseg.errors import InputError


def _check(pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    if pred.shape != gt.shape:
        raise InputError(f"prediction has shape {pred.shape} but ground truth {gt.shape}; they must match")
    valid = np.ones(gt.shape, bool)
    if ignore is not None:
        ignore = np.asarray(ignore, bool)
        if ignore.shape != gt.shape:
            raise InputError(f"ignore mask has shape {ignore.shape} but ground truth {gt.shape}; pass an ignore mask of the ground truth's shape (or None)")
        valid = ~ignore
    return pred, valid


def iou(pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray | None = None) -> float:
    """Intersection over union of two binary masks, outside ``ignore``."""
    pred, valid = _check(pred, gt, ignore)
    p = pred.astype(bool) & valid
    g = np.asarray(gt).astype(bool) & valid
    union = np.count_nonzero(p | g)
    return 1.0 if union == 0 else np.count_nonzero(p & g) / union


def dice(pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray | None = None) -> float:
    """Dice coefficient of two binary masks, outside ``ignore``."""
    pred, valid = _check(pred, gt, ignore)
    p = pred.astype(bool) & valid
    g = np.asarray(gt).astype(bool) & valid
    total = np.count_nonzero(p) + np.count_nonzero(g)
    return 1.0 if total == 0 else 2.0 * np.count_nonzero(p & g) / total


def per_class_iou(
    pred: np.ndarray, gt: np.ndarray, classes: Sequence[int] | None = None, ignore: np.ndarray | None = None
) -> dict[int, float]:
    """IoU of each class of two label maps; classes default to those in ``gt`` (0 included if present)."""
    pred, _ = _check(pred, gt, ignore)
    gt = np.asarray(gt)
    if classes is None:
        classes = [int(c) for c in np.unique(gt)]
    return {int(k): iou(pred == k, gt == k, ignore) for k in classes}


def number_of_interactions(ious: Sequence[float], target: float, max_interactions: int = 20) -> int:
    """NoI: the 1-based index of the first interaction whose IoU reaches ``target``.

    ``ious[i]`` is the IoU after interaction i + 1. A curve that never reaches the target within
    ``max_interactions`` counts as ``max_interactions`` (the usual NoC/NoI convention).
    """
    for i, value in enumerate(list(ious)[:max_interactions]):
        if value >= target:
            return i + 1
    return max_interactions


def is_failure(ious: Sequence[float], target: float, max_interactions: int = 20) -> bool:
    """True when the curve never reaches ``target`` within ``max_interactions`` (one NoF count)."""
    return not any(v >= target for v in list(ious)[:max_interactions])


def noi(curves: Sequence[Sequence[float]], target: float, max_interactions: int = 20) -> float:
    """Mean NoI@target over samples."""
    if len(curves) == 0:
        return float("nan")
    return float(np.mean([number_of_interactions(c, target, max_interactions) for c in curves]))


def nof(curves: Sequence[Sequence[float]], target: float, max_interactions: int = 20) -> int:
    """NoF@target: how many samples never reach ``target`` within ``max_interactions``."""
    return int(sum(is_failure(c, target, max_interactions) for c in curves))


def padded_curves(curves: Sequence[Sequence[float]], length: int) -> np.ndarray:
    """(N, length) IoU curves; a curve that stopped early (target met) is carried forward at its last value."""
    out = np.zeros((len(curves), length))
    for i, c in enumerate(curves):
        c = list(c)[:length]
        if not c:
            continue
        out[i, : len(c)] = c
        out[i, len(c):] = c[-1]
    return out


def miou_at(curves: Sequence[Sequence[float]], k: int) -> float:
    """Mean IoU after ``k`` interactions (curves carried forward where they stopped early)."""
    if len(curves) == 0:
        return float("nan")
    return float(padded_curves(curves, k)[:, k - 1].mean())


def paired_difference(a: Sequence[float], b: Sequence[float], n_boot: int = 10_000, seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``b - a`` over paired samples (the same samples scored for two predictors) and its 95 %
    bootstrap interval (percentiles of ``n_boot`` resamples of the pairs, seeded): ``(mean, low, high)``.

    An interval that holds 0 says the two predictors' difference on this set is within its sampling noise.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise InputError(f"paired scores must be two 1-D sequences of one length, got {a.shape} and {b.shape}; "
                         "score the same samples for both predictors")
    if a.size == 0:
        return float("nan"), float("nan"), float("nan")
    diff = b - a
    picks = np.random.default_rng(seed).integers(0, diff.size, size=(n_boot, diff.size))
    means = diff[picks].mean(axis=1)
    return float(diff.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))
