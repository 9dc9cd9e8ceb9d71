"""Shape geometry shared by every simulator: components, inner distances, skeleton paths, curves.

All coordinates are (row, col) in pixels, float64, in the frame of the (H, W) mask given. Nothing here
draws random numbers; ties are broken by raster order (row-major flat index), so results are bit-for-bit
reproducible.
"""

from __future__ import annotations

import cv2
import networkx as nx
import numpy as np
from scipy import ndimage

from napari_scribbleseg.simulate.medial import medial_axis

EIGHT = np.ones((3, 3), bool)


def bounding_box(mask: np.ndarray, pad: int = 0) -> tuple[slice, slice]:
    """Row and column slices of the smallest box holding every True pixel of ``mask``, grown by ``pad``."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return (
        slice(max(0, rows[0] - pad), min(h, rows[-1] + 1 + pad)),
        slice(max(0, cols[0] - pad), min(w, cols[-1] + 1 + pad)),
    )


def inner_distance(mask: np.ndarray) -> np.ndarray:
    """(H, W) float32 Euclidean distance of each True pixel to the nearest False pixel or the image border.

    The border counts as a boundary (as in the click protocol), so interior points keep away from it.
    """
    padded = np.pad(mask.astype(np.uint8), 1)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    # OpenCV's exact transform differs between calls on the same input in the last float32 bit, which
    # flips argmax ties (the click position) from run to run; the squared distance is an integer, so
    # rounding it restores the exact value, the same on every call
    return np.sqrt(np.round(dist.astype(np.float64) ** 2)).astype(np.float32)


def labelled_components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """8-connected components of ``mask``: (H, W) int32 labels (1..n, raster order) and their sizes (n,)."""
    labels, n = ndimage.label(mask, structure=EIGHT)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    return labels.astype(np.int32, copy=False), sizes


def largest_component(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: the largest 8-connected component of ``mask`` (the first in raster order on ties)."""
    labels, sizes = labelled_components(mask)
    if sizes.size == 0:
        return np.zeros(mask.shape, bool)
    return labels == int(np.argmax(sizes)) + 1


def interior_point(mask: np.ndarray) -> tuple[int, int]:
    """(row, col) of the interior-most pixel of ``mask``: the distance-transform maximum, first in raster order."""
    box = bounding_box(mask)
    dist = inner_distance(mask[box])
    r, c = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return int(r) + box[0].start, int(c) + box[1].start


def boundary_margin(area: float, width: float, inscribed: float, margin: float | None = None) -> float:
    """How far "protect boundary" erodes a region of ``area`` px whose inscribed radius is ``inscribed``.

    Default ``clip(0.075 * sqrt(area), ceil(width / 2), 16)`` px (the kernel radius the DAVIS scribble
    robot smooths with), never more than half the inscribed radius so that thin regions shrink instead
    of vanishing.
    """
    if margin is None:
        margin = min(16.0, max(np.ceil(width / 2.0), 0.075 * np.sqrt(float(area))))
    return min(float(margin), 0.5 * float(inscribed))


def protected_crop(
    mask: np.ndarray, width: float = 3.0, margin: float | None = None
) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray]:
    """:func:`protected_region` in the bounding box of a non-empty ``mask``.

    Returns the box (row, col slices), the eroded region inside it (bool) and the distance of each of its
    pixels to the eroded region's border (float32, 0 outside), for sampling points away from the edge.
    """
    box = bounding_box(mask)
    dist = inner_distance(mask[box])
    cut = boundary_margin(float(np.count_nonzero(mask)), width, float(dist.max()), margin)
    inside = dist > cut
    return box, inside, np.where(inside, dist - cut, 0.0).astype(np.float32)


def protected_region(mask: np.ndarray, width: float = 3.0, margin: float | None = None) -> np.ndarray:
    """``mask`` (H, W) bool eroded away from its boundary ("protect boundary", 000 Tab. 6).

    Pixels farther than :func:`boundary_margin` from the border (or the image's edge) are kept, so the
    result is never empty for a non-empty mask. Returns (H, W) bool, a subset of ``mask``.
    """
    if not mask.any():
        return mask.copy()
    box, inside, _ = protected_crop(mask, width, margin)
    out = np.zeros(mask.shape, bool)
    out[box] = inside
    return out


def _skeleton_graph(skeleton: np.ndarray) -> tuple[nx.Graph, np.ndarray]:
    """Radius-sqrt(2) neighbour graph of the skeleton pixels; nodes numbered in raster order.

    Returns the graph (edge weight = Euclidean length) and the (N, 2) int (row, col) of each node.
    """
    coords = np.argwhere(skeleton)
    index = np.full(skeleton.shape, -1, np.int64)
    index[coords[:, 0], coords[:, 1]] = np.arange(len(coords))
    padded = np.pad(index, 1, constant_values=-1)
    graph = nx.Graph()
    graph.add_nodes_from(range(len(coords)))
    # the four "forward" neighbours give every edge of the 8-neighbourhood exactly once
    for dr, dc, weight in ((0, 1, 1.0), (1, -1, np.sqrt(2.0)), (1, 0, 1.0), (1, 1, np.sqrt(2.0))):
        other = padded[1 + coords[:, 0] + dr, 1 + coords[:, 1] + dc]
        src = np.flatnonzero(other >= 0)
        graph.add_weighted_edges_from((int(s), int(o), weight) for s, o in zip(src, other[src]))
    return graph, coords


def _farthest(tree: nx.Graph, source: int) -> tuple[int, float, list[int]]:
    """The node farthest from ``source`` along ``tree`` (smallest node id on ties), its distance and path."""
    dist, paths = nx.single_source_dijkstra(tree, source)
    best = max(dist.values())
    node = min(n for n, d in dist.items() if d == best)
    return node, best, paths[node]


def longest_skeleton_path(mask: np.ndarray, max_side: int = 256) -> np.ndarray | None:
    """The longest path along the medial axis of ``mask`` (000 Alg. 1 lines 2-17).

    Medial axis (:func:`~napari_scribbleseg.simulate.medial.medial_axis`, scikit-image's, tie-break seed fixed)
    -> radius-sqrt(2) neighbour graph -> cycles removed per connected component by keeping its minimum
    spanning tree (Kruskal: the longer, diagonal edge of each pixel triangle goes first, as the DAVIS robot
    removes the heaviest edge of each cycle) -> tree diameter by two Dijkstra sweeps -> the longest over the
    components. Masks whose box exceeds ``max_side`` are skeletonised on an integer-factor max-pooled copy
    so the graph stays small.

    Returns
    -------
    (N, 2) float64 (row, col) path in ``mask``'s frame, N >= 2, or None when the skeleton has < 2 pixels.
    """
    if not mask.any():
        return None
    box = bounding_box(mask)
    crop = mask[box]
    factor = int(np.ceil(max(crop.shape) / max_side))
    if factor > 1:
        h, w = (-(-crop.shape[0] // factor)) * factor, (-(-crop.shape[1] // factor)) * factor
        blocks = np.zeros((h, w), bool)
        blocks[: crop.shape[0], : crop.shape[1]] = crop
        # max-pooling: a thin band (a typical correction region) must not vanish when downsampled
        crop = blocks.reshape(h // factor, factor, w // factor, factor).any(axis=(1, 3))
    skeleton = medial_axis(np.pad(crop, 1), rng=0)[1:-1, 1:-1]
    if skeleton.sum() < 2:
        return None
    graph, coords = _skeleton_graph(skeleton)
    forest = nx.minimum_spanning_tree(graph, algorithm="kruskal")
    best_path, best_length = None, -1.0
    for component in sorted(min(c) for c in nx.connected_components(forest)):
        end, _, _ = _farthest(forest, component)
        _, length, path = _farthest(forest, end)
        if len(path) >= 2 and length > best_length:
            best_path, best_length = path, length
    if best_path is None:
        return None
    points = coords[best_path].astype(np.float64)
    if factor > 1:
        points = points * factor + (factor - 1) / 2.0
    return points + np.array([box[0].start, box[1].start], np.float64)


def resample_polyline(points: np.ndarray, spacing: float) -> np.ndarray:
    """Points along the polyline (N, 2) about ``spacing`` apart, keeping both ends; (M, 2) float64."""
    points = np.asarray(points, np.float64)
    if len(points) < 2:
        return points.copy()
    seg = np.hypot(*np.diff(points, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(2, int(np.ceil(arc[-1] / max(spacing, 1e-6))) + 1)
    targets = np.linspace(0.0, arc[-1], n)
    return np.stack([np.interp(targets, arc, points[:, 0]), np.interp(targets, arc, points[:, 1])], axis=1)


def smooth_bezier_path(points: np.ndarray, control_spacing: float = 8.0, samples_per_px: float = 2.0) -> np.ndarray:
    """A smooth curve through ``points`` made of cubic Bezier segments, densely sampled.

    The path is thinned to control points about ``control_spacing`` px apart; each consecutive pair is
    joined by a cubic Bezier whose inner control points follow Catmull-Rom tangents, so the curve passes
    through every control point. (A single Bezier of degree N, as in the DAVIS robot, bends towards the
    points' centroid on long paths and cuts across U-shaped regions.)

    Returns
    -------
    (M, 2) float64 (row, col), about ``samples_per_px`` samples per pixel of length.
    """
    control = resample_polyline(points, control_spacing)
    if len(control) < 2:
        return control
    padded = np.concatenate([control[:1], control, control[-1:]])
    p0, p1, p2, p3 = padded[:-3], padded[1:-2], padded[2:-1], padded[3:]
    c1 = p1 + (p2 - p0) / 6.0
    c2 = p2 - (p3 - p1) / 6.0
    length = float(np.hypot(*np.diff(control, axis=0).T).sum())
    per_segment = max(2, int(np.ceil(samples_per_px * length / len(p1))))
    t = np.linspace(0.0, 1.0, per_segment, endpoint=False)[None, :, None]
    curve = (
        (1 - t) ** 3 * p1[:, None] + 3 * (1 - t) ** 2 * t * c1[:, None] + 3 * (1 - t) * t**2 * c2[:, None] + t**3 * p2[:, None]
    ).reshape(-1, 2)
    return np.concatenate([curve, control[-1:]])


def bezier_curve(control: np.ndarray, n: int | None = None) -> np.ndarray:
    """A single Bezier curve with the (K, 2) ``control`` points (Bernstein form), sampled at ``n`` points.

    ``n`` defaults to about two samples per pixel of the control polygon's length. Returns (n, 2) float64.
    """
    from scipy.special import comb

    control = np.asarray(control, np.float64)
    k = len(control) - 1
    if n is None:
        n = max(2, int(2 * np.hypot(*np.diff(control, axis=0).T).sum()) + 2)
    t = np.linspace(0.0, 1.0, n)[:, None]
    i = np.arange(k + 1)[None, :]
    basis = comb(k, i) * t**i * (1 - t) ** (k - i)
    return basis @ control


def disk_mask(center: tuple[float, float], radius: float, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool disk of ``radius`` px around ``center`` (row, col): pixels with distance <= radius."""
    rr = np.arange(shape[0])[:, None] - center[0]
    cc = np.arange(shape[1])[None, :] - center[1]
    return rr**2 + cc**2 <= radius**2


def path_length(path: np.ndarray | None) -> float:
    """Length in pixels of an (N, 2) polyline; 0 for None or a single point."""
    if path is None or len(path) < 2:
        return 0.0
    return float(np.hypot(*np.diff(path, axis=0).T).sum())
