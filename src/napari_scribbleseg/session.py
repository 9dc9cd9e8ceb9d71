"""The inference Session: image features once per image or slice, a light head per stroke.

The segment-anything predictor pattern: :meth:`Session.set_image` runs the image encoder (or finds its
features in the cache), :meth:`Session.predict` runs only the interaction head for every scribbled
class at once, :meth:`Session.reset_image` forgets the current image.

>>> from napari_scribbleseg.model import build_model
>>> session = Session(build_model("scribbleseg_tiny"))
>>> session.set_image(np.zeros((64, 64), np.uint8))
>>> scribbles = np.zeros((64, 64), np.int32); scribbles[10, 5:20] = 1; scribbles[50, 5:60] = 2
>>> session.predict(scribbles).shape
(64, 64)
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scribbleseg.connected import keep_connected
from napari_scribbleseg.errors import InputError, NotReadyError
from napari_scribbleseg.labelmaps import check_label_map
from napari_scribbleseg.scribbles import MAX_CLASSES, as_label_map

if TYPE_CHECKING:
    import torch

    from napari_scribbleseg.model import ScribbleSegNet

DEFAULT_WEIGHTS = Path(__file__).parent / "weights" / "default.pt"


@dataclass
class _ImageState:
    """What the Session keeps per image or slice: features and the last scribbles seen."""

    shape: tuple[int, int]
    features: dict[str, torch.Tensor]
    superpixels: np.ndarray | None = None
    colour: Any = None  # guidance "colour" and "colour_geodesic": the image's ColourBins
    last_labels: np.ndarray | None = None
    last_current: np.ndarray | None = None
    last_prediction: np.ndarray | None = None  # what predict returned last on this image
    last_prev: np.ndarray | None = None  # the previous mask that call used
    nbytes: int = field(default=0)
    encoder_input: np.ndarray | None = None  # kept only when features are not recycled
    guide: Any = None  # (H, W) float16 grey image: the edges the logits are refined along (model/edges.py)


def select_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` if available, else ``"mps"``, else ``"cpu"``; other names pass through."""
    import torch

    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def default_cpu_threads() -> int | None:
    """Torch CPU threads for an interactive Session: one core fewer than the machine has (at least 1).

    Returns None when ``OMP_NUM_THREADS`` is set, so a user's explicit choice stands.
    """
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    return max(1, (os.cpu_count() or 1) - 1)


class Session:
    """Interactive multi-class segmentation of one image or slice at a time with a cached-feature model.

    Parameters
    ----------
    model : ScribbleSegNet or path
        A built model or a checkpoint file (:func:`napari_scribbleseg.model.load_checkpoint`).
    device : str
        ``"auto"`` (CUDA, then MPS, then CPU), or a torch device name.
    half : bool, optional
        Run in float16; default: on GPUs (CUDA, MPS) yes, on the CPU no.
    cache_size : int
        Images/slices whose features are kept (least recently used dropped first).
    zoom_in : bool
        From the second interaction on (a non-empty ``prev``), run the head on a crop around each
        class's previous mask and strokes, expanded ``config.zoom_expand`` times (000).
    connected : bool
        ``predict`` keeps only the parts of each class that touch one of its strokes; the rest become
        0 (:func:`napari_scribbleseg.connected.keep_connected`). Painting one object then never lights up a
        look-alike elsewhere. Set ``False`` when a class means "every such thing" (all cells of a type).
        ``predict_proba`` is not affected.
    recycle : bool
        Keep image features between interactions (004). ``False`` re-runs the encoder on every
        ``predict``: the "whole network per interaction" reference of the latency benchmark.
    num_threads : int, "auto" or None
        Torch's intra-op CPU threads (process-wide: ``torch.set_num_threads``). ``"auto"`` (default) on
        a CPU device uses one core fewer than the machine has (at least 1), unless ``OMP_NUM_THREADS``
        is set: torch's OpenMP threads spin-wait for each other, so when one of them shares its core
        with another busy thread (napari drawing, a second process) every call slows down many times
        (measured: 16 ms -> 760 ms per interaction on 2 cores with one other busy process). ``None``
        leaves torch's setting alone.
    max_batch : int
        Classes per head batch: up to this many scribbled classes run as one batch over the shared
        features; more run in several, and ``predict`` keeps a running arg-max, so memory stays
        bounded even with 255 classes.
    head_size : int, optional
        Side of the head's input, overriding the model's ``config.head_size`` (a multiple of 8). The
        head is fully convolutional, so any size runs the same weights: smaller is faster (224 costs
        about 30% less than 256), at some loss of detail when it departs from the trained size.

    refine_edges : bool
        Upsample the head's logits along the image's own edges (a fast guided filter:
        :mod:`napari_scribbleseg.model.edges`) instead of bilinearly. The head works at ``head_size``
        pixels, so without it a 640-pixel photo's boundaries are those of a 192-pixel map. Default on; it can be
        switched at any time (attribute of the same name).

    Notes
    -----
    Memory: the cache holds at most ``cache_size`` entries of :attr:`feature_bytes_per_image`. For the
    default model on a 512x512 slice that is (64 x 32 x 32 + 16 x 128 x 128 + 3 x 512 x 512) x 4 bytes
    = 4.25 MiB of features (float32 on the CPU; half that on a GPU), plus the image's colour bins
    (guidance "colour", 1 MiB) and its float16 grey guide for ``refine_edges`` (0.5 MiB): 5.75 MiB, so a
    512x512x300 CT browsed end to end holds at most ``cache_size`` x 5.75 MiB = 368 MiB with the default 64,
    whatever the number of slices (all 300 would take 1.7 GiB); a slice evicted and visited again is
    recomputed. Images larger than ``encoder_max_side`` (512) are shrunk before the encoder, so their
    features cost no more than a 512x512 one's; the colour bins and the guide are full size (6 bytes a
    pixel). Superpixel guidance adds the (H, W) int32 superpixel map per entry.

    Threads: every public method holds one lock, so a Session can serve a GUI thread and worker
    threads. Between two calls another thread may set another image or predict on this one: a thread
    that shares the Session passes the key ``set_image`` returned and the stroke it drew,
    ``predict(s, prev, image=key, current=stroke)``, and then gets what it would get alone. Which result
    is still wanted is the caller's decision (the controller, :mod:`napari_scribbleseg.interactive`, drops
    stale ones by request order), not the Session's.
    """

    def __init__(
        self,
        model: ScribbleSegNet | str | os.PathLike,
        device: str = "auto",
        half: bool | None = None,
        cache_size: int = 64,
        zoom_in: bool = True,
        connected: bool = True,
        recycle: bool = True,
        num_threads: int | str | None = "auto",
        head_size: int | None = None,
        max_batch: int = 16,
        refine_edges: bool = True,
    ):
        import copy

        import torch

        from napari_scribbleseg.model import load_checkpoint
        from napari_scribbleseg.model.network import fuse_batchnorm

        self.device = torch.device(select_device(device))
        threads = default_cpu_threads() if num_threads == "auto" and self.device.type == "cpu" else num_threads
        if isinstance(threads, int):
            torch.set_num_threads(threads)
        if isinstance(model, torch.nn.Module):
            model = copy.deepcopy(model)  # the caller's model (maybe in training) stays untouched
        else:
            model = load_checkpoint(model, map_location="cpu")
        fuse_batchnorm(model.eval())
        self.half = self.device.type in ("cuda", "mps") if half is None else bool(half)
        self.dtype = torch.float16 if self.half else torch.float32
        self.model = model.to(self.device, self.dtype).eval()
        self.config = model.config
        if cache_size < 1:
            raise InputError(f"cache_size is {cache_size}; keep at least 1 image's features")
        self.cache_size = int(cache_size)
        self.zoom_in = zoom_in
        self.connected = bool(connected)
        self.refine_edges = bool(refine_edges)
        self.recycle = recycle
        self.max_batch = max(1, int(max_batch))
        self.head_size = int(head_size or self.config.head_size)
        if self.head_size % 8 or self.head_size < 32:
            raise InputError(f"head_size {self.head_size} must be a multiple of 8 and at least 32")
        self.encoder_calls = 0
        self._cache: OrderedDict[Hashable, _ImageState] = OrderedDict()
        self._key: Hashable | None = None
        self._lock = threading.RLock()
        self._id_lock = threading.Lock()

    # ------------------------------------------------------------------ images
    @property
    def is_image_set(self) -> bool:
        return self._key is not None

    @property
    def image_shape(self) -> tuple[int, int] | None:
        """(H, W) of the current image, or None."""
        return None if self._key is None else self._cache[self._key].shape

    @property
    def feature_bytes_per_image(self) -> int:
        """Bytes the cached features of the current image take (0 when none is set)."""
        return 0 if self._key is None else self._cache[self._key].nbytes

    @property
    def cache_bytes(self) -> int:
        """Bytes held by all cached features."""
        return sum(s.nbytes for s in self._cache.values())

    def set_image(
        self,
        image: np.ndarray,
        kind: str = "auto",
        key: Hashable | None = None,
        window: Any = None,
        intensity: tuple[float, float] | None = None,
    ) -> Hashable:
        """Make ``image`` the current image, computing its features unless they are cached.

        Parameters
        ----------
        image : (H, W) or (H, W, 3) array
            Grey, RGB, a CT slice in HU or an MR slice; any real dtype.
        kind : {"auto", "rgb", "gray", "ct", "mr"}
            Intensity convention (:func:`napari_scribbleseg.imaging.to_rgb_float`).
        key : hashable, optional
            Cache key, e.g. ``(volume_key, axis, index)`` for a slice, so returning to a slice costs
            nothing; default: a content hash of ``image``.
        window : str or (level, width), optional
            CT window for ``kind="ct"``.
        intensity : (low, high), optional
            An explicit intensity range (e.g. the napari layer's contrast limits) instead of the rule
            of ``kind`` (:func:`napari_scribbleseg.imaging.to_rgb_float`).

        Returns
        -------
        The image's cache key: pass it as ``predict(..., image=key)`` when other threads may set other
        images on this Session meanwhile.

        Raises :class:`InputError` for images over :data:`napari_scribbleseg.imaging.MAX_IMAGE_PIXELS`.
        """
        with self._lock:
            cache_key = self._cache_key(image, kind, key, window, intensity)
            if cache_key not in self._cache:
                self._store(cache_key, self._compute(image, kind, window, intensity))
            self._cache.move_to_end(cache_key)
            self._key = cache_key
            return cache_key

    def prepare(
        self,
        items: Iterable[tuple[Hashable, np.ndarray]] | Iterable[np.ndarray],
        kind: str = "auto",
        window: Any = None,
        progress: Callable[[int, int], None] | None = None,
        keys: Iterable[Hashable] | None = None,
        intensity: tuple[float, float] | None = None,
    ) -> int:
        """Precompute features of images ahead of use (e.g. neighbouring slices); return how many were computed.

        Parameters
        ----------
        items : iterable
            ``(key, image)`` pairs, or plain images when ``keys`` is given.
        kind, window, intensity :
            As in :meth:`set_image`.
        progress : callable, optional
            ``progress(done, total)`` after each image.
        keys : iterable of hashable, optional
            Cache keys of ``items`` when those are plain images (``prepare(images, keys=...)``).

        The current image does not change. The lock is taken per image, so a ``predict`` from another
        thread waits for one image at most. Stops early once the cache would evict entries it just made.
        """
        pairs = list(zip(keys, items)) if keys is not None else list(items)
        computed = 0
        for done, (key, image) in enumerate(pairs, 1):
            if done > self.cache_size - 1:
                break
            with self._lock:
                cache_key = self._cache_key(image, kind, key, window, intensity)
                if cache_key not in self._cache:
                    self._store(cache_key, self._compute(image, kind, window, intensity))
                    computed += 1
            if progress is not None:
                progress(done, len(pairs))
        return computed

    def is_cached(self, key: Hashable, kind: str = "auto", window: Any = None, intensity: Any = None) -> bool:
        """Whether features for ``key`` (as given to ``set_image``/``prepare``) are cached."""
        return (key, kind, _hashable(window), _hashable(intensity)) in self._cache

    def reset_image(self) -> None:
        """Forget the current image (its features stay cached); ``predict`` raises until ``set_image``."""
        with self._lock:
            self._key = None

    def clear_cache(self) -> None:
        """Drop every cached feature and the current image."""
        with self._lock:
            self._cache.clear()
            self._key = None

    # ------------------------------------------------------------------ prediction
    def predict(
        self,
        scribbles: np.ndarray,
        prev: np.ndarray | None | str = "last",
        extreme_points: dict[int, np.ndarray] | None = None,
        *,
        current: np.ndarray | None = None,
        image: Hashable | None = None,
    ) -> np.ndarray:
        """Segment the current image from multi-class scribbles.

        Parameters
        ----------
        scribbles : (H, W) int array or Scribbles
            0 = none, k >= 1 = class k (at most 255 classes).
        prev : (H, W) int array, None or "last"
            The previous label map (the last prediction); enables zoom-in. ``"last"`` (default): what
            ``predict`` returned last on this image, when these scribbles continue the ones it was
            given (every stroke pixel of that call still has its class), else none, so a script gets what
            the widget and ``evaluate`` get without passing it. ``None``: start afresh.
        extreme_points : dict {class: (N, 2) (row, col)}, optional
            Extreme points per class (models with ``guidance="extreme"``; 002).
        current : (H, W) bool array, optional
            The stroke just drawn (the model's "current stroke" input, 004). Default: the scribbled
            pixels that changed since the previous ``predict`` on this image, which holds for one caller
            drawing one stroke per call; a caller that predicts mid-stroke, or several threads sharing
            one image, should pass it.
        image : hashable, optional
            The key :meth:`set_image` returned: segment that image even if another thread has set a
            different one since. Default: the current image.

        Returns
        -------
        (H, W) int32 labels: each pixel the class whose logit wins against the others; with one class
        scribbled, 0 where the background logit 0 beats it. Scribbled pixels keep their class; all 0
        without scribbles. With ``connected`` (default), a class's parts that touch none of its strokes
        go to the competing class that borders them (0 with one class).
        """
        with self._lock:
            labels, classes, chunks = self._logits(scribbles, prev, extreme_points, current, image)
            if not classes:
                return np.zeros(labels.shape, np.int32)
            from napari_scribbleseg.model.interaction import decide_labels

            out = decide_labels(chunks, classes, labels)
            if self.connected:
                out = keep_connected(out, labels, classes)
            self._cache[self._key if image is None else image].last_prediction = out.copy()
            return out

    def predict_proba(
        self,
        scribbles: np.ndarray,
        prev: np.ndarray | None | str = "last",
        extreme_points: dict[int, np.ndarray] | None = None,
        *,
        current: np.ndarray | None = None,
        image: Hashable | None = None,
    ) -> np.ndarray:
        """(K, H, W) float32 probabilities of the scribbled classes (ascending), as :meth:`predict` sees them.

        Softmax over the K class logits and the background logit 0; the background's share is
        ``1 - sum``. Scribbled pixels are certain of their class. Without scribbles: (0, H, W).
        Holds K x H x W float32 logits at once (``predict`` does not).
        """
        with self._lock:
            labels, classes, chunks = self._logits(scribbles, prev, extreme_points, current, image)
            if not classes:
                return np.zeros((0, *labels.shape), np.float32)
            import torch

            logits = torch.cat([c for _, c in chunks], 0)
            full = torch.cat([torch.zeros_like(logits[:1]), logits], 0)
            proba = torch.softmax(full, 0)[1:].cpu().numpy()
            scribbled = labels > 0
            proba[:, scribbled] = (labels[scribbled][None] == np.asarray(classes)[:, None]).astype(np.float32)
            # these scribbles have no label map of predict's to continue from
            self._cache[self._key if image is None else image].last_prediction = None
            return proba

    def _logits(self, scribbles, prev, extreme_points, current=None, image=None):
        """Validate inputs; return (labels, classes, iterator of (first class index, (k, H, W) float32 logits)).

        Classes go through the head ``max_batch`` at a time (all at once up to that many).
        """
        from napari_scribbleseg.model.guidance import extreme_point_disks

        if image is not None:
            if image not in self._cache:
                raise NotReadyError(
                    "the features of that image left the cache (or it was never set); call set_image(image) "
                    "again and pass the key it returns"
                )
            state = self._cache[image]
        elif self._key is None:
            raise NotReadyError("no image is set; call set_image(image) before predict")
        else:
            state = self._cache[self._key]
        h, w = state.shape
        labels = as_label_map(scribbles, (h, w))
        counts = np.bincount(labels.ravel(), minlength=MAX_CLASSES + 1)
        present = {int(c) for c in np.flatnonzero(counts[1:]) + 1}
        if extreme_points:
            if self.config.guidance != "extreme":
                raise InputError(
                    f"extreme_points need a model with guidance='extreme'; this one uses {self.config.guidance!r}"
                )
            present |= {int(k) for k in extreme_points}
        classes = sorted(present)
        if not classes:
            return labels, [], iter(())
        if isinstance(prev, str):
            if prev != "last":
                raise InputError(f"prev is {prev!r}; pass the last (H, W) label map, None, or 'last'")
            prev_labels = _continued(state, labels)
        else:
            prev_labels = None if prev is None else _check_prev(prev, (h, w))
        state.last_prev = prev_labels
        if not self.recycle:
            state.features = self._encode(state.encoder_input)
        current = self._current_stroke(state, labels, current)
        disks = None
        if extreme_points:
            disks = {k: extreme_point_disks(extreme_points[k], (h, w)) for k in classes if k in extreme_points}
        starts = range(0, len(classes), self.max_batch)
        chunks = (
            (i, self._head_logits(state, labels, classes[i : i + self.max_batch], current, prev_labels, disks, extreme_points))
            for i in starts
        )
        return labels, classes, chunks

    def _head_logits(self, state, labels, classes, current, prev_labels, disks, extreme_points):
        """(k, H, W) float32 image-space logits of ``classes`` (one head batch), through the one
        interaction path training also takes (:mod:`napari_scribbleseg.model.interaction`)."""
        import torch

        from napari_scribbleseg.model.interaction import head_inputs, paste_logits

        inputs = head_inputs(
            self.config, labels, classes, current, prev_labels, self.head_size, zoom_in=self.zoom_in,
            superpixels=state.superpixels, extreme_points=extreme_points, extreme_disks=disks, colour=state.colour,
            guide=state.guide,
        )
        with torch.inference_mode():
            guidance = inputs.guidance.to(self.device, self.dtype)
            refined = self.model.head(state.features, guidance, inputs.crop)["refined"]
            prev = None if inputs.prev is None else inputs.prev.to(self.device)
            return paste_logits(refined, inputs.crop, prev, guide=state.guide if self.refine_edges else None)[:, 0]

    def _current_stroke(self, state: _ImageState, labels: np.ndarray, given: np.ndarray | None) -> np.ndarray:
        """The caller's ``given`` stroke, else the pixels painted since the last predict on this image
        (004's current guidance; the same call again gives the same answer)."""
        if given is not None:
            given = np.asarray(given)
            if given.shape != labels.shape:
                raise InputError(
                    f"current has shape {given.shape} but the image is {labels.shape}; pass the (H, W) mask of the "
                    "stroke just drawn"
                )
            current = given.astype(bool) & (labels > 0)
            state.last_labels, state.last_current = labels.astype(np.uint8), current
            return current
        last = state.last_labels
        if last is not None and last.shape == labels.shape and np.array_equal(last, labels):
            return state.last_current
        if last is None or last.shape != labels.shape:
            current = labels > 0
        else:
            current = (labels != last) & (labels > 0)
        state.last_labels = labels.astype(np.uint8)
        state.last_current = current
        return current

    # ------------------------------------------------------------------ features
    def _cache_key(self, image: np.ndarray, kind: str, key: Hashable | None, window: Any, intensity: Any) -> Hashable:
        from napari_scribbleseg.imaging import check_size, image_key

        check_size(np.shape(image)[:2])  # before hashing or converting: the limit is what bounds memory
        if key is None:
            key = image_key(np.asarray(image))
        return (key, kind, _hashable(window), _hashable(intensity))

    def _compute(self, image: np.ndarray, kind: str, window: Any, intensity: Any) -> _ImageState:
        import cv2

        from napari_scribbleseg.imaging import to_rgb_float
        from napari_scribbleseg.model.edges import grey_guide
        from napari_scribbleseg.model.guidance import COLOUR_KINDS, colour_bins, slic_superpixels

        rgb = to_rgb_float(image, kind=kind, window=window, intensity=intensity)
        h, w = rgb.shape[:2]
        eh, ew = self.config.encoder_input_shape(h, w)
        interp = cv2.INTER_AREA if eh * ew < h * w else cv2.INTER_LINEAR
        small = cv2.resize(rgb, (ew, eh), interpolation=interp) if (eh, ew) != (h, w) else rgb
        features = self._encode(small)
        superpixels = slic_superpixels(rgb) if self.config.guidance == "superpixel" else None
        colour = colour_bins(rgb) if self.config.guidance in COLOUR_KINDS else None
        guide = grey_guide(rgb).to(self.device)  # on the device once, not per interaction
        nbytes = sum(t.numel() * t.element_size() for t in features.values()) + guide.numel() * guide.element_size()
        nbytes += sum(0 if cue is None else cue.nbytes for cue in (superpixels, colour))
        return _ImageState(
            (h, w), features, superpixels, colour, nbytes=nbytes, encoder_input=None if self.recycle else small, guide=guide
        )

    def _encode(self, small: np.ndarray) -> dict[str, torch.Tensor]:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(small.transpose(2, 0, 1)))[None].to(self.device, self.dtype)
        with torch.inference_mode():
            features = self.model.encode(x)
        self.encoder_calls += 1
        return features

    def _store(self, key: Hashable, state: _ImageState) -> None:
        self._cache[key] = state
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            # never evict the image being segmented nor the one just stored
            victims = [k for k in self._cache if k != self._key and k != key]
            if not victims:
                break
            del self._cache[victims[0]]


def _hashable(value: Any) -> Hashable:
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _continued(state: _ImageState, labels: np.ndarray) -> np.ndarray | None:
    """The image's last prediction when ``labels`` add strokes to the scribbles it was made from; the
    previous mask of that call when they are the same (the same call again gives the same answer); else None."""
    last = state.last_labels
    if last is None or last.shape != labels.shape:
        return None
    if np.array_equal(labels, last):
        return state.last_prev
    drawn = last > 0
    return state.last_prediction if np.array_equal(labels[drawn], last[drawn]) else None


def _check_prev(prev: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return check_label_map(prev, "prev", ndim=None, shape=shape, whole_floats=False)


def default_session(**options: Any) -> Session:
    """A :class:`Session` on the model shipped in ``napari_scribbleseg/weights/default.pt``.

    ``options`` go to :class:`Session` (``device``, ``cache_size``, ...).
    """
    if not DEFAULT_WEIGHTS.is_file():
        raise FileNotFoundError(
            f"the default model {DEFAULT_WEIGHTS} is missing: the napari-scribbleseg install is incomplete; "
            "reinstall the package (pip install --force-reinstall napari-scribbleseg) or pass your own "
            "checkpoint: Session('model.pt')"
        )
    return Session(DEFAULT_WEIGHTS, **options)
