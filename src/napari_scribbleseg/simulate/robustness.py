"""004's robustness study: misleading interactions, and noisy strokes (jitter, elastic warp).

004 Sec. 4 replaces 5 of 20 interactions by *repetitive* ones or *false* ones (the class is given by
mistake), drawing the schedule once per sample so every model sees the same sequence. 004 places a
repetitive click somewhere inside the previously predicted mask; here a repetitive interaction is the
previous stroke again, which brings nothing new in the same way and needs no random choice. Jitter and warp make a simulated stroke look less machine-made.
All randomness comes from the ``rng`` passed in.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy import ndimage

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.scribbles import rasterize_path
from napari_scribbleseg.simulate._validate import (
    bool_mask,
    generator,
    ground_truth,
)
from napari_scribbleseg.simulate.protocol import (
    KINDS,
    Interaction,
    next_click,
    next_scribble,
)

STEP_KINDS = ("effective", "repetitive", "false")


def misleading_schedule(
    rng: np.random.Generator | int, n_interactions: int = 20, n_misleading: int = 5, kinds: tuple[str, ...] = ("repetitive", "false")
) -> tuple[str, ...]:
    """Which of ``n_interactions`` steps are misleading (004: 5 of 20), each "repetitive" or "false".

    The first step is always "effective" (there is nothing to repeat yet). Returns a tuple of
    ``STEP_KINDS`` names, one per step; draw it once per sample and apply it to every model.
    """
    rng = generator(rng)
    if not 0 <= n_misleading < max(1, n_interactions):
        raise InputError(f"n_misleading={n_misleading} must be between 0 and n_interactions - 1 = {n_interactions - 1}")
    unknown = [k for k in kinds if k not in STEP_KINDS[1:]]
    if unknown or not kinds:
        raise InputError(f"misleading kinds {unknown or kinds} are unknown; use some of {STEP_KINDS[1:]}")
    steps = ["effective"] * n_interactions
    for i in np.sort(rng.choice(np.arange(1, n_interactions), size=n_misleading, replace=False)):
        steps[int(i)] = kinds[int(rng.integers(len(kinds)))]
    return tuple(steps)


def repetitive_interaction(previous: Interaction) -> Interaction:
    """The same stroke again (004's repetitive interaction): same class, same pixels, same path."""
    return Interaction(previous.label, previous.mask.copy(), previous.kind, None if previous.path is None else previous.path.copy())


def false_interaction(
    gt: np.ndarray,
    pred: np.ndarray | None,
    rng: np.random.Generator | int,
    ignore: np.ndarray | None = None,
    kind: str = "scribble",
    width: float = 3.0,
    radius: float = 5.0,
) -> Interaction | None:
    """004's false interaction: the protocol's next stroke, but given the wrong class.

    The stroke lies on the largest error region (gt class k) and is labelled with another class drawn
    from the gt classes (binary: the other of 1 and 2), i.e. a stroke of the wrong class in a wrong
    place. Returns None when the prediction has no error (nothing to mislabel).
    """
    rng = generator(rng)
    if kind not in KINDS:
        raise InputError(f"interaction kind {kind!r} is unknown; use one of {KINDS}")
    gt = ground_truth(gt)
    step = next_scribble(gt, pred, ignore, width=width) if kind == "scribble" else next_click(gt, pred, ignore, radius=radius)
    if step is None:
        return None
    valid = ~bool_mask(ignore, "ignore", gt.shape)
    classes = [int(c) for c in np.unique(gt[valid]) if c != step.label]
    if not classes:
        classes = [2 if step.label == 1 else 1]
    wrong = classes[int(rng.integers(len(classes)))]
    return Interaction(wrong, step.mask, step.kind, step.path)


def jitter_path(path: np.ndarray, rng: np.random.Generator | int, sigma: float = 2.0, correlation: float = 10.0) -> np.ndarray:
    """A hand-drawn version of a (N, 2) (row, col) path: smooth random offsets of about ``sigma`` px.

    White noise is low-passed along the path with a Gaussian of ``correlation`` px (arc length) and
    rescaled to standard deviation ``sigma``, so the stroke wobbles instead of fraying.
    """
    rng = generator(rng)
    path = np.asarray(path, np.float64)
    if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
        raise InputError(f"a path needs (N, 2) (row, col) points; got shape {path.shape}")
    noise = rng.standard_normal(path.shape)
    if len(path) > 1:
        step = max(float(np.mean(np.hypot(*np.diff(path, axis=0).T))), 1e-6)
        noise = ndimage.gaussian_filter1d(noise, max(correlation / step, 1e-3), axis=0, mode="nearest")
        noise /= max(float(noise.std()), 1e-12)
    return path + sigma * noise


def jitter_interaction(
    interaction: Interaction,
    rng: np.random.Generator | int,
    sigma: float = 2.0,
    width: float = 3.0,
    within: np.ndarray | None = None,
) -> Interaction:
    """``interaction`` redrawn along a jittered path (:func:`jitter_path`), ``width`` px wide.

    A click moves as a whole by a Gaussian offset of ``sigma`` px and keeps its shape. ``within``
    (H, W) bool clips the result (e.g. to the gt region, so jitter never crosses into another class);
    the original stroke is returned when clipping would leave nothing.
    """
    rng = generator(rng)
    shape = interaction.mask.shape
    clip = np.ones(shape, bool) if within is None else bool_mask(within, "within", shape)
    if interaction.kind == "click" or interaction.path is None or len(interaction.path) < 2:
        shift = np.rint(rng.normal(0.0, sigma, 2)).astype(int)
        mask = ndimage.shift(interaction.mask, shift, order=0, mode="constant", cval=False) & clip
        path = None if interaction.path is None else interaction.path + shift
    else:
        path = jitter_path(interaction.path, rng, sigma)
        mask = rasterize_path(path, shape, width) & clip
    if not mask.any():
        return interaction
    return Interaction(interaction.label, mask, interaction.kind, path)


def warp_mask(mask: np.ndarray, rng: np.random.Generator | int, alpha: float = 8.0, sigma: float = 6.0) -> np.ndarray:
    """Elastic deformation (Simard et al. 2003) of an (H, W) bool stroke mask.

    A random displacement field, Gaussian-smoothed with ``sigma`` px and scaled to ``alpha`` px at most
    about, moves every pixel; nearest-neighbour sampling keeps the mask binary. Returns (H, W) bool.
    """
    rng = generator(rng)
    mask = np.asarray(mask, bool)
    if mask.ndim != 2:
        raise InputError(f"a stroke mask is 2-D (H, W); got shape {mask.shape}")
    fields = []
    for _ in range(2):
        field = ndimage.gaussian_filter(rng.uniform(-1.0, 1.0, mask.shape), sigma, mode="constant")
        fields.append(alpha * field / max(float(np.abs(field).max()), 1e-12))
    rows, cols = np.meshgrid(np.arange(mask.shape[0]), np.arange(mask.shape[1]), indexing="ij")
    coords = np.stack([rows + fields[0], cols + fields[1]])
    return ndimage.map_coordinates(mask.astype(np.uint8), coords, order=0, mode="constant", cval=0).astype(bool)


def warp_interaction(
    interaction: Interaction, rng: np.random.Generator | int, alpha: float = 8.0, sigma: float = 6.0, within: np.ndarray | None = None
) -> Interaction:
    """``interaction`` with its mask elastically warped (:func:`warp_mask`), clipped to ``within`` (H, W) bool
    when given; the original is returned when nothing would be left. The path is dropped (it no longer fits)."""
    shape = interaction.mask.shape
    mask = warp_mask(interaction.mask, rng, alpha, sigma)
    if within is not None:
        mask &= bool_mask(within, "within", shape)
    if not mask.any():
        return interaction
    return Interaction(interaction.label, mask, interaction.kind, None)


class MisleadingSimulator:
    """004's misleading-user protocol as a simulator ``f(gt, pred, ignore) -> Interaction | None``.

    Steps follow :func:`misleading_schedule` (default 5 of 20 repetitive or false); "effective" steps
    are the protocol's ``kind`` ("scribble" or "click"). The schedule of a sample is seeded by ``seed``
    and the sample's ground truth, so every predictor meets the same sequence whatever the order or
    process it runs in. Call :meth:`reset` before each (sample, predictor) run; the step count starts
    again there.

    Examples
    --------
    >>> user = MisleadingSimulator("scribble", seed=0)
    >>> user.reset()  # then, per interaction: step = user(gt, pred, ignore)
    """

    def __init__(
        self,
        kind: str = "scribble",
        seed: int = 0,
        n_interactions: int = 20,
        n_misleading: int = 5,
        width: float = 3.0,
        radius: float = 5.0,
    ) -> None:
        if kind not in KINDS:
            raise InputError(f"interaction kind {kind!r} is unknown; use one of {KINDS}")
        self.kind, self.seed, self.width, self.radius = kind, int(seed), float(width), float(radius)
        self.n_interactions, self.n_misleading = int(n_interactions), int(n_misleading)
        self.reset()

    def reset(self) -> None:
        """Start a new run: step 0, no previous stroke, schedule drawn at the next call."""
        self.step = 0
        self.previous: Interaction | None = None
        self.schedule: tuple[str, ...] | None = None
        self._rng: np.random.Generator | None = None

    def __call__(self, gt: np.ndarray, pred: np.ndarray | None, ignore: np.ndarray | None = None) -> Interaction | None:
        gt = ground_truth(gt)
        if self.schedule is None:
            digest = hashlib.sha256(np.ascontiguousarray(gt).tobytes()).digest()
            self._rng = np.random.default_rng([self.seed, int.from_bytes(digest[:8], "little")])
            self.schedule = misleading_schedule(self._rng, self.n_interactions, self.n_misleading)
        what = self.schedule[self.step] if self.step < len(self.schedule) else "effective"
        self.step += 1
        if what == "repetitive" and self.previous is not None:
            out: Interaction | None = repetitive_interaction(self.previous)
        elif what == "false":
            out = false_interaction(gt, pred, self._rng, ignore, self.kind, self.width, self.radius)
        elif self.kind == "scribble":
            out = next_scribble(gt, pred, ignore, width=self.width)
        else:
            out = next_click(gt, pred, ignore, radius=self.radius)
        if out is not None:
            self.previous = out
        return out
