"""The zoom-in crop: ONE transform object between image space and the head's input space.

A :class:`CropTransform` holds one box per batch item (one per class in a multi-class prediction).
Boxes are in pixel-edge coordinates of the full image, ``(y0, x0, y1, x1)`` with ``(0, 0, H, W)`` the
whole image, so they do not depend on the resolution of the tensor being cropped: the same object
draws the strokes into the crop (:meth:`CropTransform.rasterize`), crops the stride-4 and stride-16
cached features and the image (:meth:`CropTransform.to_crop`, ``grid_sample``), and pastes the
head's output back (:meth:`CropTransform.from_crop`). All follow ``align_corners=False`` conventions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
import torch.nn.functional as F

#: Logit a class gets outside its zoom-in box: it keeps its previous mask there, confidently.
OUTSIDE_LOGIT = 6.0


#: a pixel extent (r0, c0, r1, c1), half-open, or None for nothing (the crop is then the whole image)
Extent = tuple[int, int, int, int] | None


def zoom_extents(
    labels: np.ndarray,
    classes: list[int],
    prev: np.ndarray | None = None,
    extreme_disks: dict[int, np.ndarray] | None = None,
) -> list[Extent]:
    """Per class, the extent of what its zoom-in box must hold (the Session's rule, for training too).

    A class with a non-empty previous mask (``prev`` (H, W) int labels) gets its previous mask plus its
    strokes (000's zoom-in from the second interaction); a class with extreme-point disks in
    ``extreme_disks`` ({class: (H, W) bool}) gets them (002: their box is the first crop); every other
    class gets nothing (None), i.e. the whole image (:meth:`CropTransform.around_extents`). One pass over
    each map (``ndimage.find_objects``), not a mask per class.
    """
    from scipy import ndimage as ndi

    out: list[Extent] = [None] * len(classes)
    for i, k in enumerate(classes):
        if extreme_disks and k in extreme_disks:
            out[i] = _extent(np.asarray(extreme_disks[k], bool))
    if prev is not None and classes:
        top = int(max(classes))
        held = ndi.find_objects(np.asarray(prev), max_label=top)
        strokes = ndi.find_objects(np.asarray(labels), max_label=top)
        for i, k in enumerate(classes):
            if held[k - 1] is not None:
                for part in (held[k - 1], strokes[k - 1]):
                    out[i] = _union(out[i], part)
    return out


def _extent(mask: np.ndarray) -> Extent:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return None if rows.size == 0 else (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)


def _union(extent: Extent, part: tuple[slice, slice] | None) -> Extent:
    if part is None:
        return extent
    rows, cols = part
    if extent is None:
        return (rows.start, cols.start, rows.stop, cols.stop)
    return (min(extent[0], rows.start), min(extent[1], cols.start), max(extent[2], rows.stop), max(extent[3], cols.stop))


@dataclass(frozen=True)
class CropTransform:
    """Boxes ``(B, 4)`` as ``(y0, x0, y1, x1)`` in pixels of an image of ``image_shape`` ``(H, W)``."""

    boxes: np.ndarray
    image_shape: tuple[int, int]

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def full(cls, image_shape: tuple[int, int], batch: int = 1) -> CropTransform:
        """The identity crop: every item sees the whole image."""
        h, w = image_shape
        return cls(np.tile(np.array([[0.0, 0.0, h, w]]), (batch, 1)), (int(h), int(w)))

    @classmethod
    def around(
        cls,
        masks: np.ndarray,
        image_shape: tuple[int, int] | None = None,
        expand: float = 1.4,
        min_size: int = 48,
    ) -> CropTransform:
        """Square boxes around each ``masks[i]`` (previous mask + strokes), expanded ``expand`` times.

        Parameters
        ----------
        masks : (B, H, W) bool
            What each crop must contain. An empty mask gives the whole image.
        expand : float
            Side of the box / side of the mask's bounding box (000's zoom-in uses 1.4).
        min_size : int
            Smallest side in pixels, so a tiny object still gets context.

        Boxes have integer pixel edges (so pasting back is a plain resize) and are shifted (not
        shrunk) to stay inside the image; a side larger than the image is cut to the image, so boxes
        are square except near very elongated images.
        """
        masks = np.asarray(masks, bool)
        return cls.around_extents([_extent(m) for m in masks], masks.shape[-2:] if image_shape is None else image_shape, expand, min_size)

    @classmethod
    def around_extents(
        cls, extents: list[Extent], image_shape: tuple[int, int], expand: float = 1.4, min_size: int = 48
    ) -> CropTransform:
        """:meth:`around` from each mask's extent ``(r0, c0, r1, c1)`` (None: the whole image)."""
        h, w = image_shape
        boxes = np.empty((len(extents), 4))
        for i, extent in enumerate(extents):
            if extent is None:
                boxes[i] = (0, 0, h, w)
                continue
            r0, c0, r1, c1 = extent
            cy, cx = (r0 + r1) / 2, (c0 + c1) / 2
            side = max(r1 - r0, c1 - c0) * expand
            side = max(side, min(min_size, h, w))
            boxes[i, [0, 2]] = _fit(cy, side, h)
            boxes[i, [1, 3]] = _fit(cx, side, w)
        return cls(boxes, (int(h), int(w)))

    # --- geometry -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.boxes)

    @cached_property
    def is_full(self) -> np.ndarray:
        """(B,) bool: which items cover the whole image."""
        h, w = self.image_shape
        return np.all(np.abs(self.boxes - np.array([0, 0, h, w])) < 1e-6, axis=1)

    def axis_coords(self, size: tuple[int, int], device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32):
        """Image-normalised y (B, h) and x (B, w) coordinates of the crop pixels' centres."""
        h, w = self.image_shape
        b = torch.as_tensor(self.boxes, dtype=torch.float64)
        j = (torch.arange(size[0], dtype=torch.float64) + 0.5) / size[0]
        i = (torch.arange(size[1], dtype=torch.float64) + 0.5) / size[1]
        ys = (b[:, :1] + j[None] * (b[:, 2:3] - b[:, :1])) * (2 / h) - 1
        xs = (b[:, 1:2] + i[None] * (b[:, 3:4] - b[:, 1:2])) * (2 / w) - 1
        return ys.to(device, dtype), xs.to(device, dtype)

    def grid(self, size: int | tuple[int, int], device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(B, h, w, 2) ``grid_sample`` grid of the crops at ``size``, in image-normalised (x, y) coordinates.

        Built from the two axes (boxes are axis-aligned), which is much cheaper than ``affine_grid``.
        """
        size = (size, size) if isinstance(size, int) else size
        ys, xs = self.axis_coords(size, device, dtype)
        b = len(self)
        return torch.stack([xs[:, None, :].expand(b, *size), ys[:, :, None].expand(b, *size)], -1)

    # --- image -> crop ------------------------------------------------------------------------
    def to_crop(self, x: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
        """Resample image-space ``x`` (N, C, h, w) (N = 1 or B, any resolution) to (B, C, size, size).

        Bilinear ``grid_sample`` with border padding (boxes from :meth:`around` lie inside the image;
        border padding also makes the whole-image case equal to ``F.interpolate``, used as a fast
        path). For sparse strokes use :meth:`rasterize`, which never loses a thin stroke when shrinking.
        """
        out = (size, size) if isinstance(size, int) else size
        b = len(self)
        if bool(self.is_full.all()):
            # the whole image for every item: plain resizing, the same samples as grid_sample below
            y = F.interpolate(x, size=out, mode="bilinear", align_corners=False)
            return y.expand(b, -1, -1, -1) if y.shape[0] == 1 else y
        grid = self.grid(out, x.device, x.dtype)
        if x.shape[0] == 1 and b > 1:
            # one shared map, B crops: stack the grids along y and sample once, without expanding x
            y = F.grid_sample(x, grid.reshape(1, b * out[0], out[1], 2), mode="bilinear", padding_mode="border", align_corners=False)
            return y.reshape(x.shape[1], b, out[0], out[1]).transpose(0, 1).contiguous()
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def bilinear_taps(self, size: int | tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The image pixels and weights behind :meth:`to_crop`'s bilinear samples at full image resolution.

        Returns (rows (B, 2, h), row weights (B, 2, h), cols (B, 2, w), col weights (B, 2, w)): crop cell
        (i, j) of item b is ``sum_{p, q} rw[b, p, i] * cw[b, q, j] * x[rows[b, p, i], cols[b, q, j]]``, the
        value ``to_crop`` samples (border padding). A map that is a lookup of an integer image (a value per
        colour bin) is then cropped by looking up only these pixels instead of resampling the whole map.
        """
        out = (size, size) if isinstance(size, int) else size
        ys, xs = self.axis_coords(out, dtype=torch.float64)
        taps = []
        for coords, n in ((ys.numpy(), self.image_shape[0]), (xs.numpy(), self.image_shape[1])):
            pixel = np.clip(((coords + 1.0) * n - 1.0) / 2.0, 0.0, n - 1)
            low = np.floor(pixel).astype(np.int64)
            frac = (pixel - low).astype(np.float32)
            taps += [np.stack([low, np.minimum(low + 1, n - 1)], 1), np.stack([1.0 - frac, frac], 1)]
        return tuple(taps)

    def rasterize(self, points: np.ndarray, membership: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
        """Draw image pixels into the crops: a crop cell is 1 where any listed pixel overlaps it.

        Parameters
        ----------
        points : (N, 2) int
            (row, col) of image pixels (e.g. scribbled ones).
        membership : (B, C, N) bool
            Which channel of which crop each pixel belongs to.
        size : int or (h, w)

        Returns
        -------
        (B, C, h, w) float32. Each pixel covers the crop cells its square overlaps: shrinking never
        drops a thin stroke (unlike sampling), enlarging gives solid blocks.
        """
        out_h, out_w = (size, size) if isinstance(size, int) else size
        b_idx, c_idx, n_idx = np.nonzero(membership)
        canvas = np.zeros((*membership.shape[:2], out_h, out_w), np.float32)
        if b_idx.size == 0:
            return canvas
        box = self.boxes[b_idx]
        r0, r1 = _cells(points[n_idx, 0], box[:, 0], box[:, 2], out_h)
        q0, q1 = _cells(points[n_idx, 1], box[:, 1], box[:, 3], out_w)
        keep = (r1 > r0) & (q1 > q0)
        b_idx, c_idx, r0, r1, q0, q1 = (a[keep] for a in (b_idx, c_idx, r0, r1, q0, q1))
        span_r, span_q = int((r1 - r0).max(initial=1)), int((q1 - q0).max(initial=1))
        for dr in range(span_r):
            for dq in range(span_q):
                m = (r0 + dr < r1) & (q0 + dq < q1)
                canvas[b_idx[m], c_idx[m], r0[m] + dr, q0[m] + dq] = 1.0
        return canvas

    # --- crop -> image ------------------------------------------------------------------------
    def from_crop(
        self, y: torch.Tensor, size: tuple[int, int] | None = None, outside: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Paste crop-space ``y`` (B, C, s, s) back into image space (B, C, H, W) (or ``size``).

        Bilinear (edge values extend to the box border). Pixels outside each box take ``outside``
        (B, C, H, W) if given, else 0.
        """
        h, w = self.image_shape if size is None else size
        if self.pastes_at((h, w)):
            return self._paste(y, outside)
        hh, ww = self.image_shape
        b = torch.as_tensor(self.boxes, dtype=torch.float64)
        # image pixel centres in image-normalised units -> crop-normalised units, per axis
        yc = (torch.arange(h, dtype=torch.float64) + 0.5) * (hh / h)
        xc = (torch.arange(w, dtype=torch.float64) + 0.5) * (ww / w)
        ys = (yc[None] - b[:, :1]) / (b[:, 2:3] - b[:, :1]) * 2 - 1
        xs = (xc[None] - b[:, 1:2]) / (b[:, 3:4] - b[:, 1:2]) * 2 - 1
        n = len(self)
        grid = torch.stack([xs[:, None, :].expand(n, h, w), ys[:, :, None].expand(n, h, w)], -1).to(y.device, y.dtype)
        out = F.grid_sample(y, grid, mode="bilinear", padding_mode="border", align_corners=False)
        if outside is None and bool(self.is_full.all()):
            return out
        inside = ((ys.abs() <= 1)[:, :, None] & (xs.abs() <= 1)[:, None, :])[:, None].to(y.device)
        fill = outside if outside is not None else torch.zeros_like(out)
        return torch.where(inside, out, fill)

    def pastes_at(self, size: tuple[int, int]) -> bool:
        """Whether crops go back at ``size`` by resizing each to its box: integer boxes, at the image's own size."""
        return tuple(size) == tuple(self.image_shape) and np.array_equal(self.boxes, np.round(self.boxes))

    def _paste(self, y: torch.Tensor, outside: torch.Tensor | None) -> torch.Tensor:
        """:meth:`from_crop` for integer boxes: resize each crop to its box and paste it (same samples, cheaper)."""
        h, w = self.image_shape
        if bool(self.is_full.all()):
            return F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
        out = outside.clone() if outside is not None else y.new_zeros((len(self), y.shape[1], h, w))
        for i, (y0, x0, y1, x1) in enumerate(self.boxes.astype(int)):
            out[i, :, y0:y1, x0:x1] = F.interpolate(y[i : i + 1], size=(y1 - y0, x1 - x0), mode="bilinear", align_corners=False)[0]
        return out


def _cells(coord: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Half-open range of crop cells [start, stop) that image pixels [coord, coord + 1) overlap, clipped to [0, n)."""
    scale = n / (hi - lo)
    start = np.floor((coord - lo) * scale + 1e-9).astype(np.int64)
    stop = np.ceil((coord + 1 - lo) * scale - 1e-9).astype(np.int64)
    return np.clip(start, 0, n), np.clip(stop, 0, n)


def _fit(center: float, side: float, limit: int) -> tuple[int, int]:
    """An integer interval of about ``side`` (at most ``limit``) around ``center``, shifted inside [0, limit]."""
    side = min(math.ceil(side), int(limit))
    lo = min(max(round(center - side / 2), 0), limit - side)
    return lo, lo + side
