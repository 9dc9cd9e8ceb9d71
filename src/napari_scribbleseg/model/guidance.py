"""Guidance maps: how strokes, the previous mask and optional cues become the head's input channels.

One implementation for training and inference. Three kinds, chosen by ``ModelConfig.guidance``:

- ``"binary"`` (default): binary stroke maps;
- ``"superpixel"`` (003): adds SLIC superpixel maps: for every superpixel, the distance from its
  centroid to the nearest centroid of a superpixel touched by the class's positive (negative)
  strokes, and the superpixel-aligned box around the positive strokes;
- ``"extreme"`` (002): adds a channel of 6-px disks at the extreme points of each object (also drawn
  into the positive map); their box is the first crop.

Every kind keeps the current stroke apart from the history (004): ``pos``/``neg`` hold the strokes of
earlier interactions, ``pos_cur``/``neg_cur`` those added by this interaction.

Channel layout (see :func:`guidance_layout`): ``pos_cur, neg_cur, prev, pos, neg`` then the kind's
extra channels, so the current branch reads channels 0-2 and the history branch channels 2 onwards
(both plain slices). Stroke channels are cropped with max-pooling so thin strokes survive shrinking,
dense ones bilinearly (:func:`stroke_channel_mask`).
"""

from __future__ import annotations

import numpy as np

GUIDANCE_KINDS = ("binary", "superpixel", "extreme")
STROKE_CHANNELS = ("pos", "neg", "pos_cur", "neg_cur")
SUPERPIXEL_CHANNELS = ("sp_pos", "sp_neg", "sp_box")
SUPERPIXEL_CLIP = 255.0  # pixels; 003 clips centroid distances at 255
EXTREME_DIAMETER = 6


def guidance_layout(kind: str) -> tuple[str, ...]:
    """Names of the guidance channels of ``kind``, in order (see the module docstring)."""
    base = ("pos_cur", "neg_cur", "prev", "pos", "neg")
    if kind == "binary":
        return base
    if kind == "extreme":
        return (*base, "extreme")
    if kind == "superpixel":
        return (*base, *SUPERPIXEL_CHANNELS)
    raise ValueError(f"unknown guidance {kind!r}; choose one of {GUIDANCE_KINDS}")


def stroke_channel_mask(kind: str) -> tuple[bool, ...]:
    """Per channel of :func:`guidance_layout`: True for sparse stroke-like maps (crop with max-pooling)."""
    return tuple(name in STROKE_CHANNELS or name == "extreme" for name in guidance_layout(kind))


def guidance_maps(
    positive: np.ndarray,
    negative: np.ndarray,
    current: np.ndarray | None = None,
    prev: np.ndarray | None = None,
    kind: str = "binary",
    superpixels: np.ndarray | None = None,
    extreme: np.ndarray | None = None,
) -> np.ndarray:
    """Stack the guidance channels of K classes at image resolution (numpy; for training and tests).

    Parameters
    ----------
    positive, negative : (K, H, W) bool
        Every stroke of class k, and every stroke of the other classes.
    current : (H, W) bool, optional
        Pixels painted by this interaction (the newest stroke); they go to ``pos_cur``/``neg_cur``
        and leave the history channels. None: all strokes are history.
    prev : (K, H, W) bool or float, optional
        The previous mask (or probability) of each class; None: zeros.
    kind : str
        One of :data:`GUIDANCE_KINDS`.
    superpixels : (H, W) int, optional
        Superpixel labels (``kind="superpixel"``; see :func:`slic_superpixels`).
    extreme : (K, H, W) bool, optional
        Extreme-point disks (``kind="extreme"``; see :func:`extreme_point_disks`).

    Returns
    -------
    (K, G, H, W) float32 in [0, 1], channels as :func:`guidance_layout` (kind).
    """
    import torch

    to = lambda a: None if a is None else torch.as_tensor(np.asarray(a))  # noqa: E731
    strokes, dense = guidance_groups(
        to(np.asarray(positive, bool)), to(np.asarray(negative, bool)), to(current), to(prev), kind, superpixels, to(extreme)
    )
    return merge_groups(strokes.float(), dense, kind).numpy()


def guidance_groups(positive, negative, current=None, prev=None, kind="binary", superpixels=None, extreme=None):
    """The guidance channels of K classes as two torch groups, before cropping.

    Same arguments as :func:`guidance_maps`, as torch tensors (``superpixels`` numpy).

    Returns
    -------
    strokes : (K, Gs, H, W) uint8
        The stroke-like channels (:func:`stroke_channel_mask`), in layout order.
    dense : (K, Gd, H, W) float32
        The dense channels (``prev`` and superpixel maps), in layout order.
    """
    import torch

    if kind not in GUIDANCE_KINDS:
        raise ValueError(f"unknown guidance {kind!r}; choose one of {GUIDANCE_KINDS}")
    k, h, w = positive.shape
    if current is None:
        current = torch.zeros((h, w), dtype=torch.bool, device=positive.device)
    old = ~current
    strokes = [positive & current, negative & current, positive & old, negative & old]
    if kind == "extreme":
        strokes.append(torch.zeros_like(positive) if extreme is None else extreme.to(torch.bool))
    dense = [torch.zeros((k, h, w), device=positive.device) if prev is None else prev.to(torch.float32)]
    if kind == "superpixel":
        if superpixels is None:
            raise ValueError("guidance 'superpixel' needs the image's superpixels (slic_superpixels)")
        sp = superpixel_guidance(superpixels, positive.cpu().numpy(), negative.cpu().numpy())
        dense.extend(torch.from_numpy(sp).to(positive.device).unbind(1))
    return torch.stack(strokes, 1).to(torch.uint8), torch.stack(dense, 1)


def merge_groups(strokes, dense, kind: str):
    """Interleave the two groups of :func:`guidance_groups` (any resolution, same dtype) in layout order."""
    import torch

    mask = stroke_channel_mask(kind)
    order, si, di = [], 0, 0
    for is_stroke in mask:
        order.append(strokes[:, si : si + 1] if is_stroke else dense[:, di : di + 1])
        si, di = si + is_stroke, di + (not is_stroke)
    return torch.cat(order, 1)


def crop_guidance(strokes, dense, crop, size: int, kind: str):
    """Crop both groups of :func:`guidance_groups` with ``crop`` (a CropTransform) to (K, G, size, size) float.

    Strokes are max-pooled by the shrink factor before sampling (thin strokes survive), dense maps
    are sampled bilinearly.
    """
    s = crop.to_crop(strokes, size, mode="max", dtype=dense.dtype)
    d = crop.to_crop(dense, size)
    return merge_groups(s, d, kind)


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
