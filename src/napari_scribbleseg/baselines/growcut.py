"""Competitive region growing from seeds in the spirit of 3D Slicer's "Grow from seeds".

Slicer's effect runs an improved GrowCut: every seed label grows through the image, and a pixel goes to
the label whose path to it has the smallest accumulated intensity difference. That is a shortest-path
(geodesic) competition on the pixel graph, solved here exactly with one multi-source Dijkstra per class
(:func:`scipy.sparse.csgraph.dijkstra`) on a graph built once per image.
"""

from __future__ import annotations

import cv2
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from napari_scribbleseg.baselines.common import ClassicalPredictor
from napari_scribbleseg.pixelgraph import grid_graph


def pixel_graph(image: np.ndarray, length_weight: float = 1e-3) -> sp.csr_matrix:
    """Undirected 8-connected pixel graph of an (H, W, C) float image (:func:`napari_scribbleseg.pixelgraph.grid_graph`).

    The weight of the edge p-q is ``(|I(p) - I(q)| + length_weight) * |p - q|``: the colour difference
    (Euclidean over channels) that Slicer's grow-from-seeds accumulates, plus a small length term so that
    flat regions still have a distance and ties go to the nearer seed.
    """
    return grid_graph(image.shape[:2], lambda src, dst: np.linalg.norm(image[src] - image[dst], axis=-1) + length_weight)


class GrowCut(ClassicalPredictor):
    """Geodesic seed competition ("Grow from seeds"): each pixel joins the class with the shortest path.

    Parameters
    ----------
    smoothing : float
        Gaussian sigma (pixels) applied to the image before building the graph, so noise does not wall
        off regions. 0 turns it off.
    temperature : float
        Softness of :meth:`predict_proba`: scores are ``softmax(-distance / (temperature * scale))`` with
        ``scale`` the median distance; the winner (shortest path) does not depend on it.
    max_side : int or None
        Longer side of the working image (None: full size).

    Notes
    -----
    The graph (about 4 * H * W edges) is built once in ``set_image``; ``predict`` costs one multi-source
    Dijkstra (about 0.05 s for a 321x481 photo), ``predict_proba`` one per class. The previous mask is
    not used.
    """

    name = "growcut"

    def __init__(self, smoothing: float = 1.0, temperature: float = 0.1, max_side: int | None = 400) -> None:
        super().__init__(max_side=max_side)
        self.smoothing = smoothing
        self.temperature = temperature
        self._graph: sp.csr_matrix | None = None

    def _prepare(self, image: np.ndarray) -> None:
        if self.smoothing > 0:
            image = cv2.GaussianBlur(image, (0, 0), self.smoothing)
        self._graph = pixel_graph(image.reshape(*image.shape[:2], -1))

    def _scores(self, seeds: np.ndarray, prev: np.ndarray | None) -> np.ndarray:
        flat = seeds.ravel()
        n = int(flat.max())
        dist = np.stack(
            [dijkstra(self._graph, directed=True, indices=np.flatnonzero(flat == k), min_only=True) for k in range(1, n + 1)]
        ).reshape(n, *seeds.shape)
        # pixels no seed can reach (none in a connected image graph) get a finite, losing distance
        finite = dist[np.isfinite(dist)]
        dist[~np.isfinite(dist)] = finite.max() + 1.0 if finite.size else 1.0
        scale = max(float(np.median(dist)), 1e-6) * self.temperature
        logits = -(dist - dist.min(axis=0, keepdims=True)) / scale
        scores = np.exp(logits)
        return (scores / scores.sum(axis=0, keepdims=True)).astype(np.float32)

    def _decision(self, seeds: np.ndarray, prev: np.ndarray | None) -> np.ndarray:
        # one Dijkstra from every seed at once: ``sources`` names the seed that reached each pixel first,
        # which is all predict needs (the per-class distances of _scores cost one run per class)
        flat = seeds.ravel()
        starts = np.flatnonzero(flat)
        _, _, sources = dijkstra(self._graph, directed=True, indices=starts, min_only=True, return_predecessors=True)
        winner = np.where(sources >= 0, flat[np.maximum(sources, 0)], 0).reshape(seeds.shape)
        return np.stack([winner == k for k in range(1, int(flat.max()) + 1)]).astype(np.float32)
