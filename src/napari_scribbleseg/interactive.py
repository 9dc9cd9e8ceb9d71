"""The interactive segmentation loop, without any GUI: which slice, when to predict, stale requests, accept.

The napari widget owns one :class:`InteractiveSegmenter` and only moves arrays between it and the layers;
everything a user would notice (which strokes are undone, which predictions are thrown away, which labels an
accept may overwrite) is decided here, so it is tested without a display.

Axis order: a 2-D image is (H, W) grey or (H, W, 3) RGB; a volume is (Z, Y, X) (any axis can be the slicing
axis). A *slice key* is ``()`` for a 2-D image and ``(axis, index)`` for a slice of a volume.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.imaging import check_image as imaging_check_image
from napari_scribbleseg.predictor import Predictor, accepts_keyword, available_predictors, get_predictor, takes_current
from napari_scribbleseg.scribbles import Scribbles, as_label_map
from napari_scribbleseg.slicing import slice_key

SliceKey = tuple


def check_image(image: np.ndarray, rgb: bool = False) -> np.ndarray:
    """Return ``image`` if it can be segmented, else raise :class:`InputError` naming the fix.

    Accepts (H, W) grey, (H, W, 3) RGB (``rgb=True``, as napari's layer says) and (Z, Y, X) volumes of real
    numbers: :func:`napari_scribbleseg.imaging.check_image`, the one image check, with ``volume=not rgb``.
    """
    image = np.asarray(image)
    if rgb and (image.ndim != 3 or image.shape[-1] != 3):
        raise InputError(
            f"the image is marked RGB but has shape {image.shape}; use an (H, W, 3) RGB image (drop alpha) or "
            "split the channels into separate layers and pick one"
        )
    return imaging_check_image(image, "image", volume=not rgb)


@dataclass(frozen=True)
class Request:
    """A snapshot of what to predict: taken on the GUI thread, run on a worker, delivered back.

    ``serial`` orders requests (a later one wins); ``stamp`` is the state of the request's slice when it
    was taken (its edits, its strokes' version, the predictor): a result is stale once that has moved.
    ``current`` is the stroke being drawn or last drawn, passed to predictors that take it.
    """

    serial: int
    stamp: tuple[int, int, int]
    key: SliceKey
    scribbles: np.ndarray
    prev: np.ndarray | None
    current: np.ndarray | None = None


@dataclass(frozen=True)
class Result:
    """A prediction for one request; ``labels`` (H, W) int32, latencies in milliseconds."""

    serial: int
    stamp: tuple[int, int, int]
    key: SliceKey
    labels: np.ndarray
    t_image_ms: float
    t_predict_ms: float


def merge_owned(
    committed: np.ndarray, written: np.ndarray, labels: np.ndarray, background: Iterable[int] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Write ``labels`` into ``committed`` without overwriting labels that were not written by us.

    Parameters
    ----------
    committed : (...) int array
        The committed labels (e.g. a slice of the user's label layer).
    written : (...) int array
        The label an earlier accept wrote at each pixel, 0 where it wrote nothing. A pixel is ours to
        replace only while ``committed`` still holds that value there: one the user has since painted
        over by hand is theirs.
    labels : (...) int array
        The prediction to accept; 0 and the ``background`` classes are not written.
    background : iterable of int
        Classes that mean "no object" (the background class of a binary task).

    Returns
    -------
    committed, written : new arrays (``written`` int32)
        Pixels that are free (0) or ours take the prediction; ours that the prediction no longer claims
        become 0 again; every other label (including hand edits of pixels we wrote) is kept as it was.
    """
    committed = np.array(committed, copy=True)
    written = np.asarray(written)
    if written.dtype == bool:
        raise TypeError("merge_owned takes the label values written (int), not a bool mask")
    owned = (written != 0) & (committed == written)
    written = np.where(owned, written, 0).astype(np.int32)
    claim = labels > 0
    for b in background:
        claim &= labels != b
    writable = (committed == 0) | owned
    released = owned & ~claim
    committed[released] = 0
    written[released] = 0
    take = writable & claim
    committed[take] = labels[take]
    written[take] = labels[take]
    return committed, written


def make_predictor(name: str, device: str = "auto", connected: bool = True, checkpoint: str | None = None) -> Predictor:
    """The predictor the widget's model box names: the shipped model (or ``checkpoint``) as a Session on
    ``device``, or a classical peer; ``connected`` keeps each class to the parts touching its strokes
    (:mod:`napari_scribbleseg.connected`)."""
    if name != "default":
        from napari_scribbleseg.connected import ConnectedPredictor

        peer = get_predictor(name)
        return ConnectedPredictor(peer) if connected else peer
    if checkpoint:
        from napari_scribbleseg.session import Session

        return Session(checkpoint, device=device, connected=connected)
    return get_predictor(name, device=device, connected=connected)


def make_predictor_or_peer(
    name: str, device: str = "auto", connected: bool = True, checkpoint: str | None = None
) -> tuple[Predictor, str, str | None]:
    """:func:`make_predictor`, or a classical peer when the model cannot be had (its weights or torch are
    missing): (predictor, the name used, a warning saying so or None). A checkpoint the user chose is
    never replaced: its failure raises :class:`InputError`."""
    try:
        return make_predictor(name, device, connected, checkpoint), name, None
    except (ImportError, FileNotFoundError) as exc:
        fallback = next((n for n in ("growcut", "random_walker") if n in available_predictors() and n != name), None)
        if fallback is None or checkpoint:
            raise InputError(f"the model {name!r} is not available ({exc}); pick another model") from exc
        warning = f"the model {name!r} is not available ({exc}); using {fallback!r} instead"
        return make_predictor(fallback, device, connected), fallback, warning


class CommitLedger:
    """What accepts wrote into each committed label volume, so a later accept replaces only its own pixels.

    A target is named by a token the caller keeps with the committed layer (the widget stores one in the
    layer's metadata), never by ``id(layer)``: Python reuses the id of a freed object, and a new layer would
    inherit the old one's record. The ledger outlives a restart on the same committed layer.
    """

    def __init__(self) -> None:
        self._written: dict[str, np.ndarray] = {}

    def merge(
        self, target: str, shape: tuple[int, ...], key: SliceKey, committed: np.ndarray, labels: np.ndarray,
        background: Iterable[int] = (),
    ) -> np.ndarray:
        """``committed`` (slice ``key`` of the target, whose full shape is ``shape``) with ``labels`` merged in
        by :func:`merge_owned`; records what was written."""
        written = self._written.get(target)
        if written is None or written.shape != tuple(shape):
            written = self._written[target] = np.zeros(tuple(shape), np.int32)
        index = slice_key(key)
        merged, written[index] = merge_owned(committed, written[index], labels, background)
        return merged

    def forget(self, target: str) -> None:
        """Drop the record of ``target`` (its layer is gone)."""
        self._written.pop(target, None)


class InteractiveSegmenter:
    """One image (or volume) being segmented interactively with one predictor.

    Parameters
    ----------
    predictor : Predictor
        Anything with ``set_image(image)`` and ``predict(scribbles, prev=None)``.
    image : ndarray
        (H, W) grey, (H, W, 3) RGB (``rgb=True``) or (Z, Y, X) volume.
    rgb : bool
        Whether the last axis of ``image`` holds RGB channels.

    Notes
    -----
    Thread safety: :meth:`run` may be called from a worker thread; calls into the predictor are serialised
    by a lock, and :meth:`deliver` (on the GUI thread) drops a result when its slice changed after the
    request was taken (a stroke, undo, redo, clear or propagation of that slice, or a new predictor) or
    when a later request of that slice was delivered first; other slices' edits leave it alone.
    """

    def __init__(
        self,
        predictor: Predictor,
        image: np.ndarray,
        rgb: bool = False,
        kind: str | None = None,
        spacing: tuple[float, float, float] = (1.0, 1.0, 1.0),
        propagator: Predictor | None = None,
    ):
        self.image = check_image(image, rgb)
        self.rgb = rgb
        self.kind = kind
        self.spacing = tuple(float(s) for s in spacing)
        self.predictor = predictor
        # the propagation steps' predictor (VolumeSegmenter(propagator=...)); None: ``predictor`` itself
        self.propagator = propagator
        # after propagating both ways to the end, re-segment in 3-D from every segmented slice (VolumeSegmenter.walk_3d)
        self.walk_3d = False
        self.scribbles: dict[SliceKey, Scribbles] = {}
        self.predictions: dict[SliceKey, np.ndarray] = {}
        self.accepted: set[SliceKey] = set()
        self._accepted_labels: dict[SliceKey, np.ndarray] = {}  # what each accepted slice holds
        self._serial = 0  # requests taken so far
        self._edits: dict[SliceKey, int] = {}  # per slice: edits outside its Scribbles (propagation)
        self._epoch = 0  # predictor changes: every result before one is stale
        self._delivered: dict[SliceKey, int] = {}  # per slice: serial of the result shown
        self._current: dict[SliceKey, tuple[int, int, int]] = {}  # per slice: stamp of that result
        self._lock = threading.Lock()
        self._image_key: SliceKey | None = None
        self._volumes: dict[int, Any] = {}  # axis -> VolumeSegmenter
        self._given: dict[SliceKey, np.ndarray] = {}  # scribbles already handed to a VolumeSegmenter
        self._cleared: set[SliceKey] = set()  # slices cleared since their VolumeSegmenter last saw them
        self._digest: str | None = None

    def set_predictor(self, predictor: Predictor) -> None:
        """Predict with ``predictor`` from now on; strokes, undo history and predictions are kept.

        Results still on their way from the old predictor become stale.
        """
        with self._lock:
            self.predictor = predictor
            self._image_key = None
            self._volumes.clear()
            self._given.clear()
            self._epoch += 1

    def set_propagator(self, propagator: Predictor | None) -> None:
        """Carry results across slices with ``propagator`` (None: the predictor itself); the user's own
        slices keep the predictor. Volume state is rebuilt, as for a new predictor."""
        with self._lock:
            if propagator is self.propagator:
                return
            self.propagator = propagator
            self._volumes.clear()
            self._given.clear()

    # geometry -----------------------------------------------------------------------------------
    @property
    def is_volume(self) -> bool:
        return self.image.ndim == 3 and not self.rgb

    def slice_key(self, axis: int | None = None, index: int | None = None) -> SliceKey:
        """The key of a 2-D image (``()``) or of slice ``index`` along ``axis`` of a volume."""
        if not self.is_volume:
            return ()
        if axis is None or index is None:
            raise InputError("the image is a volume; say which slice (axis, index) to segment")
        axis, index = int(axis), int(index)
        if not 0 <= axis < 3 or not 0 <= index < self.image.shape[axis]:
            raise InputError(f"slice {index} along axis {axis} is outside the volume of shape {self.image.shape}")
        return (axis, index)

    def slice_of(self, array: np.ndarray, key: SliceKey) -> np.ndarray:
        """The 2-D slice ``key`` of a volume-shaped ``array`` (a view), or ``array`` itself for 2-D."""
        if not key:
            return array
        axis, index = key
        return array[slice_key((axis, index))]

    def image_slice(self, key: SliceKey) -> np.ndarray:
        """(H, W) or (H, W, 3) image of slice ``key``."""
        return self.slice_of(self.image, key)

    def slice_shape(self, key: SliceKey) -> tuple[int, int]:
        return tuple(self.image_slice(key).shape[:2])  # type: ignore[return-value]

    def neighbours(self, key: SliceKey, reach: int = 1) -> list[SliceKey]:
        """Keys of the slices within ``reach`` of ``key`` along its axis (nearest first)."""
        if not key:
            return []
        axis, index = key
        out = []
        for d in range(1, reach + 1):
            for i in (index + d, index - d):
                if 0 <= i < self.image.shape[axis]:
                    out.append((axis, i))
        return out

    # strokes ------------------------------------------------------------------------------------
    def scribbles_of(self, key: SliceKey) -> Scribbles:
        """The :class:`Scribbles` of slice ``key`` (created empty on first use)."""
        if key not in self.scribbles:
            self.scribbles[key] = Scribbles(self.slice_shape(key), slice_key=key)
        return self.scribbles[key]

    def record(self, key: SliceKey, painted: np.ndarray) -> bool:
        """Log the difference between the known scribbles of ``key`` and ``painted`` (H, W) as one stroke.

        Returns True when something changed (then a prediction should be requested).
        """
        painted = as_label_map(painted, self.slice_shape(key))
        stroke = self.scribbles_of(key).record_change(self.scribbles_of(key).labels.copy(), painted)
        return stroke is not None

    def erase_classes(self, key: SliceKey, classes: Iterable[int]) -> np.ndarray | None:
        """Erase the strokes of ``classes`` on slice ``key`` as one undoable stroke; returns the scribbles
        to show, or None if there were none (instance mode: an accepted object's strokes go)."""
        painted = self.scribbles_of(key).labels.copy()
        painted[np.isin(painted, list(classes))] = 0
        return self.scribbles[key].labels.copy() if self.record(key, painted) else None

    def undo(self, key: SliceKey) -> np.ndarray | None:
        """Undo the last stroke of ``key``; returns the scribbles to show, or None if nothing to undo."""
        if self.scribbles_of(key).undo() is None:
            return None
        return self.scribbles[key].labels.copy()

    def redo(self, key: SliceKey) -> np.ndarray | None:
        """Redo the last undone stroke of ``key``; returns the scribbles to show, or None."""
        if self.scribbles_of(key).redo() is None:
            return None
        return self.scribbles[key].labels.copy()

    def clear(self, key: SliceKey) -> np.ndarray:
        """Erase the strokes and the prediction of ``key`` (undoable); returns the empty scribbles."""
        self.scribbles_of(key).clear()
        self.predictions.pop(key, None)
        self._cleared.add(key)
        self._edit(key)
        return self.scribbles[key].labels.copy()

    # prediction ---------------------------------------------------------------------------------
    def request(self, key: SliceKey, scribbles: np.ndarray | None = None) -> Request:
        """Snapshot the scribbles of ``key`` (or ``scribbles`` being painted right now) for :meth:`run`.

        The request's current stroke is the whole stroke in progress (what ``scribbles`` adds to the
        recorded strokes) or, without ``scribbles``, the last recorded stroke: a drag with live updates
        gives the model the same input on mouse-up as the same stroke drawn at once.
        """
        known = self.scribbles_of(key)
        if scribbles is None:
            labels, current = known.labels, known.last_stroke()
        else:
            labels = as_label_map(scribbles, self.slice_shape(key))
            current = (labels != known.labels) & (labels > 0)
        self._serial += 1
        return Request(self._serial, self.stamp(key), key, labels.copy(), self.predictions.get(key), current)

    def stamp(self, key: SliceKey) -> tuple[int, int, int]:
        """The state of slice ``key``: (its edits, its strokes' version, the predictor's epoch)."""
        return (self._edits.get(key, 0), self.scribbles_of(key).version, self._epoch)

    def _edit(self, key: SliceKey) -> None:
        """Slice ``key`` changed outside its strokes: results requested before are stale."""
        self._edits[key] = self._edits.get(key, 0) + 1

    def accept(self, key: SliceKey) -> np.ndarray:
        """Lock slice ``key`` with its current prediction: no propagation along any axis changes its voxels.

        Returns the accepted (H, W) labels. Raises :class:`InputError` when the slice has no prediction.
        """
        labels = self.predictions.get(key)
        if labels is None:
            raise InputError("nothing to accept on this slice yet: paint a stroke and wait for the prediction")
        self.accepted.add(key)
        self._accepted_labels[key] = np.array(labels, np.int32, copy=True)
        return self._accepted_labels[key]

    def _keep_accepted(self, key: SliceKey, labels: np.ndarray) -> None:
        """Put back, in place, the voxels of (H, W) ``labels`` of slice ``key`` that accepted slices across
        other axes hold: a slice along one axis crosses each accepted slice of another axis in a line."""
        if not key:
            return
        axis, index = key
        for (other_axis, other_index), accepted in self._accepted_labels.items():
            if other_axis == axis:
                continue
            line_here = other_axis if other_axis < axis else other_axis - 1  # other_axis in this slice
            line_there = axis if axis < other_axis else axis - 1  # axis in the accepted slice
            np.moveaxis(labels, line_here, 0)[other_index] = np.take(accepted, index, axis=line_there)

    def forget_prediction(self, key: SliceKey) -> None:
        """Drop slice ``key``'s prediction, so the next request has no previous mask (a new object)."""
        self.predictions.pop(key, None)
        self._current.pop(key, None)
        self._cleared.add(key)
        self._edit(key)

    def set_prediction(self, key: SliceKey, labels: np.ndarray) -> None:
        """Take (H, W) ``labels`` as slice ``key``'s current prediction, the previous mask the next stroke
        refines (instance mode: a committed object picked for correction)."""
        self.predictions[key] = as_label_map(labels, self.slice_shape(key)).copy()
        self._edit(key)  # results requested before are stale
        self._current[key] = self.stamp(key)

    def is_current(self, key: SliceKey) -> bool:
        """Whether ``predictions[key]`` belongs to the slice's strokes as they are now (Accept needs that)."""
        return key in self.predictions and self._current.get(key) == self.stamp(key)

    def prepare(self, key: SliceKey) -> float:
        """Give the predictor the image of slice ``key`` (features computed or taken from its cache).

        Returns the time it took in milliseconds (0 when it was already the current image).
        """
        with self._lock:
            if self._image_key == key:
                return 0.0
            t0 = time.perf_counter()
            self._set_image(key)
            return (time.perf_counter() - t0) * 1e3

    def _set_image(self, key: SliceKey) -> None:
        """``predictor.set_image`` with ``kind`` and a cache ``key`` where the predictor takes them (lock held)."""
        options: dict[str, Any] = {}
        if self.kind is not None and accepts_keyword(self.predictor.set_image, "kind"):
            options["kind"] = self.kind
        if key and accepts_keyword(self.predictor.set_image, "key"):
            from napari_scribbleseg.volume import volume_key

            self._digest = self._digest or volume_key(self.image)
            options["key"] = (self._digest, *key)
        self.predictor.set_image(self.image_slice(key), **options)
        self._image_key = key

    def run(self, request: Request) -> Result:
        """Predict ``request`` (safe on a worker thread). Empty scribbles give an all-zero map."""
        t_image = self.prepare(request.key)
        t0 = time.perf_counter()
        if not np.any(request.scribbles):
            labels = np.zeros(request.scribbles.shape, np.int32)
        else:
            with self._lock:
                if self._image_key != request.key:  # a prefetch moved the predictor meanwhile
                    self._set_image(request.key)
                options = {"current": request.current} if request.current is not None and takes_current(self.predictor) else {}
                scribbles = self._correction_scribbles(request)
                labels = np.asarray(self.predictor.predict(scribbles, prev=request.prev, **options), np.int32)
        if labels.shape != request.scribbles.shape:
            raise InputError(
                f"the predictor returned shape {labels.shape} for scribbles {request.scribbles.shape}; "
                "it must return one label per pixel: fix the predictor or choose another model"
            )
        return Result(request.serial, request.stamp, request.key, labels, t_image, (time.perf_counter() - t0) * 1e3)

    def _correction_scribbles(self, request: Request) -> np.ndarray:
        """The scribbles to predict ``request`` from (lock held): on a slice propagated to, the user's strokes
        plus a seed of each class it showed (:meth:`VolumeSegmenter.correction_scribbles`), as propagation
        segments it; elsewhere the strokes themselves."""
        if not request.key or request.prev is None:
            return request.scribbles
        volume = self._volumes.get(request.key[0])
        if volume is None:
            return request.scribbles
        self._forget_cleared(volume)
        return volume.correction_scribbles(request.key[1], request.scribbles)

    def _forget_cleared(self, volume: Any) -> None:
        """Hand the slices cleared since to ``volume`` (lock held): they carry nothing from before."""
        for key in [k for k in self._cleared if k[0] == volume.axis]:
            volume.forget(key[1])
            self._given.pop(key, None)
            self._cleared.discard(key)

    def is_stale(self, request: Request | Result) -> bool:
        """Whether its slice changed since ``request`` was taken, or a later request of it was delivered."""
        return request.stamp != self.stamp(request.key) or request.serial < self._delivered.get(request.key, 0)

    def deliver(self, result: Result) -> bool:
        """Keep ``result`` as the prediction of its slice unless it is stale. Returns whether it was kept."""
        if self.is_stale(result):
            return False
        self.predictions[result.key] = result.labels
        self._delivered[result.key] = result.serial
        self._current[result.key] = result.stamp
        return True

    def prefetch(self, keys: Iterable[SliceKey]) -> int:
        """Compute the image features of the slices ``keys`` ahead of time (safe on a worker thread).

        Uses the predictor's ``prepare`` where it has one: the model's Session takes ``(cache key, image)``
        pairs and caches their features, so moving to a prepared slice costs nothing; other predictors
        have nothing to prepare. Returns the number of slices handed over.
        """
        prepare = getattr(self.predictor, "prepare", None)
        keys = [k for k in keys if k]
        if prepare is None or not keys:
            return 0
        from napari_scribbleseg.volume import volume_key

        with self._lock:
            self._digest = self._digest or volume_key(self.image)
        options: dict[str, Any] = {}
        if self.kind is not None and accepts_keyword(prepare, "kind"):
            options["kind"] = self.kind
        # the one signature every prepare has: (cache key, image) pairs, as VolumeSegmenter hands them too
        prepare([((self._digest, *k), self.image_slice(k)) for k in keys], **options)
        return len(keys)

    # volumes ------------------------------------------------------------------------------------
    def volume_segmenter(self, axis: int, background: int | None) -> Any:
        """The :class:`~napari_scribbleseg.volume.VolumeSegmenter` of slices across ``axis`` (made once).
        Called with the controller's lock held."""
        from napari_scribbleseg.volume import VolumeSegmenter, volume_key

        segmenter = self._volumes.get(axis)
        if segmenter is None or segmenter.background != background:
            # one hash per volume: the slices' cache keys and propagation's share it (the caller holds the lock)
            self._digest = self._digest or volume_key(self.image)
            segmenter = VolumeSegmenter(
                self.image, self.predictor, axis=axis, spacing=self.spacing, kind=self.kind,
                background=background, propagator=self.propagator, key=self._digest,
            )
            self._volumes[axis] = segmenter
            self._given = {k: v for k, v in self._given.items() if k[0] != axis}
        return segmenter

    def propagate(
        self,
        key: SliceKey,
        direction: int,
        steps: int | None = None,
        background: int | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        seed: np.ndarray | None = None,
    ) -> dict[SliceKey, np.ndarray]:
        """Carry the segmentation of slice ``key`` to its neighbours with :mod:`napari_scribbleseg.volume`.

        Parameters
        ----------
        key : (axis, index)
            A slice with strokes, or one with a prediction and no strokes (a slice propagated to:
            pressing "next" again and again walks through the volume).
        direction : -1, +1, or 0 for both ways.
        steps : int or None
            Stop after this many slices (None: until the object vanishes, confidence drops, or a slice the
            user scribbled or accepted is reached). With None and :attr:`walk_3d` set, the slices around
            every segmented slice are then re-segmented in 3-D (:meth:`VolumeSegmenter.walk_3d`).
        background : the background class (its ring is labelled with it), or None.
        progress, cancel : ``progress(done, total)`` per slice; ``cancel()`` True stops before the next.
        seed : (H, W) int labels to carry from ``key`` instead of what its strokes give (instance mode:
            the accepted object as class 1 in the background class).

        Returns
        -------
        dict slice key -> (H, W) int32 labels of each slice written. Accepted slices are never written, and
        where a written slice crosses a slice accepted along another axis, it holds the accepted labels.
        """
        if not key:
            raise InputError("propagation needs a 3-D volume; this image is 2-D")
        axis, index = key
        # a slice without strokes carries on what it shows (a slice propagated to): step by step
        shown = None if np.any(self.scribbles_of(key).labels) else self.predictions.get(key)
        if seed is not None:
            shown = as_label_map(seed, self.slice_shape(key))
        if shown is None or not np.any(shown[shown != background] if background is not None else shown):
            if not np.any(self.scribbles_of(key).labels):
                raise InputError(
                    f"slice {index} has no strokes and no segmentation to carry on; paint strokes on it first, "
                    "then propagate"
                )
            shown = None
        written: dict[SliceKey, np.ndarray] = {}
        with self._lock:
            self._image_key = None  # the volume segmenter moves the predictor between slices
            volume = self.volume_segmenter(axis, background)
            self._forget_cleared(volume)
            if shown is not None:
                volume.adopt(index, shown)
            for other in sorted(self.accepted):
                if other[0] == axis and other != key:
                    volume.lock(other[1])
            # a copy: the GUI thread adds slices to self.scribbles while the user browses
            for other, strokes in list(self.scribbles.items()):
                if other[0] != axis or not np.any(strokes.labels):
                    continue
                if other == key and seed is not None:
                    continue  # the seed, not the strokes, is what this slice carries
                if other == key or not np.array_equal(self._given.get(other), strokes.labels):
                    volume.unlock(other[1])
                    volume.segment_slice(other[1], strokes.labels)
                    self._given[other] = strokes.labels.copy()
            steps_iter = volume.iter_propagate(index, "both" if direction == 0 else direction, cancel=cancel)
            for step in steps_iter:
                written[(axis, step.index)] = step.labels.copy()
                if progress is not None:
                    progress(step.done, step.total)
                if steps is not None and len(written) >= steps:
                    steps_iter.close()
                    break
            # from the user's own strokes only: an adopted slice (a propagated one, an instance's seed) seeds no walker
            if self.walk_3d and steps is None and shown is None and not (cancel is not None and cancel()):
                for other in volume.walk_3d():
                    written[(axis, other)] = volume.slice_labels(other)
            for other, labels in written.items():
                self._keep_accepted(other, labels)
                self._keep_accepted(other, volume.slice_labels(other[1]))  # what later propagation starts from
        self.predictions.update(written)
        for other in written:  # results requested before for these slices must not replace these
            self._edit(other)
            self._current[other] = self.stamp(other)
        return written


    def slices_to_check(self, axis: int, n: int = 3) -> list[int]:
        """Up to ``n`` propagated slices across ``axis`` with the largest expected error (where to scribble next)."""
        volume = self._volumes.get(axis)
        return [] if volume is None else list(volume.ranking()[:n])



