"""Multi-class scribbles: the user's strokes as an int map, per-class positives and negatives, a stroke log.

Convention (scikit-image's seeds): 0 = unlabeled, k >= 1 = class k. A binary task is class 1 = object,
class 2 = background. For class k the positive map is the strokes of k and the negative map is the union
of the strokes of every other class, so one class's strokes are every other class's negatives.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.labelmaps import check_label_map

MAX_CLASSES = 255


def as_label_map(scribbles: "Scribbles | np.ndarray", shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Return the (H, W) int32 scribble map of ``scribbles`` (a :class:`Scribbles` or an int array).

    Raises :class:`InputError` for float, negative, wrongly shaped or > 255-class maps.
    """
    labels = scribbles.labels if isinstance(scribbles, Scribbles) else np.asarray(scribbles)
    labels = check_label_map(labels, "scribbles", shape=None if shape is None else tuple(shape[:2]))
    if labels.size and labels.max() > MAX_CLASSES:
        raise InputError(
            f"scribbles use class {int(labels.max())} but at most {MAX_CLASSES} classes are supported; "
            "renumber the classes 1..K"
        )
    return labels.astype(np.int32, copy=False)


#: the scribbles' bounding box is scaled by this about its centre before the frame outside it becomes
#: implicit background (the same 1.4 as the model's zoom-in crop)
IMPLICIT_BOX_SCALE = 1.4
#: width of that frame, as a fraction of the image's shorter side (at least 2 px)
IMPLICIT_FRAME_FRACTION = 0.03


def implicit_background(scribbled: np.ndarray) -> np.ndarray:
    """Pixels treated as background when only one class is scribbled (the classical peers' rule, and the
    rival colours of the model's ``colour_frame`` guidance).

    The rule: a frame along the image border, ``IMPLICIT_FRAME_FRACTION`` of the shorter side wide (at least
    2 px), minus the scribbles' bounding box scaled ``IMPLICIT_BOX_SCALE`` times about its centre, minus the
    scribbled pixels. Where the scaled box covers the whole frame the frame's unscribbled pixels are used,
    so a one-class task always gets some background unless every border pixel is scribbled.

    Parameters
    ----------
    scribbled : (H, W) bool
        Where any stroke is.

    Returns
    -------
    (H, W) bool
    """
    h, w = scribbled.shape
    width = max(2, int(round(IMPLICIT_FRAME_FRACTION * min(h, w))))
    frame = np.ones((h, w), bool)
    frame[width : h - width, width : w - width] = False
    rows, cols = np.nonzero(scribbled)
    box = np.zeros((h, w), bool)
    if rows.size:
        cy, cx = (rows.min() + rows.max()) / 2, (cols.min() + cols.max()) / 2
        hy = (rows.max() - rows.min() + 1) * IMPLICIT_BOX_SCALE / 2
        hx = (cols.max() - cols.min() + 1) * IMPLICIT_BOX_SCALE / 2
        box[max(0, int(cy - hy)) : int(np.ceil(cy + hy)) + 1, max(0, int(cx - hx)) : int(np.ceil(cx + hx)) + 1] = True
    outside = frame & ~box & ~scribbled
    return outside if outside.any() else frame & ~scribbled


def rasterize_path(
    points: np.ndarray, shape: tuple[int, int], width: float = 3.0, closed: bool = False, fill: bool = False
) -> np.ndarray:
    """Rasterise a polyline (N, 2) of (row, col) points into a (H, W) bool mask, ``width`` pixels wide.

    ``closed`` joins the last point to the first; ``fill`` fills the polygon (Shapes-layer polygons).
    Points outside the image are clipped by the drawing, not rejected.
    """
    import cv2

    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] < 2 or len(pts) == 0:
        raise InputError(f"a path needs (N, 2) (row, col) points; got shape {pts.shape}")
    pts = pts[:, -2:]
    if len(pts) == 1:
        # cv2 draws nothing for a one-point polyline; a repeated point draws the dot (a click)
        pts = np.repeat(pts, 2, axis=0)
    canvas = np.zeros(shape, np.uint8)
    # cv2 takes (x, y) integer points; 4 fractional bits keep sub-pixel positions
    xy = np.round(pts[:, ::-1] * 16).astype(np.int32).reshape(-1, 1, 2)
    if fill and len(pts) >= 3:
        cv2.fillPoly(canvas, [xy], 1, lineType=cv2.LINE_8, shift=4)
    # a 1-px centre line dilated by a disk of diameter ``width``: exact widths, unlike thick cv2 lines
    cv2.polylines(canvas, [xy], closed, 1, thickness=1, lineType=cv2.LINE_8, shift=4)
    size = max(1, int(round(width)))
    if size > 1:
        canvas = cv2.dilate(canvas, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return canvas.astype(bool)


@dataclass
class Stroke:
    """One stroke: ``label`` painted over ``pixels`` (flat indices) of slice ``slice_key`` at ``time``.

    ``values`` are the labels it wrote (all ``label`` for a painted stroke; a recorded layer edit may
    write several) and ``previous`` the values it overwrote, so undo and redo restore them exactly.
    """

    label: int
    pixels: np.ndarray
    values: np.ndarray
    previous: np.ndarray
    slice_key: tuple = ()
    time: float = field(default_factory=time.time)
    geometry: np.ndarray | None = None


class Scribbles:
    """A multi-class scribble map of one 2-D image or slice, with a stroke log and undo/redo.

    Parameters
    ----------
    shape_or_labels : (H, W) tuple or (H, W) int array
        An empty map of that shape, or an existing label map (copied).
    slice_key : tuple
        Which slice of a volume these scribbles belong to, e.g. ``(axis, index)``; ``()`` for 2-D.

    Examples
    --------
    >>> s = Scribbles((64, 64))
    >>> _ = s.add_stroke(1, rasterize_path([[10, 10], [10, 50]], (64, 64)))
    >>> s.classes
    [1]
    """

    def __init__(self, shape_or_labels: tuple[int, int] | np.ndarray, slice_key: tuple = ()):
        if isinstance(shape_or_labels, tuple):
            if len(shape_or_labels) != 2 or not all(isinstance(n, (int, np.integer)) and n > 0 for n in shape_or_labels):
                raise InputError(
                    f"scribbles need a 2-D (H, W) shape of positive ints, not {shape_or_labels}; for an RGB image "
                    "pass image.shape[:2], for a volume one slice's shape"
                )
            self.labels = np.zeros(shape_or_labels, np.int32)
        else:
            self.labels = as_label_map(shape_or_labels).copy()
        self.slice_key = tuple(slice_key)
        self.log: list[Stroke] = []
        self._redo: list[Stroke] = []
        self.version = 0  # counts every change (strokes, undo, redo), so a result can tell it is stale

    @property
    def shape(self) -> tuple[int, int]:
        return self.labels.shape  # type: ignore[return-value]

    @property
    def classes(self) -> list[int]:
        """Classes with at least one scribbled pixel, ascending."""
        return [int(c) for c in np.unique(self.labels) if c > 0]

    def is_empty(self) -> bool:
        return not np.any(self.labels)

    def last_stroke(self) -> np.ndarray:
        """(H, W) bool: the scribbled pixels of the last stroke in the log (what the model takes as the
        "current" stroke); every scribbled pixel when the log is empty (scribbles made from a map)."""
        if not self.log:
            return self.labels > 0
        mask = np.zeros(self.labels.size, bool)
        mask[self.log[-1].pixels] = True
        return mask.reshape(self.labels.shape) & (self.labels > 0)

    def add_stroke(self, label: int, mask: np.ndarray, geometry: np.ndarray | None = None) -> Stroke:
        """Paint ``label`` over the True pixels of ``mask`` (H, W) bool; label 0 erases. Returns the stroke."""
        mask = np.asarray(mask, bool)
        if mask.shape != self.labels.shape:
            raise InputError(f"stroke mask has shape {mask.shape}; the scribbles are {self.labels.shape}")
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
            raise InputError(f"class {label!r} is not an integer; classes are 1..{MAX_CLASSES} (0 erases)")
        if not 0 <= int(label) <= MAX_CLASSES:
            raise InputError(f"class {label} is out of range; use 1..{MAX_CLASSES} (0 erases)")
        pixels = np.flatnonzero(mask)
        flat = self.labels.reshape(-1)
        stroke = Stroke(
            int(label), pixels, np.full(pixels.size, label, np.int32), flat[pixels].copy(), self.slice_key,
            geometry=geometry,
        )
        flat[pixels] = label
        self.log.append(stroke)
        self._redo.clear()
        self.version += 1
        return stroke

    def add_path(self, label: int, points: np.ndarray, width: float = 3.0, closed: bool = False, fill: bool = False) -> Stroke:
        """Rasterise a (N, 2) (row, col) path ``width`` pixels wide and paint it as one stroke."""
        mask = rasterize_path(points, self.shape, width=width, closed=closed, fill=fill)
        return self.add_stroke(label, mask, geometry=np.asarray(points, float))

    def record_change(self, before: np.ndarray, after: np.ndarray) -> Stroke | None:
        """Log the difference between two label maps as a stroke (how a painted layer reports edits).

        Returns None when nothing changed. The most frequent new value is the stroke's label. Both maps
        must be (H, W) label maps of the scribbles' shape (the same checks as ``predict``).
        """
        before = as_label_map(before, self.shape)
        after = as_label_map(after, self.shape)
        changed = np.flatnonzero(before.reshape(-1) != after.reshape(-1))
        if changed.size == 0:
            return None
        values = after.reshape(-1)[changed]
        label = int(np.bincount(values.astype(np.int64)).argmax())
        stroke = Stroke(label, changed, values.astype(np.int32), before.reshape(-1)[changed].copy(), self.slice_key)
        self.labels.reshape(-1)[changed] = values
        self.log.append(stroke)
        self._redo.clear()
        self.version += 1
        return stroke

    def undo(self) -> Stroke | None:
        """Take back the last stroke, restoring what it overwrote. Returns it, or None if nothing to undo."""
        if not self.log:
            return None
        stroke = self.log.pop()
        self.labels.reshape(-1)[stroke.pixels] = stroke.previous
        self._redo.append(stroke)
        self.version += 1
        return stroke

    def redo(self) -> Stroke | None:
        """Paint again the last undone stroke. Returns it, or None if nothing to redo."""
        if not self._redo:
            return None
        stroke = self._redo.pop()
        flat = self.labels.reshape(-1)
        stroke.previous = flat[stroke.pixels].copy()
        flat[stroke.pixels] = stroke.values
        self.log.append(stroke)
        self.version += 1
        return stroke

    def clear(self) -> None:
        """Erase every stroke (undoable as one stroke)."""
        if np.any(self.labels):
            self.add_stroke(0, self.labels > 0)
