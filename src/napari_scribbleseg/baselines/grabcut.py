"""OpenCV GrabCut (Rother et al. 2004) behind the predictor protocol, extended to several classes."""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from napari_scribbleseg.baselines.common import ClassicalPredictor

_N_COMPONENTS = 5  # OpenCV's GMMs: 5 components, model row = 5 weights, 5x3 means, 5x3x3 covariances


def gmm_density(model: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """Density of (N, 3) colours (0..255) under an OpenCV GrabCut GMM (the (1, 65) model array)."""
    model = np.asarray(model, np.float64).ravel()
    weights = model[:_N_COMPONENTS]
    means = model[_N_COMPONENTS : 4 * _N_COMPONENTS].reshape(_N_COMPONENTS, 3)
    covs = model[4 * _N_COMPONENTS :].reshape(_N_COMPONENTS, 3, 3)
    density = np.zeros(len(pixels))
    for weight, mean, cov in zip(weights, means, covs):
        if weight <= 0:
            continue
        cov = cov + np.eye(3) * 1e-3  # OpenCV adds the same regulariser to singular covariances
        d = pixels - mean
        m = np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)
        density += weight * np.exp(-0.5 * m) / np.sqrt((2 * np.pi) ** 3 * np.linalg.det(cov))
    return density


class GrabCut(ClassicalPredictor):
    """GrabCut from scribbles: colour GMMs + graph cut, iterated, one binary problem per class.

    Multi-class rule: with two classes (a binary task, or one class and the implicit background) one GrabCut
    separates them. With K > 2 classes, class k is run against the rest (its strokes definite foreground,
    every other class's strokes definite background); a pixel then goes to the class with the highest score
    ``foreground(k) + posterior(k)``, where ``foreground`` is GrabCut's 0/1 decision for that class and
    ``posterior`` the foreground share of its two colour GMMs. So a pixel claimed by one GrabCut goes to that
    class, and pixels claimed by several or none are settled by colour.

    Initialisation of the unscribbled pixels (probable foreground / background): the previous labels where
    given, else the class of the nearest stroke (Euclidean).

    Parameters
    ----------
    iterations : int
        GrabCut iterations per call (GMM re-estimation + graph cut).
    max_side : int or None
        Longer side of the working image (None: full size).

    References
    ----------
    C. Rother, V. Kolmogorov, A. Blake, "GrabCut: interactive foreground extraction using iterated graph
    cuts", ACM TOG 23(3), 2004.
    """

    name = "grabcut"

    def __init__(self, iterations: int = 3, max_side: int | None = 256) -> None:
        super().__init__(max_side=max_side)
        self.iterations = iterations
        self._bytes: np.ndarray | None = None

    def _prepare(self, image: np.ndarray) -> None:
        self._bytes = np.ascontiguousarray(np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8))

    def _scores(self, seeds: np.ndarray, prev: np.ndarray | None) -> np.ndarray:
        n = int(seeds.max())
        init = self._initial_labels(seeds, prev)
        if n == 2:
            score = self._score_one(seeds, init, 1)
            return np.stack([score, 2.0 - score]) / 2.0
        scores = np.stack([self._score_one(seeds, init, k) for k in range(1, n + 1)])
        return scores / np.maximum(scores.sum(axis=0, keepdims=True), 1e-12)

    def _initial_labels(self, seeds: np.ndarray, prev: np.ndarray | None) -> np.ndarray:
        if prev is not None and np.any(prev > 0):
            init = prev.copy()
            unset = init == 0
        else:
            init = np.zeros_like(seeds)
            unset = np.ones(seeds.shape, bool)
        if unset.any():
            # nearest stroke's class for what the previous labels leave open
            _, (rows, cols) = ndimage.distance_transform_edt(seeds == 0, return_indices=True)
            init[unset] = seeds[rows, cols][unset]
        return np.where(seeds > 0, seeds, init)

    def _score_one(self, seeds: np.ndarray, init: np.ndarray, k: int) -> np.ndarray:
        """(h, w) float score in [0, 2] of class k against the rest: 0/1 decision + colour posterior."""
        mask = np.where(init == k, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
        mask[seeds > 0] = cv2.GC_BGD
        mask[seeds == k] = cv2.GC_FGD
        bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
        if min(np.count_nonzero(mask % 2 == 1), np.count_nonzero(mask % 2 == 0)) < _N_COMPONENTS:
            # too few pixels on one side for the GMMs (OpenCV asserts): the nearest-stroke split decides
            return (mask % 2 == 1).astype(np.float32) * 2.0
        mask, bgd, fgd = cv2.grabCut(self._bytes, mask, None, bgd, fgd, self.iterations, cv2.GC_INIT_WITH_MASK)
        pixels = self._bytes.reshape(-1, 3).astype(np.float64)
        p_fg, p_bg = gmm_density(fgd, pixels), gmm_density(bgd, pixels)
        posterior = (p_fg / np.maximum(p_fg + p_bg, 1e-300)).reshape(seeds.shape)
        foreground = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
        return (foreground + posterior).astype(np.float32)
