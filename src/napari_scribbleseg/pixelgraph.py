"""The 8-connected pixel graph that GrowCut's seed competition and the model's geodesic cue both run Dijkstra on.

One builder for both: :func:`grid_graph` lays out the edges, the caller says what each edge weighs.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.sparse as sp

# the four forward offsets of the 8-neighbourhood; the graph is undirected
OFFSETS = ((0, 1), (1, 0), (1, 1), (1, -1))

EdgeWeight = Callable[[tuple[slice, slice], tuple[slice, slice]], np.ndarray]


def grid_graph(shape: tuple[int, int], edge_weight: EdgeWeight) -> sp.csr_matrix:
    """Undirected 8-connected graph of an (H, W) grid as a symmetric (H*W, H*W) sparse matrix.

    ``edge_weight(src, dst)`` gets two same-shaped (row, column) slices of the grid, each pixel of ``src``
    paired with its neighbour at one offset in ``dst``, and returns the weight per unit length of those
    edges (> 0); the edge p-q weighs that times ``|p - q|`` (1 or sqrt 2). Pixels are numbered row-major.

    Both directions of every edge are stored, so Dijkstra runs with ``directed=True`` on it (the same
    distances as ``directed=False``, without scipy symmetrising the graph on every call). The graph is
    banded (pixel p's neighbours are p +- 1, p +- W, p +- W +- 1), so it is built as diagonals; the
    entries that would wrap around the grid's side are 0 and dropped (every real edge weighs > 0).
    """
    h, w = shape
    n = h * w
    bands, offsets = [], []
    for dy, dx in OFFSETS:
        src = (slice(0, h - dy), slice(max(0, -dx), w - max(0, dx)))
        dst = (slice(dy, h), slice(max(0, dx), w + min(0, dx)))
        weight = np.zeros((h, w))  # weight[p]: the edge from pixel p to p + offset
        weight[src] = edge_weight(src, dst) * np.hypot(dy, dx)
        offset = dy * w + dx
        # a diagonal's value at column j is entry (j - offset, j): p -> p + offset sits at column p + offset
        upper = np.zeros(n)
        upper[offset:] = weight.ravel()[: n - offset]
        bands += [upper, weight.ravel()]
        offsets += [offset, -offset]
    return sp.dia_matrix((np.stack(bands), offsets), shape=(n, n)).tocsr()
