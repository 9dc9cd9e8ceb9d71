"""Guidance maps: how strokes, the previous mask and optional cues become the head's input channels.

One implementation for training and inference. The kinds, chosen by ``ModelConfig.guidance``:

- ``"binary"`` (default): binary stroke maps;
- ``"superpixel"`` (003): adds SLIC superpixel maps: for every superpixel, the distance from its
  centroid to the nearest centroid of a superpixel touched by the class's positive (negative)
  strokes, and the superpixel-aligned box around the positive strokes;
- ``"extreme"`` (002): adds a channel of 6-px disks at the extreme points of each object; their box
  is the first crop (:func:`napari_scribbleseg.model.crop.zoom_extents`);
- ``"colour"``: adds each class's colour likelihood on this image (issue 15's image-specific cue):
  P(class | colour) from histograms of the class's strokes against every other class's strokes (the
  whole image while no other class is scribbled), :func:`colour_likelihood`. The network learns when to
  trust it; applied blindly, such a model hurts where colour does not separate the objects.
- ``"colour_geodesic"``: the colour channel and two more, the geodesic closeness of each class's strokes
  and of every other class's strokes over the image's grey gradients in the class's zoom box
  (:func:`geodesic_crops`; issue 15's other image-specific cue, GrowCut's geodesic competition as an
  input the network learns to weigh).
- ``"colour_frame"``: the colour channel and one more, each class's colour likelihood against the colours of
  the implicit background frame (:func:`napari_scribbleseg.scribbles.implicit_background`, the image border
  outside the strokes' enlarged box: the background OpenCV GrabCut starts from) instead of the other classes'
  strokes; on a first stroke with one class it is the only negative evidence there is. The network learns
  when the border is background.

Every kind keeps the current stroke apart from the history (004): ``pos``/``neg`` hold the strokes of
earlier interactions, ``pos_cur``/``neg_cur`` those added by this interaction.

Channel layout (see :func:`guidance_layout`): ``pos_cur, neg_cur, prev, pos, neg`` then the kind's
extra channels, so the current branch reads channels 0-2 and the history branch channels 2 onwards
(both plain slices). Stroke channels are rasterised into the crop by coverage, so thin strokes
survive shrinking; dense ones are sampled bilinearly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from napari_scribbleseg.scribbles import implicit_background

if TYPE_CHECKING:
    import torch

    from napari_scribbleseg.model.crop import CropTransform

GUIDANCE_KINDS = ("binary", "superpixel", "extreme", "colour", "colour_geodesic", "colour_frame")
#: the kinds that read the image's colour bins (:func:`colour_bins`, once per image)
COLOUR_KINDS = ("colour", "colour_geodesic", "colour_frame")
SUPERPIXEL_CHANNELS = ("sp_pos", "sp_neg", "sp_box")
SUPERPIXEL_CLIP = 255.0  # pixels; 003 clips centroid distances at 255
EXTREME_DIAMETER = 6
#: the geodesic maps are solved on this many cells per side of each zoom box, then resized to the head's input
GEODESIC_CELLS = 64
#: a cell's cost is 1 + GEODESIC_BETA * the grey gradient there (grey in [0, 1] per cell): an edge of contrast
#: 0.25 costs as much as crossing ~10 flat cells
GEODESIC_BETA = 40.0
#: closeness = exp(-geodesic distance / GEODESIC_TAU), distance in cells
GEODESIC_TAU = 16.0


def guidance_layout(kind: str) -> tuple[str, ...]:
    """Names of the guidance channels of ``kind``, in order (see the module docstring)."""
    base = ("pos_cur", "neg_cur", "prev", "pos", "neg")
    if kind == "binary":
        return base
    if kind == "extreme":
        return (*base, "extreme")
    if kind == "superpixel":
        return (*base, *SUPERPIXEL_CHANNELS)
    if kind == "colour":
        return (*base, "colour")
    if kind == "colour_geodesic":
        return (*base, "colour", "geo_pos", "geo_neg")
    if kind == "colour_frame":
        return (*base, "colour", "colour_frame")
    raise ValueError(f"unknown guidance {kind!r}; choose one of {GUIDANCE_KINDS}")


def guidance_crops(
    labels: np.ndarray,
    classes: list[int],
    crop: CropTransform,
    size: int | tuple[int, int],
    current: np.ndarray | None = None,
    prev: np.ndarray | torch.Tensor | None = None,
    kind: str = "binary",
    superpixels: np.ndarray | None = None,
    extreme: dict[int, np.ndarray] | None = None,
    colour: ColourBins | None = None,
    guide: torch.Tensor | None = None,
) -> torch.Tensor:
    """The head's guidance input for K classes, in crop space: (K, G, h, w) float32 torch tensor.

    The one implementation behind the Session and training.

    Parameters
    ----------
    labels : (H, W) int
        Scribbles: 0 none, k >= 1 class k. Class k's positives are its strokes, its negatives the
        strokes of every other class.
    classes : list of int
        The K classes to build guidance for (one crop each).
    crop : CropTransform
        K boxes (:class:`napari_scribbleseg.model.crop.CropTransform`).
    size : int or (h, w)
        Output size (the head's input size).
    current : (H, W) bool, optional
        Pixels painted by this interaction (004); they go to ``pos_cur``/``neg_cur`` and leave the
        history channels. None: all strokes are history.
    prev : (K, H, W) bool/float array or tensor, optional
        Previous mask (or probability) per class; None: zeros.
    kind : str
        One of :data:`GUIDANCE_KINDS`.
    superpixels : (H, W) int, optional
        For ``kind="superpixel"`` (:func:`slic_superpixels`).
    extreme : dict {class: (N, 2) (row, col)}, optional
        Extreme points per class for ``kind="extreme"``, drawn as 6-px disks.
    colour : ColourBins, optional
        For ``kind="colour"`` and ``"colour_geodesic"`` (:func:`colour_bins` of the image, once per image).
    guide : (H, W) tensor, optional
        For ``kind="colour_geodesic"``: the image's grey values in [0, 1]
        (:func:`napari_scribbleseg.model.edges.grey_guide`, once per image).

    Returns
    -------
    (K, G, h, w) float32 tensor (on ``prev``'s device when it is a tensor), layout :func:`guidance_layout`.
    Stroke channels are rasterised by coverage (:meth:`CropTransform.rasterize`); dense ones are
    sampled bilinearly (:meth:`CropTransform.to_crop`).
    """
    import torch

    if kind not in GUIDANCE_KINDS:
        raise ValueError(f"unknown guidance {kind!r}; choose one of {GUIDANCE_KINDS}")
    labels = np.asarray(labels)
    h, w = labels.shape
    k = len(classes)
    out_size = (size, size) if isinstance(size, int) else tuple(size)
    device = prev.device if isinstance(prev, torch.Tensor) else torch.device("cpu")
    cls = np.asarray(classes)

    points = np.argwhere(labels > 0)
    values = labels[points[:, 0], points[:, 1]]
    cur = np.zeros(len(points), bool) if current is None else np.asarray(current, bool)[points[:, 0], points[:, 1]]
    own = values[None, :] == cls[:, None]  # (K, N)
    other = ~own
    membership = np.stack([own & cur, other & cur, own & ~cur, other & ~cur], 1)
    strokes = torch.from_numpy(crop.rasterize(points, membership, out_size)).to(device)
    channels = {name: strokes[:, i : i + 1] for i, name in enumerate(("pos_cur", "neg_cur", "pos", "neg"))}

    if prev is None:
        channels["prev"] = torch.zeros((k, 1, *out_size), device=device)
    else:
        prev_t = torch.as_tensor(np.asarray(prev) if not isinstance(prev, torch.Tensor) else prev)
        channels["prev"] = crop.to_crop(prev_t.to(device, torch.float32)[:, None], out_size)
    if kind == "extreme":
        disk_pts, member = [], []
        for i, c in enumerate(classes):
            if extreme and c in extreme:
                pts = np.argwhere(extreme_point_disks(extreme[c], (h, w)))
                disk_pts.append(pts)
                m = np.zeros((k, 1, len(pts)), bool)
                m[i] = True
                member.append(m)
        if disk_pts:
            channels["extreme"] = torch.from_numpy(
                crop.rasterize(np.concatenate(disk_pts), np.concatenate(member, 2), out_size)
            ).to(device)
        else:
            channels["extreme"] = torch.zeros((k, 1, *out_size), device=device)
    elif kind == "superpixel":
        if superpixels is None:
            raise ValueError("guidance 'superpixel' needs the image's superpixels (slic_superpixels)")
        sp = superpixel_guidance(superpixels, own_masks(labels, classes), other_masks(labels, classes))
        sp_crop = crop.to_crop(torch.from_numpy(sp).to(device), out_size)
        for i, name in enumerate(SUPERPIXEL_CHANNELS):
            channels[name] = sp_crop[:, i : i + 1]
    elif kind in COLOUR_KINDS:
        if colour is None:
            raise ValueError(f"guidance {kind!r} needs the image's colour bins (colour_bins)")
        channels["colour"] = torch.from_numpy(colour_crops(colour, colour_ratios(colour, labels, classes), crop, out_size)).to(device)
        if kind == "colour_frame":
            frame = colour_ratios(colour, labels, classes, rival=frame_histogram(colour, labels))
            channels["colour_frame"] = torch.from_numpy(colour_crops(colour, frame, crop, out_size)).to(device)
        if kind == "colour_geodesic":
            if guide is None:
                raise ValueError("guidance 'colour_geodesic' needs the image's grey guide (edges.grey_guide)")
            seeds = crop.rasterize(points, np.stack([own, other], 1), GEODESIC_CELLS) > 0
            geo = torch.from_numpy(geodesic_crops(guide, crop, seeds))
            geo = torch.nn.functional.interpolate(geo, size=out_size, mode="bilinear", align_corners=False).to(device)
            channels["geo_pos"], channels["geo_neg"] = geo[:, :1], geo[:, 1:]
    return torch.cat([channels[name] for name in guidance_layout(kind)], 1)


def guidance_maps(
    labels: np.ndarray,
    classes: list[int] | None = None,
    current: np.ndarray | None = None,
    prev: np.ndarray | None = None,
    kind: str = "binary",
    superpixels: np.ndarray | None = None,
    extreme: dict[int, np.ndarray] | None = None,
    colour: ColourBins | None = None,
    guide: torch.Tensor | None = None,
) -> np.ndarray:
    """The guidance channels at image resolution (no crop): (K, G, H, W) float32 numpy.

    Same arguments as :func:`guidance_crops`; ``classes`` defaults to those present in ``labels``.
    For inspection, plots and tests.
    """
    from napari_scribbleseg.model.crop import CropTransform

    labels = np.asarray(labels)
    if classes is None:
        classes = [int(c) for c in np.unique(labels) if c > 0]
    crop = CropTransform.full(labels.shape, len(classes))
    return guidance_crops(labels, classes, crop, labels.shape, current, prev, kind, superpixels, extreme, colour, guide).numpy()


@dataclass(frozen=True)
class ColourBins:
    """An image's pixels binned by colour, once per image: ``index`` (H, W) int bin of each pixel on a
    ``grid`` of bins (RGB 8 x 8 x 8; a grey image 64 x 1 x 1) and the image's own ``histogram``; ``extent``
    (r0, c0, r1, c1) where the image's own pixels are (a training view padded at the bottom and right), None
    for all of them."""

    index: np.ndarray
    grid: tuple[int, int, int]
    histogram: np.ndarray
    extent: tuple[int, int, int, int] | None = None

    @property
    def nbytes(self) -> int:
        return int(self.index.nbytes + self.histogram.nbytes)


def colour_bins(rgb: np.ndarray, valid: np.ndarray | None = None) -> ColourBins:
    """Bin an (H, W, 3) float image in [0, 1] by colour (:class:`ColourBins`); grey images by intensity.

    ``valid`` (H, W) bool: the image's own pixels (training's padded views); the histogram and the extent
    are theirs. None: every pixel.
    """
    rgb = np.clip(np.asarray(rgb, np.float32), 0.0, 1.0)
    grey = bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))
    grid = (64, 1, 1) if grey else (8, 8, 8)
    q = [np.minimum((rgb[..., c] * n).astype(np.int32), n - 1) for c, n in enumerate(grid)]
    index = ((q[0] * grid[1] + q[1]) * grid[2] + q[2]).astype(np.int32)
    extent = None
    valid = None if valid is None else np.asarray(valid, bool)
    if valid is not None and valid.any() and not valid.all():
        rows, cols = np.flatnonzero(valid.any(1)), np.flatnonzero(valid.any(0))
        extent = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
        counted = index[valid]
    else:
        counted = index.ravel()
    histogram = np.bincount(counted, minlength=int(np.prod(grid))).astype(np.float64)
    return ColourBins(index, grid, histogram, extent)


def colour_ratios(
    bins: ColourBins, labels: np.ndarray, classes: list[int], smoothing: float = 1.0, rival: np.ndarray | None = None
) -> np.ndarray:
    """(K, n_bins) float32 P(class k | colour bin) in [0, 1] from stroke histograms on one image.

    Class k's strokes give its colour density; the strokes of every other class give the rival density
    (the whole image's while no other class has strokes), or ``rival`` (n_bins,) counts for every class
    (:func:`frame_histogram`). Both are smoothed over neighbouring bins (Gaussian, ``smoothing`` bins) and
    compared per bin: density_k / (density_k + density_rival).
    """
    from scipy.ndimage import gaussian_filter

    labels = np.asarray(labels)
    n = int(np.prod(bins.grid))
    sigma = [smoothing if g > 1 else 0.0 for g in bins.grid]

    def density(counts: np.ndarray) -> np.ndarray:
        smooth = gaussian_filter(counts.reshape(bins.grid), sigma, mode="constant").ravel()
        return smooth / max(float(smooth.sum()), 1e-12)

    scribbled = labels > 0
    stroke_bins, stroke_labels = bins.index[scribbled], labels[scribbled]  # the strokes' pixels only
    out = np.empty((len(classes), n), np.float32)
    for i, k in enumerate(classes):
        mine = stroke_labels == k
        own = np.bincount(stroke_bins[mine], minlength=n).astype(np.float64)
        if rival is not None:
            theirs = rival
        elif mine.all():
            theirs = bins.histogram
        else:
            theirs = np.bincount(stroke_bins[~mine], minlength=n).astype(np.float64)
        p, q = density(own), density(theirs)
        out[i] = (p + 1e-6) / (p + q + 2e-6)
    return out


def frame_histogram(bins: ColourBins, labels: np.ndarray) -> np.ndarray:
    """(n_bins,) float64 colour counts of the implicit background frame of ``labels``' strokes
    (:func:`napari_scribbleseg.scribbles.implicit_background`) on the image's own pixels (``bins.extent``);
    the whole image's where the frame is empty."""
    labels = np.asarray(labels)
    r0, c0, r1, c1 = bins.extent or (0, 0, *labels.shape)
    frame = implicit_background(labels[r0:r1, c0:c1] > 0)
    if not frame.any():
        return bins.histogram
    return np.bincount(bins.index[r0:r1, c0:c1][frame], minlength=int(np.prod(bins.grid))).astype(np.float64)


def colour_likelihood(bins: ColourBins, labels: np.ndarray, classes: list[int], smoothing: float = 1.0) -> np.ndarray:
    """(K, H, W) float32 P(class k | colour) of every pixel (:func:`colour_ratios` looked up per pixel)."""
    return colour_ratios(bins, labels, classes, smoothing)[:, bins.index]


def colour_crops(bins: ColourBins, ratios: np.ndarray, crop, size: tuple[int, int]) -> np.ndarray:
    """(K, 1, h, w) float32: the colour likelihood ``ratios[k][bins.index]`` of each class k resampled into
    crop k as :meth:`~napari_scribbleseg.model.crop.CropTransform.to_crop` would (bilinear), from the
    four image pixels behind each crop cell only (:meth:`~napari_scribbleseg.model.crop.CropTransform.bilinear_taps`)."""
    rows, row_w, cols, col_w = crop.bilinear_taps(size)
    out = np.zeros((len(ratios), 1, *size), np.float32)
    for k in range(len(ratios)):
        b = k if len(rows) > 1 else 0
        for p in range(2):
            row_values = ratios[k][bins.index[rows[b, p]]]  # (h, W): the likelihood along the tapped rows
            across = col_w[b, 0][None, :] * row_values[:, cols[b, 0]] + col_w[b, 1][None, :] * row_values[:, cols[b, 1]]
            out[k, 0] += row_w[b, p][:, None] * across
    return out


def geodesic_crops(guide: torch.Tensor, crop: CropTransform, seeds: np.ndarray) -> np.ndarray:
    """(K, 2, g, g) float32 geodesic closeness in each class's zoom box, g = :data:`GEODESIC_CELLS`.

    ``guide`` (H, W) grey values in [0, 1]; ``seeds`` (K, 2, g, g) bool, each class's own strokes and every
    other class's strokes rasterised into its box at g cells. The box's grey values (area-averaged,
    :func:`napari_scribbleseg.model.edges.guide_crops`) give each cell the cost 1 + :data:`GEODESIC_BETA` x
    their gradient; channel c is exp(-d / :data:`GEODESIC_TAU`) of the cheapest path's cost d (in cells) from
    the seeds of channel c, 0 where channel c has no seed. A path's cost is that of scikit-image's
    minimum-cost paths (``MCP_Geometric``, 8-connected: each step costs its length times the mean of its two
    cells' costs), solved by multi-source Dijkstra on the box's :func:`napari_scribbleseg.pixelgraph.grid_graph`.

    Classes that share a box (all of them on a first stroke) share its graph, and a class whose rivals'
    seeds are exactly the union of the other box-sharing classes' own seeds takes its rival distance as the
    minimum of theirs (the distance to a union is the nearest part's), so K classes in one box cost K solves.
    """
    from scipy.sparse.csgraph import dijkstra

    from napari_scribbleseg.model.edges import guide_crops
    from napari_scribbleseg.pixelgraph import grid_graph

    cells, index = guide_crops(guide, crop.boxes, GEODESIC_CELLS)
    grey = cells[:, 0].cpu().numpy().astype(np.float64)
    distance = np.full(seeds.shape, np.inf)
    for box in np.unique(index):
        members = np.flatnonzero(index == box)
        cost = 1.0 + GEODESIC_BETA * np.hypot(*np.gradient(grey[box]))
        graph = grid_graph(cost.shape, lambda src, dst: (cost[src] + cost[dst]) / 2)

        def solve(mask: np.ndarray) -> np.ndarray:
            return dijkstra(graph, directed=True, indices=np.flatnonzero(mask), min_only=True).reshape(mask.shape)

        for k in members:
            if seeds[k, 0].any():
                distance[k, 0] = solve(seeds[k, 0])
        for k in members:
            rivals = [j for j in members if j != k]
            if not seeds[k, 1].any():
                continue
            if rivals and np.array_equal(seeds[k, 1], np.logical_or.reduce(seeds[rivals, 0])):
                distance[k, 1] = distance[rivals, 0].min(0)
            else:
                distance[k, 1] = solve(seeds[k, 1])
    return np.exp(-distance / GEODESIC_TAU).astype(np.float32)


def own_masks(labels: np.ndarray, classes: list[int]) -> np.ndarray:
    """(K, H, W) bool: the strokes of each class."""
    return np.asarray(labels)[None] == np.asarray(classes)[:, None, None]


def other_masks(labels: np.ndarray, classes: list[int]) -> np.ndarray:
    """(K, H, W) bool: the strokes of every other class (each class's negatives)."""
    labels = np.asarray(labels)
    return (labels > 0)[None] & ~own_masks(labels, classes)


def slic_superpixels(rgb: np.ndarray, n_segments: int = 1000, work_size: int = 256) -> np.ndarray:
    """SLIC superpixels of an (H, W, 3) float image as (H, W) int32 labels 0..n-1.

    Computed on a copy whose long side is ``work_size`` (SLIC is slow at full size) and scaled back
    with nearest neighbours.
    """
    import cv2
    from skimage.segmentation import slic

    h, w = rgb.shape[:2]
    scale = min(1.0, work_size / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    labels = slic(small, n_segments=n_segments, compactness=10, start_label=0, channel_axis=-1)
    if scale < 1:
        labels = cv2.resize(labels.astype(np.int32), (w, h), interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(labels, dtype=np.int32)


def superpixel_guidance(superpixels: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """003's superpixel maps for K classes: (K, 3, H, W) float32 in [0, 1].

    Channels: ``sp_pos``, ``sp_neg`` = 1 - min(d, 255) / 255 with d the distance (pixels) from each
    superpixel's centroid to the nearest centroid of a superpixel touched by positive (negative)
    strokes (0 everywhere when there are none); ``sp_box`` = 1 on superpixels whose centroid lies in
    the bounding box of the superpixels the positive strokes touch.
    """
    sp = np.asarray(superpixels)
    n = int(sp.max()) + 1
    rows, cols = np.indices(sp.shape)
    count = np.maximum(np.bincount(sp.ravel(), minlength=n), 1)
    centroids = np.stack(
        [np.bincount(sp.ravel(), rows.ravel(), n) / count, np.bincount(sp.ravel(), cols.ravel(), n) / count], 1
    )
    out = np.zeros((len(positive), 3, *sp.shape), np.float32)
    for i, (pos, neg) in enumerate(zip(positive, negative)):
        for c, strokes in enumerate((pos, neg)):
            touched = np.unique(sp[strokes])
            if touched.size:
                d = np.sqrt(((centroids[:, None, :] - centroids[None, touched, :]) ** 2).sum(-1)).min(1)
                out[i, c] = (1 - np.minimum(d, SUPERPIXEL_CLIP) / SUPERPIXEL_CLIP)[sp]
        if pos.any():
            # the box encloses every superpixel the positive strokes touch, so it follows image structure
            touched = np.isin(sp, np.unique(sp[pos]))
            r, q = np.flatnonzero(touched.any(1)), np.flatnonzero(touched.any(0))
            inside = (
                (centroids[:, 0] >= r[0]) & (centroids[:, 0] <= r[-1]) & (centroids[:, 1] >= q[0]) & (centroids[:, 1] <= q[-1])
            )
            out[i, 2] = inside[sp]
    return out


def extreme_points(mask: np.ndarray) -> np.ndarray:
    """The 4 extreme points (top, bottom, left, right) of an (H, W) mask as (4, 2) int (row, col).

    Ties take the median pixel of the extreme row/column. For simulating 002's first interaction.
    """
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        raise ValueError("the mask is empty; extreme points need at least one pixel")
    pts = []
    # top and bottom vary along columns, left and right along rows: take the median of the tie
    for sel, along in ((rows == rows.min(), cols), (rows == rows.max(), cols), (cols == cols.min(), rows), (cols == cols.max(), rows)):
        idx = np.flatnonzero(sel)
        j = idx[np.argsort(along[idx], kind="stable")[len(idx) // 2]]
        pts.append((rows[j], cols[j]))
    return np.array(pts, dtype=np.int64)


def extreme_point_disks(points: np.ndarray, shape: tuple[int, int], diameter: int = EXTREME_DIAMETER) -> np.ndarray:
    """(H, W) bool with a disk of ``diameter`` pixels at each (row, col) of ``points`` (N, 2)."""
    out = np.zeros(shape, bool)
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    if pts.size == 0:
        return out
    r = diameter / 2
    lo = np.floor(pts.min(0) - r).astype(int).clip(0)
    hi = np.ceil(pts.max(0) + r + 1).astype(int).clip(None, shape)
    yy, xx = np.mgrid[lo[0] : hi[0], lo[1] : hi[1]]
    d2 = (yy[None] - pts[:, 0, None, None]) ** 2 + (xx[None] - pts[:, 1, None, None]) ** 2
    out[lo[0] : hi[0], lo[1] : hi[1]] = (d2 <= r * r).any(0)
    return out
