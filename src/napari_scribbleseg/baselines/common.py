"""What the classical baselines share: input checks, the implicit background of a one-class task,
resampling for speed, and the competition that turns per-class scores into one label per pixel.

A baseline subclasses :class:`ClassicalPredictor` and implements ``_scores(seeds, prev)``: given an
(h, w) seed map with classes renumbered 1..K and the previous labels renumbered the same way, return
(K, h, w) float32 scores that sum to 1 over classes at each pixel. Everything else (validation, the
one-class rule, scribbled pixels keeping their class, mapping back to the user's class numbers) lives here.
"""

from __future__ import annotations

import cv2
import numpy as np

from napari_scribbleseg.errors import NotReadyError
from napari_scribbleseg.imaging import check_size, to_rgb_float, working_shape
from napari_scribbleseg.scribbles import as_label_map, implicit_background


def resize_image(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W, C) float image resized to ``shape`` with area averaging (anti-aliased)."""
    if image.shape[:2] == tuple(shape):
        return image
    return cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def resize_seeds(seeds: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) int seed map resized to ``shape`` so that thin strokes survive.

    A low-resolution pixel takes a class if any of its source pixels has it (per-class area > 0); a pixel
    claimed by two classes stays unlabeled, unless that would remove a class altogether, so every class
    keeps at least one seed.
    """
    if seeds.shape == tuple(shape):
        return seeds
    out = np.zeros(shape, np.int32)
    claimed = np.zeros(shape, np.int32)
    for k in np.unique(seeds[seeds > 0]):
        area = cv2.resize((seeds == k).astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        mask = area > 0
        out[mask] = k
        claimed += mask
    out[claimed > 1] = 0
    for k in np.unique(seeds[seeds > 0]):
        if not (out == k).any():
            # every pixel of k was shared with another class: keep k at its pixels' scaled positions
            rows, cols = np.nonzero(seeds == k)
            out[rows * shape[0] // seeds.shape[0], cols * shape[1] // seeds.shape[1]] = k
    return out


def resize_scores(scores: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(K, h, w) scores resized bilinearly to (K, *shape) and renormalised over classes."""
    if scores.shape[1:] == tuple(shape):
        return scores
    up = np.stack([cv2.resize(s, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR) for s in scores])
    return up / np.maximum(up.sum(axis=0, keepdims=True), 1e-12)


class ClassicalPredictor:
    """Base of the classical baselines: the predictor protocol around a per-class score function.

    Parameters
    ----------
    max_side : int or None
        Images whose longer side exceeds this are processed at reduced size; the scores are upsampled
        bilinearly to full size and scribbled pixels are then set to their class. None: full size.
    """

    name = "classical"

    def __init__(self, max_side: int | None = None) -> None:
        self.max_side = max_side
        self._image: np.ndarray | None = None
        self._work: np.ndarray | None = None

    # -- protocol -----------------------------------------------------------------------------------------
    def set_image(self, image: np.ndarray, intensity: tuple[float, float] | None = None) -> None:
        """Normalise ``image`` ((H, W) grey or (H, W, 3) RGB, any real dtype) and precompute what it needs.

        ``intensity=(low, high)`` sets the intensity range instead of the automatic rule
        (:func:`napari_scribbleseg.imaging.to_rgb_float`). Images over
        :data:`napari_scribbleseg.imaging.MAX_IMAGE_PIXELS` are refused (:class:`InputError`).
        """
        check_size(np.shape(image)[:2])
        rgb = to_rgb_float(image, intensity=intensity)
        self._image = rgb
        self._work = resize_image(rgb, working_shape(rgb.shape[:2], self.max_side))
        self._prepare(self._work)

    def reset_image(self) -> None:
        """Forget the image; ``predict`` raises until the next ``set_image``."""
        self._image = None
        self._work = None

    def predict(self, scribbles: np.ndarray, prev: np.ndarray | None = None) -> np.ndarray:
        """(H, W) int32 labels: each pixel the class with the highest score, scribbled pixels their class.

        ``scribbles`` is an (H, W) int map (0 none, k >= 1 class k); ``prev`` the previous (H, W) labels or
        None. With one class scribbled, pixels won by the implicit background (:func:`implicit_background`)
        are 0; with none scribbled, all pixels are 0.
        """
        classes, scores, labels = self._solve(scribbles, prev, decide_only=True)
        if not classes:
            return np.zeros(labels.shape, np.int32)
        lookup = np.array([*classes, 0][: scores.shape[0]], np.int32)
        out = lookup[np.argmax(scores, axis=0)]
        scribbled = labels > 0
        out[scribbled] = labels[scribbled]
        return out

    def predict_proba(self, scribbles: np.ndarray, prev: np.ndarray | None = None) -> np.ndarray:
        """(K, H, W) float32 scores of the scribbled classes, ascending (see :meth:`predict`).

        With one class scribbled, K = 1 and 1 - scores[0] is the implicit background's share.
        """
        classes, scores, labels = self._solve(scribbles, prev)
        return scores[: len(classes)]

    # -- for subclasses -----------------------------------------------------------------------------------
    def _prepare(self, image: np.ndarray) -> None:
        """Precompute per-image state from the (h, w, 3) float32 working image."""

    def _scores(self, seeds: np.ndarray, prev: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def _decision(self, seeds: np.ndarray, prev: np.ndarray | None) -> np.ndarray:
        """Scores good enough for ``predict`` (only their argmax matters); a subclass with a cheaper way
        to find the winning class than full scores overrides this (e.g. one-hot of the winner)."""
        return self._scores(seeds, prev)

    # -- shared -------------------------------------------------------------------------------------------
    def _solve(
        self, scribbles: np.ndarray, prev: np.ndarray | None, decide_only: bool = False
    ) -> tuple[list[int], np.ndarray, np.ndarray]:
        if self._image is None or self._work is None:
            raise NotReadyError(f"{type(self).__name__}.predict called before set_image; call set_image(image) first")
        shape = self._image.shape[:2]
        labels = as_label_map(scribbles, shape)
        classes = [int(c) for c in np.unique(labels) if c > 0]
        if not classes:
            return [], np.zeros((0, *shape), np.float32), labels
        # renumber to 1..K; a lone class gets the implicit background as class 2
        lookup = np.zeros(int(labels.max()) + 1, np.int32)
        lookup[classes] = np.arange(1, len(classes) + 1)
        seeds = lookup[labels]
        if len(classes) == 1:
            seeds[implicit_background(labels > 0)] = 2
        n = int(seeds.max())
        if n == 1:  # one class and no room for an implicit background: everything is that class
            return classes, np.ones((1, *shape), np.float32), labels
        if np.all(seeds > 0):
            scores = np.stack([seeds == k for k in range(1, n + 1)]).astype(np.float32)
            return classes, scores, labels
        prev_seeds = None
        if prev is not None:
            prev = as_label_map(prev, shape)
            prev_lookup = np.zeros(max(int(prev.max()), int(labels.max())) + 1, np.int32)
            prev_lookup[classes] = np.arange(1, len(classes) + 1)
            prev_seeds = prev_lookup[prev]
        work_shape = self._work.shape[:2]
        small_seeds = resize_seeds(seeds, work_shape)
        small_prev = None
        if prev_seeds is not None:
            small_prev = cv2.resize(prev_seeds, (work_shape[1], work_shape[0]), interpolation=cv2.INTER_NEAREST)
        scores = (self._decision if decide_only else self._scores)(small_seeds, small_prev)
        scores = resize_scores(scores.astype(np.float32), shape)
        scribbled = seeds > 0
        scores[:, scribbled] = 0.0
        for k in range(1, n + 1):
            scores[k - 1][seeds == k] = 1.0
        return classes, scores, labels
