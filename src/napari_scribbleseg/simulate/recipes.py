"""Training scribbles for a whole label map: every class gets its strokes, from scratch or as corrections.

``simulate_scribbles`` is what training calls per sample. Without a previous mask every class gets
strokes inside its own region (binary: positives on the object, negatives on the background, 000's
void-previous-mask case). With one, each class gets strokes on its false-negative region, the pixels of
that class the previous mask gave another class (binary: FN -> positives, FP -> negatives).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.simulate._validate import (
    bool_mask,
    generator,
    ground_truth,
    label_map,
)
from napari_scribbleseg.simulate.corrective import corrective_scribble
from napari_scribbleseg.simulate.meta import (
    axial_scribble,
    bezier_scribble,
    boundary_scribble,
    scribbleseg_scribbles,
)
from napari_scribbleseg.simulate.naive import linked_points_scribble
from napari_scribbleseg.simulate.skeleton_mst import skeleton_mst_scribble

#: simulator(mask, rng) -> (H, W) bool, by name; "corrective" also takes gt_region=
TRAINING_SIMULATORS: dict[str, Callable[..., np.ndarray]] = {
    "scribbleseg": scribbleseg_scribbles,
    "bezier": bezier_scribble,
    "axial": axial_scribble,
    "boundary": boundary_scribble,
    "skeleton_mst": skeleton_mst_scribble,
    "corrective": corrective_scribble,
    "linked_points": linked_points_scribble,
}


def get_training_simulator(name: str) -> Callable[..., np.ndarray]:
    """The training simulator called ``name`` (:data:`TRAINING_SIMULATORS`)."""
    try:
        return TRAINING_SIMULATORS[name]
    except (KeyError, TypeError):
        raise KeyError(f"unknown training simulator {name!r}; choose one of {sorted(TRAINING_SIMULATORS)}") from None


def simulate_scribbles(
    gt_labels: np.ndarray,
    prev: np.ndarray | None = None,
    rng: np.random.Generator | int | None = None,
    recipe: str | Callable[..., np.ndarray] = "scribbleseg",
    ignore: np.ndarray | None = None,
    min_error: int = 10,
) -> np.ndarray:
    """Simulated scribbles for every class of a ground-truth label map.

    Parameters
    ----------
    gt_labels : (H, W) int
        Ground truth: 0 = unlabelled (never scribbled), k >= 1 = class k (binary: 1 object, 2 background).
    prev : (H, W) int, optional
        A previous prediction. Each class k then gets strokes on ``(gt == k) & (prev != k)``; classes
        with fewer than ``min_error`` such pixels get none. In a binary map a predicted 0 counts as
        background (2).
    rng : numpy Generator or int seed
        Required: the same seed gives the same scribbles.
    recipe : str or callable
        A name from :data:`TRAINING_SIMULATORS` or ``f(mask, rng) -> (H, W) bool``. ``"corrective"`` is
        given the class's whole gt region and, without ``prev``, draws from the region's border.
    ignore : (H, W) bool, optional
        Pixels never scribbled.

    Returns
    -------
    (H, W) int32 scribble map: 0 none, k the strokes of class k, each inside class k's region.
    """
    rng = generator(rng)
    gt = ground_truth(gt_labels)
    valid = ~bool_mask(ignore, "ignore", gt.shape) & (gt > 0)
    simulator = get_training_simulator(recipe) if isinstance(recipe, str) else recipe
    if not callable(simulator):
        raise InputError(f"recipe {recipe!r} is neither a simulator name nor a callable f(mask, rng)")
    if prev is not None:
        prev = label_map(prev, "prev", gt.shape)
        if valid.any() and int(gt[valid].max()) <= 2:
            prev = np.where(prev == 0, 2, prev)
    out = np.zeros(gt.shape, np.int32)
    for k in np.unique(gt[valid]):
        region = valid & (gt == k)
        target = region if prev is None else region & (prev != k)
        if not target.any() or (prev is not None and target.sum() < min_error):
            continue
        if simulator is corrective_scribble:
            strokes = simulator(target, rng, gt_region=region)
        else:
            strokes = simulator(target, rng)
        out[strokes & region] = int(k)
    return out
