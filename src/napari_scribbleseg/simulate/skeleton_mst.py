"""001's scribble simulator: skeleton + tiles -> sampled points -> MST (x3 cost outside) -> B-splines.

001 Sec. 2.3, per connected component of the label:

1. distance field and the (dilated) skeleton of the component (thinned at <= 128 px resolution: it
   only shapes the sampling density);
2. a grid of tiles over the component's box, visited in random order; a tile whose distance-field sum
   exceeds a share of the total gets one point, drawn with density distance x dilated skeleton; pixels
   within half a tile of the point are removed and the distance field updated, so points keep apart;
3. the points are joined by a minimum spanning tree whose edge cost is the Euclidean length, with the
   part outside the label counted three times;
4. in 20 % of the graphs 1, 2 or 3 edges (probabilities 1/2, 1/3, 1/6) between points of valence >= 2
   are removed;
5. the longest path (in edges, breadth-first) is drawn as a B-spline and its edges removed, until no
   edge is left. Strokes are 5 px wide (001: radius 2) and clipped to the label here.
"""

from __future__ import annotations

import itertools
import warnings

import networkx as nx
import numpy as np
from scipy import interpolate, ndimage

from napari_scribbleseg.simulate import geometry
from napari_scribbleseg.simulate._strokes import (
    Width,
    draw_width,
    sample_pixels,
    stroke_along,
)
from napari_scribbleseg.simulate._validate import generator, region_mask


def _coarse_skeleton(crop: np.ndarray, max_side: int) -> np.ndarray:
    """Skeleton of ``crop`` (h, w) bool, found on a block-downsampled copy when it is larger than ``max_side``
    (it only shapes the sampling density, and thinning a whole-image background is slow)."""
    from skimage.morphology import skeletonize

    factor = int(np.ceil(max(crop.shape) / max_side))
    if factor <= 1:
        return skeletonize(crop)
    h, w = crop.shape
    padded = np.zeros((-(-h // factor) * factor, -(-w // factor) * factor), bool)
    padded[:h, :w] = crop
    small = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor).mean(axis=(1, 3)) >= 0.5
    big = np.kron(skeletonize(small), np.ones((factor, factor), bool))[:h, :w]
    return big & crop


def _tile_points(
    component: np.ndarray, rng: np.random.Generator, tiles: int, share: float, skeleton_side: int = 128
) -> np.ndarray:
    """Step 2: (P, 2) float64 (row, col) points, at most one per tile, spaced by clearing around each."""
    box = geometry.bounding_box(component)
    crop = component[box]
    h, w = crop.shape
    skeleton = ndimage.binary_dilation(_coarse_skeleton(crop, skeleton_side), structure=geometry.EIGHT)
    dist = geometry.inner_distance(crop)
    total = float(dist.sum())
    rows = np.linspace(0, h, min(tiles, h) + 1).astype(int)
    cols = np.linspace(0, w, min(tiles, w) + 1).astype(int)
    cells = [(i, j) for i in range(len(rows) - 1) for j in range(len(cols) - 1)]
    clear = max(2.0, 0.5 * max(h / (len(rows) - 1), w / (len(cols) - 1)))
    points = []
    for k in rng.permutation(len(cells)):
        i, j = cells[int(k)]
        tile = (slice(rows[i], rows[i + 1]), slice(cols[j], cols[j + 1]))
        if dist[tile].sum() <= share * total:
            continue
        density = dist[tile] * skeleton[tile]
        if not density.any():
            density = dist[tile]
        point = sample_pixels(density > 0, rng, 1, weights=density)[0] + [rows[i], cols[j]]
        points.append(point)
        # clearing a disk makes it background: the new distance field is the smaller of the old one
        # and the distance to the disk (exact for Euclidean distances, no recomputation)
        rr = np.arange(h)[:, None] - point[0]
        cc = np.arange(w)[None, :] - point[1]
        dist = np.minimum(dist, np.maximum(np.sqrt(rr**2 + cc**2) - clear, 0.0)).astype(np.float32)
    if not points:
        points.append(np.array(geometry.interior_point(component[box]), np.float64))
    return np.array(points) + [box[0].start, box[1].start]


def _edge_cost(a: np.ndarray, b: np.ndarray, label: np.ndarray, outside_factor: float) -> float:
    """Step 3: Euclidean length of segment a-b with the part outside ``label`` counted ``outside_factor`` times."""
    length = float(np.hypot(*(b - a)))
    n = max(2, int(np.ceil(length)) + 1)
    t = np.linspace(0.0, 1.0, n)[:, None]
    samples = np.rint(a + t * (b - a)).astype(int)
    outside = 1.0 - label[samples[:, 0], samples[:, 1]].mean()
    return length * (1.0 + (outside_factor - 1.0) * outside)


def _spanning_tree(points: np.ndarray, label: np.ndarray, outside_factor: float) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(len(points)))
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            graph.add_edge(i, j, weight=_edge_cost(points[i], points[j], label, outside_factor))
    return nx.minimum_spanning_tree(graph, algorithm="kruskal")


def _remove_edges(tree: nx.Graph, rng: np.random.Generator) -> None:
    """Step 4: remove 1, 2 or 3 edges (p = 1/2, 1/3, 1/6) joining points that both have valence >= 2."""
    n_remove = int(rng.choice([1, 2, 3], p=[1 / 2, 1 / 3, 1 / 6]))
    for _ in range(n_remove):
        removable = sorted((min(u, v), max(u, v)) for u, v in tree.edges if tree.degree[u] >= 2 and tree.degree[v] >= 2)
        if not removable:
            return
        tree.remove_edge(*removable[int(rng.integers(len(removable)))])


def _longest_path(forest: nx.Graph) -> list[int]:
    """Step 5: the path with most edges in the forest (two breadth-first sweeps per tree)."""
    best: list[int] = []
    for component in sorted(min(c) for c in nx.connected_components(forest)):
        lengths = nx.single_source_shortest_path_length(forest, component)
        far = min(n for n, d in lengths.items() if d == max(lengths.values()))
        paths = nx.single_source_shortest_path(forest, far)
        end = min(n for n, p in paths.items() if len(p) == max(len(q) for q in paths.values()))
        if len(paths[end]) > len(best):
            best = paths[end]
    return best


def _spline(points: np.ndarray) -> np.ndarray:
    """A B-spline through (N, 2) points (degree up to 3, light smoothing), sampled about 2 per pixel."""
    if len(points) < 3:
        return geometry.resample_polyline(points, 0.5)
    k = min(3, len(points) - 1)
    with warnings.catch_warnings():
        # FITPACK warns when it cannot meet the smoothing target exactly; the spline it returns is fine
        warnings.simplefilter("ignore", RuntimeWarning)
        tck, _ = interpolate.splprep([points[:, 0], points[:, 1]], k=k, s=float(len(points)))
    length = float(np.hypot(*np.diff(points, axis=0).T).sum())
    u = np.linspace(0.0, 1.0, max(2, int(2 * length)))
    return np.stack(interpolate.splev(u, tck), axis=1)


def skeleton_mst_scribble(
    mask: np.ndarray,
    rng: np.random.Generator | int,
    width: Width = 5,
    tiles: int = 4,
    share: float = 0.02,
    outside_factor: float = 3.0,
    augment: float = 0.2,
    min_size: int = 10,
) -> np.ndarray:
    """001's simulator on every connected component of ``mask`` (H, W) bool (module docstring).

    Parameters
    ----------
    width : int or (lo, hi)
        Stroke width in px (001 draws within radius 2: 5 px).
    tiles : int
        Tiles per side of each component's box.
    share : float
        A tile gets a point when its distance-field sum exceeds this share of the component's.
    outside_factor : float
        Cost multiplier of the part of an edge outside the label (001: 3).
    augment : float
        Share of graphs that lose 1-3 edges (001: 20 %).
    min_size : int
        Components smaller than this many pixels get no stroke (specks of an error map), unless
        every component is that small: then the largest gets one.

    Returns
    -------
    (H, W) bool strokes inside ``mask``, at least a dot in each component drawn.
    """
    rng = generator(rng)
    mask = region_mask(mask)
    w = draw_width(width, rng)
    labels, sizes = geometry.labelled_components(mask)
    out = np.zeros(mask.shape, bool)
    chosen = np.flatnonzero(sizes >= min_size) + 1
    if chosen.size == 0:
        chosen = np.array([int(np.argmax(sizes)) + 1])
    for k in chosen:
        component = labels == k
        points = _tile_points(component, rng, tiles, share)
        forest = _spanning_tree(points, component, outside_factor)
        if rng.random() < augment:
            _remove_edges(forest, rng)
        drawn = False
        while forest.number_of_edges():
            path = _longest_path(forest)
            out |= stroke_along(_spline(points[path]), w, component)
            forest.remove_edges_from(itertools.pairwise(path))
            drawn = True
        if not drawn or not (out & component).any():
            out |= stroke_along(points[:1], w, component)
            row, col = geometry.interior_point(component)
            out[row, col] = True
    return out
