"""Slice-by-slice segmentation of (Z, Y, X) volumes and propagation of a segmented slice to its neighbours.

The user scribbles one slice (along any axis) and segments it with any predictor; :meth:`propagate`
carries the result outward slice by slice. Each neighbour is segmented by the same predictor, with the
last result as its previous mask and scribbles derived from it (:mod:`napari_scribbleseg.volume.seeds`):
seeds deep inside each class and a background ring. Propagation stops where every class has vanished
(too small in mm^2, or its seeds no longer look like it), where confidence drops, at a slice the user
accepted (locked) or scribbled, and where it reaches the results of another scribbled slice: halfway
to it, or sooner where that slice's result, with the same classes, has the lower expected error. A
correction is a new scribble on any slice: :meth:`correct` segments it and re-propagates from there. On a
slice propagated to, the correction refines what the slice showed: each class it showed is carried as a
stroke-like seed beside the user's strokes (:meth:`correction_scribbles`), so a first stroke of the
background does not leave the object without strokes, which would make it vanish.

Seeds are checked against intensities (:func:`napari_scribbleseg.volume.seeds.check_seeds`) with the
appearance of each class on the slice propagation started from, the one the user saw; a running model
would follow a drift into neighbouring tissue.

Confidence comes from ``predict_proba`` where the predictor has it: the mean probability of the chosen
class over the band where the boundary can be (unscribbled pixels within the propagation margin of the
last result). A predictor without ``predict_proba`` is judged by shape consistency instead: 1 - Dice
between the labelled area and that of the slice it came from (see
:func:`napari_scribbleseg.uncertainty.shape_change`). Both also give each slice an expected error (mm^2),
which :meth:`VolumeSegmenter.ranking` orders to say where to scribble next; the slice where the objects
vanished is ranked too (half the last slice's object area), so an abrupt end gets checked. A propagated
slice's expected error also counts drift: a boundary carried d mm from the slice it came from is
expected to have moved :data:`DRIFT_RATE` x d mm along its whole length, errors a predictor is confidently
wrong about (its probabilities alone ranked the worst slices last on the dev volumes: Spearman 0.23
against the true per-slice error for the shipped model, 0.66 with drift; docs/BENCHMARKS.md "Volumes").
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import ndimage as ndi

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.imaging import to_rgb_float
from napari_scribbleseg.scribbles import as_label_map
from napari_scribbleseg.slicing import slice_spacing
from napari_scribbleseg.predictor import accepts_keyword
from napari_scribbleseg.uncertainty import (
    expected_error,
    full_proba,
    labels_from_proba,
    rank_slices,
    shape_change,
    uncertainty_map,
)
from napari_scribbleseg.volume.seeds import (
    Appearance,
    SeedShape,
    appearance_of,
    carried_seeds,
    carry_classes,
    check_seeds,
    class_core,
    derive_scribbles,
    sigma_floor,
)
from napari_scribbleseg.volume.walker import walk

Direction = Literal[1, -1, "both"]

#: a slice where propagation found its objects gone is scored this fraction of the last written slice's
#: object area: an abrupt end (a large last slice) is worth a look, a tapering one is not
FRONTIER_WEIGHT = 0.5
#: mm a propagated boundary is expected to move per mm of distance from its source slice (the drift term of
#: the expected error: DRIFT_RATE x distance x boundary length, mm^2)
DRIFT_RATE = 0.5
#: pixels a classical propagator sees beyond the seeds' window (the ring's outer edge is 2 px inside that
#: window): room for its smoothing (GrowCut's Gaussian, sigma 1 px) to see the same image as on the whole slice
WINDOW_PAD_PX = 4
Cancel = threading.Event | Callable[[], bool] | None
Progress = Callable[[int, int], None] | None


@dataclass(frozen=True)
class PropagationSettings:
    """How propagation derives scribbles and when it stops. Distances in mm, areas in mm^2.

    Attributes
    ----------
    seeds : "core" (the eroded class; region-growing predictors drift less with it) or "skeleton" (its
        stroke-like skeleton, closer to what a model was trained on).
    margin_mm : how far a boundary may move between neighbouring slices: seeds stay this deep inside
        each class and the background ring this far outside. None: the larger of two in-plane pixels
        and the slice step.
    ring_width_mm : width of the background ring. None: two in-plane pixels.
    min_area_mm2 : a class smaller than this on a slice has vanished there.
    min_confidence : propagation stops at a slice whose confidence (see the module notes) is lower.
    appearance_z : seeds whose intensity is further than this many robust sigmas from their class on
        the source slice are dropped; None keeps every seed and skips the test below.
    min_seed_fraction : a class has vanished where fewer of its seeds than this fraction fit its
        appearance better than the background's (:func:`~napari_scribbleseg.volume.seeds.check_seeds`).
    prefetch : how many slices ahead the predictor's ``prepare`` is given.
    """

    seeds: SeedShape = "core"
    margin_mm: float | None = None
    ring_width_mm: float | None = None
    min_area_mm2: float = 10.0
    min_confidence: float = 0.6
    appearance_z: float | None = 3.0
    min_seed_fraction: float = 0.3
    prefetch: int = 4


@dataclass
class PropagationStep:
    """One slice written by propagation (what the generator yields).

    ``labels`` is the (H, W) int32 result of slice ``index``; ``done`` of at most ``total`` slices have
    been visited so far (``total`` counts every slice propagation could reach).
    """

    index: int
    direction: int
    labels: np.ndarray
    confidence: float
    expected_error: float
    done: int
    total: int


@dataclass(frozen=True)
class Stop:
    """Where and why propagation in one direction ended: ``index`` is the first slice it did not write
    (-1 or n_slices at the volume's edge). Reasons: "vanished", "low_confidence", "locked", "scribbled",
    "owned" (nearer to another scribbled slice, or its result there, with the same classes, has the
    lower expected error),
    "edge", "cancelled"."""

    index: int
    reason: str


@dataclass
class PropagationResult:
    """Slices written, in order, the stop of each direction (+1 / -1) that ran, and how many slices
    propagation could have reached (``total``, the progress bar's length)."""

    written: list[int] = field(default_factory=list)
    total: int = 0
    stops: dict[int, Stop] = field(default_factory=dict)
    cancelled: bool = False


def _is_cancelled(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def volume_key(volume: np.ndarray) -> str:
    """A short digest of a volume's shape, dtype and voxels: keys its slices in a predictor's feature cache."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(repr((volume.shape, volume.dtype.str)).encode())
    digest.update(np.ascontiguousarray(volume).data)
    return digest.hexdigest()


class VolumeSegmenter:
    """Segment a (Z, Y, X) volume slice by slice along one axis and propagate results between slices.

    Parameters
    ----------
    volume : (Z, Y, X) real array
        Intensities (HU for CT, any scale for MR). Not copied; must stay unchanged while in use.
    predictor : any object with ``set_image`` and ``predict`` (see :mod:`napari_scribbleseg.predictor`)
        ``set_image`` gets ``kind=`` and ``key=(volume_key, axis, index)`` where it accepts them, so a
        Session caches features per slice; ``prepare([(key, image), ...], kind=...)``, where it exists,
        is given the slices ahead of propagation; ``predict_proba`` gives confidence.
    axis : 0, 1 or 2; slices are taken across this axis (0 = axial for a (Z, Y, X) volume).
    spacing : (z, y, x) voxel size in mm.
    kind : "ct", "mr" or None, passed to ``set_image`` where it accepts it.
    background : label of the background class in the scribbles (2 in the binary convention), or None
        when the background is simply unlabelled (0): the derived ring then uses a temporary label that
        is mapped back to 0.
    labels : (Z, Y, X) int array to write into (e.g. a Labels layer's data); a new int32 zero volume if None.
    transform : maps a raw (H, W) slice to the image given to ``set_image`` (e.g. a CT window for a
        classical predictor); the raw slice if None.
    settings : :class:`PropagationSettings`.
    key : the volume's :func:`volume_key` when the caller has it already (the controller hashes a volume
        once); computed here otherwise.
    propagator : a second predictor for the propagation steps (derived seeds, no user), or None to use
        ``predictor`` for them too. The user's own scribbled slices always use ``predictor``. On the dev
        volumes GrowCut's geodesic competition carries a slice further than the shipped model does
        (docs/BENCHMARKS.md "Volumes"), while the model is the better tool where the user scribbles.
    """

    def __init__(
        self,
        volume: np.ndarray,
        predictor: Any,
        *,
        axis: int = 0,
        spacing: Sequence[float] = (1.0, 1.0, 1.0),
        kind: str | None = None,
        background: int | None = None,
        labels: np.ndarray | None = None,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
        settings: PropagationSettings | None = None,
        propagator: Any = None,
        key: str | None = None,
    ) -> None:
        volume = np.asarray(volume)
        if volume.ndim != 3:
            raise InputError(
                f"volume is {volume.ndim}-D with shape {volume.shape}; pass one (Z, Y, X) volume "
                "(pick a time point or channel first)"
            )
        if not np.issubdtype(volume.dtype, np.number) or np.iscomplexobj(volume):
            raise InputError(f"volume has dtype {volume.dtype}; pass real intensities")
        if not np.isfinite(volume).all():
            raise InputError("volume contains NaN or infinite values; replace them (e.g. np.nan_to_num) first")
        if axis not in (0, 1, 2):
            raise InputError(f"axis is {axis!r}; use 0, 1 or 2 (the axis the slices are taken across)")
        spacing = tuple(float(s) for s in spacing)
        if len(spacing) != 3 or not all(np.isfinite(s) and s > 0 for s in spacing):
            raise InputError(f"spacing is {spacing}; give three positive voxel sizes (z, y, x) in mm")
        if labels is None:
            labels = np.zeros(volume.shape, np.int32)
        elif labels.shape != volume.shape or not np.issubdtype(labels.dtype, np.integer):
            raise InputError(
                f"labels have shape {labels.shape} and dtype {labels.dtype}; pass an integer volume of the "
                f"volume's shape {volume.shape}"
            )
        for given in (predictor, propagator):
            if given is not None and (not hasattr(given, "set_image") or not hasattr(given, "predict")):
                raise InputError(
                    f"{type(given).__name__} is not a predictor; pass one with set_image(image) and "
                    "predict(scribbles, prev=None), e.g. napari_scribbleseg.get_predictor('default')"
                )
        self.volume = volume
        self.labels = labels
        self.predictor = predictor
        self.propagator = predictor if propagator is None else propagator
        self.axis = axis
        self.spacing = spacing
        self.kind = kind
        self.background = background
        self.transform = transform
        self.settings = settings or PropagationSettings()
        self.key = volume_key(volume) if key is None else str(key)
        self._slices = np.moveaxis(volume, axis, 0)
        self._label_slices = np.moveaxis(labels, axis, 0)
        self.pixel_spacing = slice_spacing(spacing, axis)
        self.step_mm = spacing[axis]
        self.pixel_area = self.pixel_spacing[0] * self.pixel_spacing[1]
        self._scribbles: dict[int, np.ndarray] = {}
        # what a slice showed before the user's first stroke on it: its corrections carry its classes on
        self._carried: dict[int, np.ndarray] = {}
        self._carried_seeds: dict[int, tuple[bytes, np.ndarray]] = {}  # per slice: (digest of what it showed, seeds)
        self._locked: set[int] = set()
        self._owner: dict[int, int] = {}
        self._scores: dict[int, float] = {}
        self._walked = False  # walk_3d has rewritten slices: the ranking weighs by distance (ranking())
        # 1 byte per pixel of each segmented slice; the widget shows the current slice's map
        self._maps: dict[int, np.ndarray] = {}
        self._images: OrderedDict[int, np.ndarray] = OrderedDict()
        self._prepared: set[int] = set()
        self._set_image_options = {id(p): self._options_of(p, kind) for p in (self.predictor, self.propagator)}

    @staticmethod
    def _options_of(predictor: Any, kind: str | None) -> dict[str, Any]:
        """The keywords ``predictor.set_image`` takes of ``kind`` and ``key``."""
        return {
            name: value
            for name, value in (("kind", kind), ("key", None))
            if (value is not None or name == "key") and accepts_keyword(predictor.set_image, name)
        }

    # --- state the widget reads -------------------------------------------------------------
    @property
    def n_slices(self) -> int:
        """Number of slices across :attr:`axis`."""
        return self._slices.shape[0]

    @property
    def scribbled(self) -> list[int]:
        """Slices segmented from the user's own scribbles, ascending."""
        return sorted(self._scribbles)

    @property
    def locked(self) -> list[int]:
        """Slices the user accepted: propagation never writes them."""
        return sorted(self._locked)

    @property
    def scores(self) -> dict[int, float]:
        """Expected error (mm^2) of each segmented slice, of a slice where confidence stopped propagation,
        and of one where the objects vanished (:data:`FRONTIER_WEIGHT` x the last slice's object area)."""
        return dict(self._scores)

    def slice_labels(self, index: int) -> np.ndarray:
        """The (H, W) labels of slice ``index`` (a view into :attr:`labels`)."""
        return self._label_slices[self._check_index(index)]

    def uncertainty_map(self, index: int) -> np.ndarray | None:
        """(H, W) float32 uncertainty in [0, 1] of slice ``index`` from its last prediction; None if unknown."""
        stored = self._maps.get(self._check_index(index))
        return None if stored is None else stored.astype(np.float32) / 255.0

    def ranking(self) -> list[int]:
        """Slices ordered by :meth:`priorities`, worst first, leaving out scribbled and locked ones."""
        return rank_slices(self.priorities(), exclude=self._locked | set(self._scribbles))

    def priorities(self) -> dict[int, float]:
        """What :meth:`ranking` orders by: the expected errors (:attr:`scores`) and, after :meth:`walk_3d`,
        each weighed by the slice's distance (mm) from the nearest scribbled or accepted slice.

        Those expected errors describe the slice-by-slice result; the walker has since corrected the slices
        near the segmented ones, so of two equally uncertain slices the farther is likelier still wrong (on
        the dev volumes: ACDC myocardium at 3 slices 0.724 against 0.678, docs/BENCHMARKS.md "Volumes").
        """
        done = self._locked | set(self._scribbles)
        if not self._walked or not done:
            return dict(self._scores)
        segmented = np.array(sorted(done))
        return {z: score * float(np.abs(segmented - z).min()) * self.step_mm for z, score in self._scores.items()}

    def lock(self, index: int) -> None:
        """Accept slice ``index``: propagation and corrections elsewhere leave it untouched."""
        self._locked.add(self._check_index(index))

    def unlock(self, index: int) -> None:
        """Undo :meth:`lock`."""
        self._locked.discard(self._check_index(index))

    def adopt(self, index: int, labels: np.ndarray) -> None:
        """Take (H, W) ``labels`` as slice ``index``'s result (one kept while this segmenter was rebuilt,
        or an accepted instance), so propagation can carry it on. A locked slice keeps its own."""
        index = self._check_index(index)
        if index in self._locked:
            return
        labels = np.asarray(labels, np.int32)
        if labels.shape != self._label_slices[index].shape:
            raise InputError(f"labels {labels.shape} do not fit slice {index} of shape {self._label_slices[index].shape}")
        self._label_slices[index] = labels

    # --- segmentation -----------------------------------------------------------------------
    def segment_slice(self, index: int, scribbles: np.ndarray, prev: np.ndarray | None = None) -> np.ndarray:
        """Segment slice ``index`` from the user's (H, W) ``scribbles``; returns and stores its labels.

        ``prev`` defaults to the slice's current labels where it has any, so a correction refines the
        result it corrects. The slice becomes a scribbled slice: propagation from elsewhere stops there.
        """
        index = self._check_index(index)
        if index in self._locked:
            raise InputError(f"slice {index} is accepted (locked); unlock({index}) before segmenting it again")
        scribbles = as_label_map(scribbles, shape=self._slices.shape[1:])
        if not scribbles.any():
            raise InputError(f"the scribbles on slice {index} are empty; paint at least one class first")
        if prev is None and self._label_slices[index].any():
            prev = self._label_slices[index].copy()
        if index not in self._scribbles:
            # what the slice showed before the user's first stroke on it (propagated to it, adopted)
            self._carried.pop(index, None)
            if prev is not None and self._object_mask(prev).any():
                self._carried[index] = prev.copy()
        given = self.correction_scribbles(index, scribbles)
        labels, proba = self._predict(index, given, prev)
        self._label_slices[index] = labels
        self._scribbles[index] = scribbles.copy()
        self._owner[index] = index
        self._record(index, proba, given > 0, labels, prev)
        return labels.copy()

    def correction_scribbles(self, index: int, scribbles: np.ndarray) -> np.ndarray:
        """What the predictor is given for the user's (H, W) ``scribbles`` on slice ``index``: the scribbles
        themselves, plus, on a slice that showed a result before the user's first stroke on it (propagated
        to it), a stroke-like seed of each class it showed (:func:`~napari_scribbleseg.volume.seeds.carry_classes`).

        A correction refines what the slice showed: without the seeds, one background stroke that trims a
        leak leaves the object without strokes of its own, and the predictor drops it (ACDC patient 091's
        RV: Dice 0.90 -> 0.00 after one background stroke; docs/BENCHMARKS.md "Volumes"). The widget's live
        prediction of such a slice takes the same scribbles.
        """
        index = self._check_index(index)
        shown = self._carried.get(index)
        if shown is None and index not in self._scribbles:
            shown = self._label_slices[index]
        if shown is None or not self._object_mask(shown).any():
            return scribbles
        margin = self._margins()[0]
        digest = hashlib.blake2b(np.ascontiguousarray(shown).tobytes(), digest_size=16).digest()
        cached = self._carried_seeds.get(index)
        if cached is None or cached[0] != digest:  # the seeds of what it shows, once (a live stroke per update)
            cached = (digest, carried_seeds(shown, self._object_classes(shown), self.pixel_spacing, margin))
            self._carried_seeds[index] = cached
        return carry_classes(scribbles, cached[1], self.pixel_spacing, margin)

    def forget(self, index: int) -> None:
        """Drop slice ``index``'s labels, strokes and scores (the user cleared it): it shows nothing to
        carry, and propagation may write it again unless it is accepted."""
        index = self._check_index(index)
        self._label_slices[index] = 0
        for store in (self._scribbles, self._carried, self._carried_seeds, self._owner, self._scores, self._maps):
            store.pop(index, None)

    def correct(
        self,
        index: int,
        scribbles: np.ndarray,
        direction: Direction = "both",
        progress: Progress = None,
        cancel: Cancel = None,
    ) -> PropagationResult:
        """Segment slice ``index`` from new scribbles, then re-propagate from it (see :meth:`propagate`)."""
        self.segment_slice(index, scribbles)
        return self.propagate(index, direction, progress=progress, cancel=cancel)

    def propagate(
        self, from_index: int, direction: Direction = "both", progress: Progress = None, cancel: Cancel = None
    ) -> PropagationResult:
        """Propagate the result of slice ``from_index`` to its neighbours; see :meth:`iter_propagate`.

        ``progress(done, total)`` is called after each slice; ``cancel`` (a threading.Event or a callable
        returning True) is checked before each slice.
        """
        steps = self.iter_propagate(from_index, direction, cancel=cancel)
        while True:
            try:
                step = next(steps)
            except StopIteration as finished:
                result: PropagationResult = finished.value
                if progress is not None and not result.cancelled:
                    progress(result.total, result.total)
                return result
            if progress is not None:
                progress(step.done, step.total)

    def iter_propagate(
        self, from_index: int, direction: Direction = "both", cancel: Cancel = None
    ) -> Generator[PropagationStep, None, PropagationResult]:
        """Generator form of :meth:`propagate`: yields a :class:`PropagationStep` per slice written and
        returns the :class:`PropagationResult` (``result = yield from ...``, or a worker's return value).

        ``direction`` is +1 (increasing index), -1, or "both" (+1 first). A cancel stops before the next
        slice: slices written so far keep their new labels, every other slice keeps its old ones, and
        locked slices are never written.
        """
        source = self._check_index(from_index)
        directions = (1, -1) if direction == "both" else (direction,)
        if any(d not in (1, -1) for d in directions):
            raise InputError(f"direction is {direction!r}; use +1, -1 or 'both'")
        classes = self._object_classes(self._label_slices[source])
        if not classes:
            raise InputError(
                f"slice {from_index} has no segmented object to propagate; segment it (segment_slice) first"
            )
        reach = {d: self._reach(source, d) for d in directions}
        result = PropagationResult(total=sum(reach.values()))
        self._prepared.clear()
        done = 0
        for d in directions:
            stop = yield from self._walk(source, d, classes, result, done, result.total, cancel)
            result.stops[d] = stop
            if stop.reason == "cancelled":
                result.cancelled = True
                break
            done += reach[d]
        return result

    def walk_3d(self) -> list[int]:
        """Re-segment the slices around the segmented ones in 3-D (:func:`napari_scribbleseg.volume.walker.walk`).

        Every scribbled and every accepted slice seeds a random walker with its whole result; the walker
        rewrites the other slices inside the box around the objects, through all of them, except the regions
        where the segmented slices' intensities favour the slice-by-slice result
        (:mod:`~napari_scribbleseg.volume.arbitrate`); the seeded slices keep their labels. The ranking keeps
        the slice-by-slice expected errors (adding the area where the two results disagree, or the walker's
        own uncertainty, ranked worse on the dev volumes: docs/BENCHMARKS.md "Volumes"); from now on
        :meth:`ranking` weighs them by the distance from the segmented slices. Returns the slices written, in order.
        """
        seeded = sorted(z for z in set(self._scribbles) | self._locked if self._object_mask(self._label_slices[z]).any())
        classes = sorted({k for z in seeded for k in self._object_classes(self._label_slices[z])})
        if not classes:
            return []
        walker_background = self._ring_label(classes)
        spacing = (self.step_mm, *self.pixel_spacing)
        solved = walk(self._slices, self._label_slices, seeded, classes, walker_background, spacing, self.kind)
        if solved is None:
            return []
        box, labels = solved
        labels[labels == walker_background] = 0 if self.background is None else self.background
        sources = sorted(self._scribbles)
        written = []
        for z in range(box[0].start, box[0].stop):
            if z in self._scribbles or z in self._locked:
                continue
            new = labels[z - box[0].start]
            old = self._label_slices[z][box[1:]]
            if not self._object_mask(new).any() and not self._object_mask(old).any():
                continue
            self._label_slices[z][box[1:]] = new
            if sources:
                self._owner[z] = min(sources, key=lambda source: abs(source - z))
            written.append(z)
        self._walked = self._walked or bool(written)
        return written

    # --- one direction ----------------------------------------------------------------------
    def _walk(
        self,
        source: int,
        d: int,
        classes: list[int],
        result: PropagationResult,
        done: int,
        total: int,
        cancel: Cancel,
    ) -> Generator[PropagationStep, None, Stop]:
        prev = self._label_slices[source].copy()
        # appearances come from the source slice, which the user saw: a running model would follow a drift
        models = self._appearances(prev, source, classes) if self.settings.appearance_z is not None else None
        index = source + d
        while 0 <= index < self.n_slices:
            reason = self._blocked(index, source)
            if reason is None and _is_cancelled(cancel):
                reason = "cancelled"
            if reason is not None:
                return Stop(index, reason)
            self._prefetch(index, d)
            # a slice another scribbled slice propagated to keeps that result unless this one scores
            # better; a result with other classes is a correction (a class added or dropped), no rival
            owner = self._owner.get(index)
            rival = owner not in (None, source) and owner in self._scribbles
            rival_classes = self._object_classes(self._label_slices[index]) if rival else []
            before = (self._scores.get(index), self._maps.get(index))
            outcome = self._step(index, prev, classes, models, abs(index - source) * self.step_mm)
            if outcome is None:
                self._clear_owned(index, d, source)
                if rival:
                    self._restore(index, *before)
                else:
                    # the end is a guess: if the object went on, the last slice's area is what is missed
                    area = np.count_nonzero(self._object_mask(prev)) * self.pixel_area
                    self._scores[index] = FRONTIER_WEIGHT * area
                    self._maps.pop(index, None)
                return Stop(index, "vanished")
            labels, confidence, error, classes = outcome
            if rival and before[0] is not None and error > before[0] and rival_classes == classes:
                self._restore(index, *before)
                return Stop(index, "owned")
            if confidence < self.settings.min_confidence:
                self._clear_owned(index, d, source)
                if rival:
                    self._restore(index, *before)
                return Stop(index, "low_confidence")
            self._label_slices[index] = labels
            self._owner[index] = source
            result.written.append(index)
            done += 1
            yield PropagationStep(index, d, labels, confidence, error, done, total)
            prev = labels
            index += d
        return Stop(index, "edge")

    def _step(
        self, index: int, prev: np.ndarray, classes: list[int], models: dict[int, Appearance] | None,
        distance_mm: float = 0.0,
    ) -> tuple[np.ndarray, float, float, list[int]] | None:
        """Segment slice ``index`` from ``prev`` (its neighbour's result, ``distance_mm`` from the source
        slice); None if every class vanished.

        Records the slice's expected error and uncertainty map even when confidence is too low to
        write it, so the ranking points at the slice where propagation gave up.
        """
        s = self.settings
        ring_label = self._ring_label(classes)
        margin, ring_width = self._margins()
        # seeds, ring and band all lie within margin + ring width of the objects: work in that window
        window = self._window(prev, classes, margin + ring_width)
        local = derive_scribbles(prev[window], classes, ring_label, self.pixel_spacing, margin, ring_width, s.seeds)
        if models is not None:
            local = self._check(local, index, window, models, ring_label)
        alive = [k for k in classes if np.any(local == k)]
        if not alive:
            return None
        scribbles = np.zeros(prev.shape, np.int32)
        scribbles[window] = local
        labels, proba = self._predict_step(index, scribbles, prev, window, ring_label)
        fill = 0 if self.background is None else self.background
        labels[labels == ring_label] = fill
        for k in alive:
            area = np.count_nonzero(labels == k) * self.pixel_area
            if area < s.min_area_mm2:
                labels[labels == k] = fill
        alive = [k for k in alive if np.any(labels == k)]
        if not alive:
            return None
        band = np.zeros(prev.shape, bool)
        band[window] = self._band(prev[window], margin + ring_width)
        error, confidence = self._record(index, proba, scribbles > 0, labels, prev, band, distance_mm)
        return labels, confidence, error, alive

    def _predict_step(
        self, index: int, scribbles: np.ndarray, prev: np.ndarray, window: tuple[slice, slice], ring_label: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The propagator's labels and probabilities of slice ``index`` from the derived ``scribbles``.

        A classical propagator (GrowCut, the random walker: no per-slice features) sees only the seeds'
        ``window`` grown by :data:`WINDOW_PAD_PX`, of the slice normalised as a whole (so the crop's
        intensities are the slice's): the background ring lies inside it and encloses the objects, so every
        pixel outside is the ring's (no path from a class's seeds leaves the ring without crossing it), and
        the work is that of the objects' size, not the slice's. Any other predictor (a Session, with its
        cached features) sees the whole slice, as it was trained.
        """
        from napari_scribbleseg.baselines.common import ClassicalPredictor

        local = isinstance(self.propagator, ClassicalPredictor) and not hasattr(self.propagator, "prepare")
        if not local or not np.any(scribbles == ring_label):
            return self._predict(index, scribbles, prev, self.propagator)
        h, w = prev.shape
        wide = (
            slice(max(window[0].start - WINDOW_PAD_PX, 0), min(window[0].stop + WINDOW_PAD_PX, h)),
            slice(max(window[1].start - WINDOW_PAD_PX, 0), min(window[1].stop + WINDOW_PAD_PX, w)),
        )
        part, part_proba = self._predict(index, scribbles[wide], prev[wide], self.propagator, wide)
        labels = np.full(prev.shape, ring_label, np.int32)
        labels[wide] = part
        if part_proba is None:
            return labels, None
        classes = [int(c) for c in np.unique(scribbles) if c > 0]
        proba = np.zeros((len(part_proba), h, w), np.float32)
        proba[classes.index(ring_label)] = 1.0
        proba[:, wide[0], wide[1]] = part_proba
        return labels, proba

    def _appearances(self, labels: np.ndarray, index: int, classes: list[int]) -> dict[int, Appearance]:
        """Intensity models of each class (its core) and of the background ring on slice ``index``."""
        margin, ring_width = self._margins()
        ring_label = self._ring_label(classes)
        image = np.asarray(self._slices[index], np.float64)
        floor = sigma_floor(image)
        models = {}
        for k in classes:
            model = appearance_of(image, class_core(labels == k, self.pixel_spacing, margin), floor)
            if model is not None:
                models[k] = model
        ring = derive_scribbles(labels, classes, ring_label, self.pixel_spacing, margin, ring_width) == ring_label
        background = appearance_of(image, ring, floor)
        if background is not None:
            models[ring_label] = background
        return models

    def _check(
        self,
        scribbles: np.ndarray,
        index: int,
        window: tuple[slice, slice],
        models: dict[int, Appearance],
        ring_label: int,
    ) -> np.ndarray:
        """Check the derived ``scribbles`` (the ``window`` of slice ``index``) against the appearances:
        a class whose seeds mostly do not fit it any more has vanished (its seeds are removed), the
        others lose their outliers."""
        s = self.settings
        checked, fractions = check_seeds(scribbles, self._slices[index][window], models, ring_label, s.appearance_z)
        for k, fraction in fractions.items():
            if fraction < s.min_seed_fraction:
                checked[checked == k] = 0
        return checked

    def _window(self, labels: np.ndarray, classes: list[int], reach_mm: float) -> tuple[slice, slice]:
        """Bounding box of ``classes`` in ``labels`` grown by ``reach_mm`` (+ 2 pixels), clipped to the slice."""
        rows, cols = np.nonzero(np.isin(labels, classes))
        grow = [int(np.ceil(reach_mm / p)) + 2 for p in self.pixel_spacing]
        return (
            slice(max(rows.min() - grow[0], 0), min(rows.max() + grow[0] + 1, labels.shape[0])),
            slice(max(cols.min() - grow[1], 0), min(cols.max() + grow[1] + 1, labels.shape[1])),
        )

    # --- helpers ----------------------------------------------------------------------------
    def _predict(
        self, index: int, scribbles: np.ndarray, prev: np.ndarray | None, predictor: Any = None,
        window: tuple[slice, slice] | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Labels (H, W) int32 and, where the predictor has them, (K, H, W) probabilities of slice ``index``
        (``predictor``: :attr:`predictor` unless given, e.g. :attr:`propagator`); with ``window``, of that part
        of the slice (``scribbles`` and ``prev`` are the window's)."""
        predictor = self.predictor if predictor is None else predictor
        options = dict(self._set_image_options[id(predictor)])
        image = self._image(index)
        if window is not None:
            image = to_rgb_float(image)[window]
        if "key" in options:
            options["key"] = (self.key, self.axis, index) if window is None else (
                self.key, self.axis, index, window[0].start, window[0].stop, window[1].start, window[1].stop)
        predictor.set_image(image, **options)
        if hasattr(predictor, "predict_proba"):
            proba = np.asarray(predictor.predict_proba(scribbles, prev))
            classes = [int(c) for c in np.unique(scribbles) if c > 0]
            return labels_from_proba(proba, classes, scribbles), proba
        labels = np.asarray(predictor.predict(scribbles, prev))
        if labels.shape != scribbles.shape:
            raise InputError(
                f"{type(predictor).__name__}.predict returned shape {labels.shape} for a slice of shape "
                f"{scribbles.shape}; a predictor must return one label per pixel"
            )
        return labels.astype(np.int32), None

    def _record(
        self,
        index: int,
        proba: np.ndarray | None,
        scribbled: np.ndarray,
        labels: np.ndarray,
        prev: np.ndarray | None,
        band: np.ndarray | None = None,
        distance_mm: float = 0.0,
    ) -> tuple[float, float]:
        """Store slice ``index``'s expected error (and uncertainty map); return (error, confidence).

        With probabilities, confidence is their mean maximum over ``band`` minus the scribbled pixels
        (1 without a band); without, 1 - :func:`shape_change` against ``prev``. A slice propagated
        ``distance_mm`` from its source adds the drift term (:data:`DRIFT_RATE`).
        """
        if proba is not None:
            # a predictor that fails on a flat slice (a random walker divides by the image's spread)
            # returns NaN: treat those pixels as fully uncertain rather than poison the ranking
            proba = np.nan_to_num(proba, nan=1.0 / max(len(proba), 1))
            error = expected_error(proba, self.pixel_area, ignore=scribbled)
            self._maps[index] = np.round(uncertainty_map(proba) * 255).astype(np.uint8)
            confidence = 1.0
            if band is not None and np.any(band & ~scribbled):
                confidence = float(full_proba(proba).max(axis=0)[band & ~scribbled].mean())
        else:
            change = 0.0 if prev is None else shape_change(labels, prev, self.background)
            area = np.count_nonzero(self._object_mask(labels)) * self.pixel_area
            error = change * area
            confidence = 1.0 - change
        if distance_mm > 0:
            error += DRIFT_RATE * distance_mm * self._boundary_mm(labels)
        self._scores[index] = error
        return error, confidence

    def _boundary_mm(self, labels: np.ndarray) -> float:
        """Length in mm of the objects' outline on a slice (boundary pixels x the mean pixel size)."""
        objects = self._object_mask(labels)
        inner = ndi.binary_erosion(objects, border_value=1)
        return float(np.count_nonzero(objects & ~inner)) * float(np.sqrt(self.pixel_area))

    def _band(self, prev: np.ndarray, width_mm: float) -> np.ndarray:
        """Pixels within ``width_mm`` of ``prev``'s objects, inside included: where a boundary can move."""
        objects = self._object_mask(prev)
        if not objects.any():
            return objects
        return ndi.distance_transform_edt(~objects, sampling=self.pixel_spacing) <= width_mm

    def _object_mask(self, labels: np.ndarray) -> np.ndarray:
        mask = labels > 0
        if self.background is not None:
            mask &= labels != self.background
        return mask

    def _object_classes(self, labels: np.ndarray) -> list[int]:
        return [int(k) for k in np.unique(labels) if k > 0 and k != self.background]

    def _ring_label(self, classes: list[int]) -> int:
        if self.background is not None:
            return self.background
        return max(classes) + 1

    def _margins(self) -> tuple[float, float]:
        s = self.settings
        pixel = max(self.pixel_spacing)
        margin = s.margin_mm if s.margin_mm is not None else max(2 * pixel, self.step_mm)
        width = s.ring_width_mm if s.ring_width_mm is not None else 2 * pixel
        return margin, width

    def _blocked(self, index: int, source: int) -> str | None:
        """Why propagation from ``source`` may not write slice ``index`` (None if it may)."""
        if index in self._locked:
            return "locked"
        if index in self._scribbles:
            return "scribbled"
        owner = self._owner.get(index)
        if owner not in (None, source) and owner in self._scribbles and abs(index - owner) < abs(index - source):
            return "owned"
        return None

    def _restore(self, index: int, score: float | None, uncertainty: np.ndarray | None) -> None:
        """Put back slice ``index``'s score and map as they were before a prediction that was not kept."""
        for store, value in ((self._scores, score), (self._maps, uncertainty)):
            if value is None:
                store.pop(index, None)
            else:
                store[index] = value

    def _clear_owned(self, index: int, d: int, source: int) -> None:
        """Erase the stale results that an earlier propagation from ``source`` left from ``index`` on.

        Their scores and maps go too, except ``index``'s own: the caller has just scored that slice.
        """
        first = index
        while 0 <= index < self.n_slices and self._owner.get(index) == source and self._blocked(index, source) is None:
            self._label_slices[index] = 0
            del self._owner[index]
            if index != first:
                self._scores.pop(index, None)
                self._maps.pop(index, None)
            index += d

    def _reach(self, source: int, d: int) -> int:
        """Slices propagation from ``source`` in direction ``d`` could visit before the edge or a block."""
        index, count = source + d, 0
        while 0 <= index < self.n_slices and self._blocked(index, source) is None:
            count += 1
            index += d
        return count

    def _image(self, index: int) -> np.ndarray:
        """The image given to ``set_image`` for slice ``index`` (transformed once, kept for the slices ahead)."""
        if index in self._images:
            self._images.move_to_end(index)
            return self._images[index]
        raw = self._slices[index]
        image = raw if self.transform is None else np.asarray(self.transform(raw))
        self._images[index] = image
        while len(self._images) > self.settings.prefetch + 4:
            self._images.popitem(last=False)
        return image

    def _prefetch(self, index: int, d: int) -> None:
        """Hand the slices ahead to ``predictor.prepare`` so their features are ready (and cached) in time.

        The Session's signature: ``prepare(items, kind=...)`` with ``items`` (key, image) pairs, the keys
        and kind being those ``set_image`` gets, so ``set_image`` then finds the features cached.
        """
        prepare = getattr(self.propagator, "prepare", None)
        if prepare is None or self.settings.prefetch <= 0:
            return
        ahead = [i for i in range(index, index + d * self.settings.prefetch, d) if 0 <= i < self.n_slices]
        ahead = [i for i in ahead if i not in self._prepared]
        if not ahead:
            return
        options = {"kind": self.kind} if self.kind is not None and accepts_keyword(prepare, "kind") else {}
        prepare([((self.key, self.axis, i), self._image(i)) for i in ahead], **options)
        self._prepared.update(ahead)

    def _check_index(self, index: int) -> int:
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise InputError(f"slice index {index!r} is not an integer; pass the slice number, e.g. {int(index) if isinstance(index, float) and index.is_integer() else 0}")
        if not 0 <= index < self.n_slices:
            raise InputError(
                f"slice index {index!r} is outside 0..{self.n_slices - 1} along axis {self.axis}; "
                "pick a slice inside the volume"
            )
        return int(index)
