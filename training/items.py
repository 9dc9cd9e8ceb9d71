"""Training items: a square view of a sample, its classes, simulated strokes and a previous mask.

An item is one image of the batch with K >= 2 classes: a binary item has class 1 = one region (the
object) and class 2 = everything else (the background, which users scribble too); a multi-region item
(002) has classes 1..m = m regions and m + 1 = the rest. The model runs one head pass per class with
that class's strokes as positives and every other class's strokes as negatives, as at inference.

Strokes come from :mod:`napari_scribbleseg.simulate` (the project's one simulator). The previous mask
is void (first interaction), perturbed ground truth, or the model's own prediction after ``passes``
no-grad iterations that :mod:`training.iterate` runs in the training process (000's mix of
predictions and perturbations at 1 : 0.4; 001's second pass).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from training.augment import View, flip, whole_view, zoom_view
from training.sources.base import Sample


@dataclass
class TrainItem:
    """One prepared image.

    Attributes
    ----------
    image : (S, S, 3) uint8
    gt : (S, S) int32
        0 = not counted (padding, ignore band), k = class k, 1..K.
    scribbles : (S, S) int32
        Every stroke so far (0 none, k class k).
    current : (S, S) bool
        The strokes of the latest interaction (004: encoded apart from the history). Only classes
        with strokes get a head pass, as at inference.
    prev : (S, S) int32 or None
        The previous label map (None: void, the first interaction).
    passes : int
        No-grad model passes still to run before the trained pass (each adds strokes on its errors).
    name : str
    given : bool
        Its first strokes are an annotator's (the source's own scribbles), not the simulator's.
    """

    image: np.ndarray
    gt: np.ndarray
    scribbles: np.ndarray
    current: np.ndarray
    prev: np.ndarray | None
    passes: int
    name: str
    given: bool = False

    @property
    def n_classes(self) -> int:
        return int(self.gt.max())

    @property
    def scribbled_classes(self) -> list[int]:
        """The classes with strokes, ascending: one head pass each."""
        return [int(k) for k in np.unique(self.scribbles) if k > 0]


def region_sizes(regions: np.ndarray, valid: np.ndarray) -> dict[int, int]:
    """Pixel count of each region r >= 1 inside ``valid``."""
    counts = np.bincount(regions[valid].ravel(), minlength=int(regions.max()) + 1)
    return {r: int(c) for r, c in enumerate(counts) if r > 0 and c > 0}


def class_map(view: View, chosen: list[int]) -> np.ndarray:
    """gt of a view: the chosen regions as classes 1..m, the rest of the valid pixels as class m + 1."""
    gt = np.zeros(view.regions.shape, np.int32)
    gt[view.valid] = len(chosen) + 1
    for k, r in enumerate(chosen, start=1):
        gt[(view.regions == r) & view.valid] = k
    return gt


def make_view(sample: Sample, size: int, rng: np.random.Generator, cfg: dict[str, Any]) -> tuple[View, list[int]] | None:
    """An augmented view and the regions chosen as classes, or None when no region is big enough."""
    aug = cfg["augment"]
    min_px = int(aug.get("min_region_px", 64))
    multi = rng.random() < cfg["multi_region"]["probability"]
    candidates = [r for r in np.unique(sample.regions) if r > 0]
    if not candidates:
        return None
    if not multi and rng.random() < aug.get("zoom", 0.5):
        target = int(rng.choice(candidates))
        view = zoom_view(sample, target, size, rng, tuple(aug.get("zoom_expand", (1.2, 2.0))))
    else:
        view = whole_view(sample, size, rng, tuple(aug["scale"]), aug.get("scale_base"))
        target = None
    if aug.get("flip", True):
        view = flip(view, rng)
    sizes = region_sizes(view.regions, view.valid)
    # the rest (class m + 1) must be scribble-able too
    usable = [r for r, n in sizes.items() if n >= min_px and view.valid.sum() - n >= min_px]
    if not usable:
        return None
    if multi and len(usable) >= 2:
        m = int(rng.integers(2, min(len(usable), int(cfg["multi_region"]["max_regions"])) + 1))
        chosen = [int(r) for r in rng.choice(usable, size=m, replace=False)]
    elif target is not None and target in usable:
        chosen = [target]
    else:
        chosen = [int(rng.choice(usable))]
    return view, chosen


def pick_simulator(shares: dict[str, float] | str, rng: np.random.Generator) -> str:
    """A training simulator name drawn by its share (``{"scribbleseg": 0.8, "skeleton_mst": 0.2}``)."""
    if isinstance(shares, str):
        return shares
    names = list(shares)
    weights = np.asarray([float(shares[n]) for n in names])
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def simulate_strokes(gt: np.ndarray, prev: np.ndarray | None, rng: np.random.Generator, recipe: dict[str, Any]) -> np.ndarray:
    """New strokes (S, S) int32 for every class of ``gt``: inside each class without ``prev``, on each
    class's missed pixels with it. The simulator is drawn from ``recipe["first"]`` or
    ``recipe["corrections"]`` (names of :data:`napari_scribbleseg.simulate.TRAINING_SIMULATORS`)."""
    from napari_scribbleseg.simulate import simulate_scribbles

    shares = recipe.get("first", "scribbleseg") if prev is None else recipe.get("corrections", "scribbleseg")
    name = pick_simulator(shares, rng)
    strokes = np.asarray(simulate_scribbles(gt, prev, rng, name, min_error=int(recipe.get("min_error", 10))), np.int32)
    if prev is None and int(gt.max()) == 2 and rng.random() < float(recipe.get("object_only", 0.0)):
        # a user's first interaction is often one stroke on the object and none on the background
        # (the evaluation protocol starts that way): the background class then has no head pass
        strokes[strokes == 2] = 0
    return strokes


def given_strokes(view: View) -> tuple[list[int], np.ndarray] | None:
    """The classes and (S, S) strokes of a view of a sample with an annotator's strokes.

    Every region with a stroke in the view becomes a class 1..m (ascending region number) and the
    background strokes class m + 1, the rest of the valid pixels: the classes compete as they do in
    the Session when the user paints each structure and the background. None without region strokes.
    """
    from training.sources.base import BACKGROUND_STROKE

    drawn = np.where(view.valid, view.scribbles, 0)
    chosen = [int(r) for r in np.unique(drawn) if r > 0 and np.any(view.regions == r)]
    if not chosen:
        return None
    scribbles = np.zeros(drawn.shape, np.int32)
    for k, r in enumerate(chosen, start=1):
        scribbles[drawn == r] = k
    scribbles[drawn == BACKGROUND_STROKE] = len(chosen) + 1
    return chosen, scribbles


def perturbed_previous(gt: np.ndarray, rng: np.random.Generator, options: dict[str, Any]) -> np.ndarray:
    """A flawed previous label map made from ``gt`` (dilation, erosion, translation, local erasing)."""
    from napari_scribbleseg.simulate import perturb_label_map

    if "ops" in options:
        options = {**options, "ops": tuple(options["ops"])}
    return np.asarray(perturb_label_map(gt, rng, **options), np.int32)


def propagation_input(
    view: View, chosen: list[int], rng: np.random.Generator, options: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray] | None:
    """(seeds, previous mask) for a propagation item: what volume propagation gives the model on a slice.

    The previous mask is the neighbouring slice's labels of the ``chosen`` regions (classes 1..m, the
    rest m + 1), flawed with probability ``options["perturb"]`` (propagation carries the model's own result,
    not the truth); the seeds are derived from it by :func:`napari_scribbleseg.volume.seeds.derive_scribbles`,
    the function :class:`napari_scribbleseg.volume.VolumeSegmenter` calls: eroded cores of each class and a
    background ring, ``margin_px`` and ``ring_px`` drawn from their ranges. None when a chosen region is
    missing (or under ``min_px``) on the neighbour: propagation would not carry that class.
    """
    from napari_scribbleseg.volume.seeds import derive_scribbles

    m = len(chosen)
    prev = class_map(replace(view, regions=view.neighbour), chosen)  # the neighbour's labels, as gt is made
    sizes = np.bincount(prev.ravel(), minlength=m + 2)
    if np.any(sizes[1 : m + 1] < int(options.get("min_px", 32))):
        return None
    if rng.random() < float(options.get("perturb", 0.5)):
        prev = perturbed_previous(prev, rng, options.get("perturb_options", {}))
        prev[~view.valid] = 0
    margin = float(rng.uniform(*options.get("margin_px", (1.5, 4.0))))
    ring = float(rng.uniform(*options.get("ring_px", (1.5, 3.0))))
    seeds = derive_scribbles(prev, list(range(1, m + 1)), m + 1, (1.0, 1.0), margin, ring, shape="core")
    seeds[~view.valid] = 0
    if not all(np.any(seeds == k) for k in range(1, m + 2)):
        return None
    return seeds, prev


def prepare_item(sample: Sample, cfg: dict[str, Any], rng: np.random.Generator) -> TrainItem | None:
    """Turn a source sample into a training item (None when the sample has no usable region).

    A sample with a neighbouring slice becomes, with the recipe's ``propagation["share"]``, a propagation
    item (:func:`propagation_input`: the neighbour's labels as the previous mask, the seeds propagation
    derives from them as strokes, this slice's labels as the target).
    """
    made = make_view(sample, int(cfg["input_size"]), rng, cfg)
    if made is None:
        return None
    view, chosen = made
    propagation = cfg.get("propagation", {})
    if view.neighbour is not None and rng.random() < float(propagation.get("share", 0.0)):
        made_input = propagation_input(view, chosen, rng, propagation)
        if made_input is not None:
            seeds, prev = made_input
            return TrainItem(view.image, class_map(view, chosen), seeds, seeds > 0, prev, 0, sample.name)
    sim = cfg.get("scribbles", {})
    given = view.scribbles is not None and rng.random() < float(cfg.get("given_scribbles", 1.0))
    if given:
        strokes = given_strokes(view)
        if strokes is None:
            return None
        chosen, scribbles = strokes
        gt = class_map(view, chosen)
    else:
        gt = class_map(view, chosen)
        scribbles = simulate_strokes(gt, None, rng, sim)
    if not (scribbles > 0).any():
        return None
    current = scribbles > 0
    prev: np.ndarray | None = None
    passes = 0
    previous = cfg["previous"]
    if rng.random() >= previous["void"]:
        pred_w, perturb_w = previous["pred_vs_perturb"]
        if rng.random() < pred_w / max(pred_w + perturb_w, 1e-12) and previous["max_passes"] > 0:
            passes = int(rng.integers(1, int(previous["max_passes"]) + 1))
        else:
            prev = perturbed_previous(gt, rng, previous.get("perturb", {}))
            new = simulate_strokes(gt, prev, rng, sim)
            scribbles = np.where(new > 0, new, scribbles)
            current = new > 0
    return TrainItem(view.image, gt, scribbles, current, prev, passes, sample.name, given)
