"""Instance annotation: objects accepted one after another, each under its own label id.

For cells and nuclei a committed label map holds one id per object, not one value per class. An
:class:`InstanceAnnotator` writes each accepted object mask under the next free id into that map, only
on pixels no earlier object holds (a new object never overwrites its neighbour), remembers what it
wrote so the last accept can be taken back, and tells the prediction which pixels are taken (they
count as background for the next object). Qt-free: the widget and scripts use it alike.

Examples
--------
>>> committed = np.zeros((8, 8), np.int32)
>>> annotator = InstanceAnnotator(committed)
>>> mask = np.zeros((8, 8), bool); mask[1:3, 1:3] = True
>>> annotator.commit((), mask)
1
>>> annotator.commit((), np.ones((8, 8), bool))  # the second object takes only the free pixels
2
>>> int(committed[1, 1]), int(committed[5, 5])
(1, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.slicing import slice_key


@dataclass
class _Commit:
    key: tuple
    label: int
    pixels: np.ndarray  # row-major flat indices into the slice written
    before: np.ndarray  # what those pixels held before (0: they were free)


class InstanceAnnotator:
    """Commit object masks into ``committed`` (a 2-D map or a (Z, Y, X) volume, written in place).

    Parameters
    ----------
    committed : int array
        The label map objects are written into (e.g. a napari Labels layer's data); ids already in it
        are kept and the next id continues after the largest.
    """

    def __init__(self, committed: np.ndarray) -> None:
        if not np.issubdtype(np.asarray(committed).dtype, np.integer):
            raise InputError(f"the committed labels hold {committed.dtype} values; instance ids need an integer layer")
        self.committed = committed
        self._next = int(committed.max()) + 1 if committed.size else 1
        self._history: list[_Commit] = []

    def _slice(self, key: tuple) -> np.ndarray:
        return self.committed if not key else self.committed[slice_key(key)]

    def next_id(self) -> int:
        """The id the next object gets."""
        return self._next

    def occupied(self, key: tuple) -> np.ndarray:
        """(H, W) bool: pixels of slice ``key`` that committed objects hold (background for the next one)."""
        return self._slice(key) != 0

    def commit(self, key: tuple, mask: np.ndarray, label: int | None = None) -> int:
        """Write the (H, W) bool ``mask`` of slice ``key`` as a new object on its free pixels; returns its id.

        ``label``: the id of an object already committed elsewhere that continues here (propagation
        through a volume); default a new id. Raises :class:`InputError` when the mask adds no free pixel.
        """
        target = self._slice(key)
        mask = np.asarray(mask, bool)
        if mask.shape != target.shape:
            raise InputError(f"the object mask is {mask.shape} but the slice is {target.shape}")
        free = mask & (target == 0)
        if not free.any():
            raise InputError("the object covers no free pixel (all of it belongs to objects accepted before); paint a new object")
        label = self._next if label is None else int(label)
        if label > np.iinfo(self.committed.dtype).max:
            raise InputError(
                f"the committed layer's {self.committed.dtype} cannot hold id {label}; use a uint16/uint32 layer"
            )
        # row-major flat indices of the slice (a volume's slice may be a strided view: no reshape)
        self._history.append(_Commit(key, label, np.flatnonzero(free), target[free].copy()))
        target[free] = label
        self._next = max(self._next, label + 1)
        return label

    def replace(self, key: tuple, label: int, mask: np.ndarray) -> int:
        """Write object ``label`` of slice ``key`` anew as the (H, W) bool ``mask`` (a correction).

        Its pixels outside ``mask`` become 0; pixels of ``mask`` that are free or already ``label`` take
        it; other objects are never overwritten. Undoable like :meth:`commit`. Returns ``label``.
        """
        target = self._slice(key)
        mask = np.asarray(mask, bool)
        if mask.shape != target.shape:
            raise InputError(f"the object mask is {mask.shape} but the slice is {target.shape}")
        if not np.any(target == label):
            raise InputError(f"object {label} is not on this slice; pick an object shown here")
        new = mask & ((target == 0) | (target == label))
        if not new.any():
            raise InputError(f"the corrected object {label} covers no pixel; paint it again, or Undo")
        changed = (target == label) != new
        self._history.append(_Commit(key, label, np.flatnonzero(changed), target[changed].copy()))
        target[changed & new] = label
        target[changed & ~new] = 0
        return label

    def undo(self) -> int | None:
        """Take the last committed object back (its pixels that still hold its id become 0 again).

        Returns its id, or None when nothing was committed.
        """
        if not self._history:
            return None
        last = self._history.pop()
        target = self._slice(last.key)
        rows, cols = np.unravel_index(last.pixels, target.shape)
        # a pixel is put back while it still holds what this step wrote (its id, or 0 where a
        # correction cleared it); an edit made since is kept
        wrote = np.where(last.before == last.label, 0, last.label)
        still = target[rows, cols] == wrote
        target[rows[still], cols[still]] = last.before[still]
        if last.label == self._next - 1 and not np.any(self.committed == last.label):
            self._next = last.label
        return last.label

    def last_label(self, key: tuple) -> int | None:
        """The id last committed or corrected on slice ``key`` (None if none is left there)."""
        for step in reversed(self._history):
            if step.key == key and np.any(self._slice(key) == step.label):
                return step.label
        return None

    @property
    def n_committed(self) -> int:
        """Objects committed (and not undone) through this annotator."""
        return len(self._history)
