"""The zoom-in crop: ONE transform object between image space and the head's input space.

A :class:`CropTransform` holds one box per batch item (one per class in a multi-class prediction).
Boxes are in pixel-edge coordinates of the full image, ``(y0, x0, y1, x1)`` with ``(0, 0, H, W)`` the
whole image, so they do not depend on the resolution of the tensor being cropped: the same object
crops the full-resolution stroke maps, the stride-4 and stride-16 cached features and the image, and
pastes the head's output back (all with ``torch.nn.functional.grid_sample``, ``align_corners=False``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class CropTransform:
    """Boxes ``(B, 4)`` as ``(y0, x0, y1, x1)`` in pixels of an image of ``image_shape`` ``(H, W)``."""

    boxes: np.ndarray
    image_shape: tuple[int, int]

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def full(cls, image_shape: tuple[int, int], batch: int = 1) -> "CropTransform":
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
    ) -> "CropTransform":
        """Square boxes around each ``masks[i]`` (previous mask + strokes), expanded ``expand`` times.

        Parameters
        ----------
        masks : (B, H, W) bool
            What each crop must contain. An empty mask gives the whole image.
        expand : float
            Side of the box / side of the mask's bounding box (000's zoom-in uses 1.4).
        min_size : int
            Smallest side in pixels, so a tiny object still gets context.

        Boxes are shifted (not shrunk) to stay inside the image; a side larger than the image is cut
        to the image, so boxes are square except near very elongated images.
        """
        masks = np.asarray(masks, bool)
        h, w = masks.shape[-2:] if image_shape is None else image_shape
        boxes = np.empty((len(masks), 4))
        for i, m in enumerate(masks):
            rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
            if rows.size == 0:
                boxes[i] = (0, 0, h, w)
                continue
            cy, cx = (rows[0] + rows[-1] + 1) / 2, (cols[0] + cols[-1] + 1) / 2
            side = max(rows[-1] + 1 - rows[0], cols[-1] + 1 - cols[0]) * expand
            side = max(side, min(min_size, h, w))
            boxes[i, [0, 2]] = _fit(cy, side, h)
            boxes[i, [1, 3]] = _fit(cx, side, w)
        return cls(boxes, (int(h), int(w)))

    # --- geometry -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.boxes)

    @property
    def is_full(self) -> np.ndarray:
        """(B,) bool: which items cover the whole image."""
        h, w = self.image_shape
        return np.all(np.isclose(self.boxes, [0, 0, h, w]), axis=1)

    def theta(self, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(B, 2, 3) affine maps from crop-normalised to image-normalised coordinates (x, y order)."""
        h, w = self.image_shape
        b = torch.as_tensor(self.boxes, dtype=torch.float64)
        sx, sy = (b[:, 3] - b[:, 1]) / w, (b[:, 2] - b[:, 0]) / h
        tx, ty = (b[:, 3] + b[:, 1]) / w - 1, (b[:, 2] + b[:, 0]) / h - 1
        zero = torch.zeros_like(sx)
        theta = torch.stack([torch.stack([sx, zero, tx], 1), torch.stack([zero, sy, ty], 1)], 1)
        return theta.to(device=device, dtype=dtype)

    def grid(self, size: int | tuple[int, int], device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(B, h, w, 2) sampling grid of the crops at ``size`` in image-normalised coordinates."""
        h, w = (size, size) if isinstance(size, int) else size
        theta = self.theta(device, dtype)
        return F.affine_grid(theta, [len(self), 1, h, w], align_corners=False)

    # --- image -> crop ------------------------------------------------------------------------
    def to_crop(
        self, x: torch.Tensor, size: int | tuple[int, int], mode: str = "bilinear", dtype: torch.dtype | None = None
    ) -> torch.Tensor:
        """Resample image-space ``x`` (N, C, h, w) (N = 1 or B, any resolution) to (B, C, size, size).

        ``mode="max"`` keeps thin strokes when shrinking: the map is max-pooled by the shrink factor
        before bilinear sampling, so a 3-px stroke on a 1024-px image still shows in a 256-px crop.
        Outside the image the crop reads 0. ``dtype``: convert to it (after any pooling, so pooling
        runs on the cheaper input type, e.g. uint8 stroke maps).
        """
        out = (size, size) if isinstance(size, int) else size
        if mode == "max":
            h, w = self.image_shape
            shrink_y = float(np.min(self.boxes[:, 2] - self.boxes[:, 0])) * x.shape[-2] / h / out[0]
            shrink_x = float(np.min(self.boxes[:, 3] - self.boxes[:, 1])) * x.shape[-1] / w / out[1]
            k = int(math.floor(min(shrink_y, shrink_x)))
            if k >= 2:
                x = max_shrink(x, k)
            mode = "bilinear"
        if dtype is not None:
            x = x.to(dtype)
        grid = self.grid(out, x.device, x.dtype)
        if x.shape[0] == 1 and len(self) > 1:
            # one shared map, B crops: stack the grids along y and sample once, without expanding x
            b = len(self)
            y = F.grid_sample(x, grid.reshape(1, b * out[0], out[1], 2), mode=mode, padding_mode="zeros", align_corners=False)
            return y.reshape(x.shape[1], b, out[0], out[1]).transpose(0, 1)
        return F.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)

    # --- crop -> image ------------------------------------------------------------------------
    def from_crop(
        self, y: torch.Tensor, size: tuple[int, int] | None = None, outside: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Paste crop-space ``y`` (B, C, s, s) back into image space (B, C, H, W) (or ``size``).

        Pixels outside each box take ``outside`` (B, C, H, W) if given, else 0.
        """
        h, w = self.image_shape if size is None else size
        theta = self.theta(torch.device("cpu"), torch.float64)
        # invert [A | t]: crop = A^-1 (image - t)
        a = theta[:, :, :2]
        t = theta[:, :, 2:]
        inv_a = torch.linalg.inv(a)
        inv = torch.cat([inv_a, -inv_a @ t], 2).to(y.device, y.dtype)
        grid = F.affine_grid(inv, [len(self), 1, h, w], align_corners=False)
        out = F.grid_sample(y, grid, mode="bilinear", padding_mode="border", align_corners=False)
        if outside is None and bool(self.is_full.all()):
            return out
        inside = (grid.abs() <= 1).all(-1, keepdim=True).permute(0, 3, 1, 2)
        fill = outside if outside is not None else torch.zeros_like(out)
        return torch.where(inside, out, fill)


def max_shrink(x: torch.Tensor, k: int) -> torch.Tensor:
    """Max over k x k cells of (N, C, H, W) ``x`` (zero-padded to a multiple of k): (N, C, ceil(H/k), ceil(W/k)).

    The padded map covers slightly more than the image (under k pixels); the resulting shift of at
    most k/2 source pixels is below the resolution the pooled map is sampled at.
    """
    n, c, h, w = x.shape
    ph, pw = -h % k, -w % k
    if ph or pw:
        x = F.pad(x, [0, pw, 0, ph])
    return x.reshape(n, c, (h + ph) // k, k, (w + pw) // k, k).amax((3, 5))


def _fit(center: float, side: float, limit: int) -> tuple[float, float]:
    """An interval of length ``side`` (at most ``limit``) around ``center``, shifted inside [0, limit]."""
    side = min(side, float(limit))
    lo = min(max(center - side / 2, 0.0), limit - side)
    return lo, lo + side
