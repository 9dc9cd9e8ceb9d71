"""The medial axis of a binary mask: scikit-image's algorithm with its lookup tables built once.

``skimage.morphology.medial_axis`` rebuilds two 512-entry tables on every call (1,024 ``ndimage.label``
calls, about 50 ms), which is most of the simulator's time per corrective stroke: training's no-grad passes
and the evaluation loop skeletonise an error region for almost every correction. :func:`medial_axis` builds
the tables once and then runs scikit-image's own steps (distance transform, cornerness, the tie-broken order,
its compiled removal loop), so its skeletons are the same pixel for pixel (tests/core/test_medial_axis.py).
Where that compiled loop is not importable (another scikit-image layout) it falls back to the public function.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage as ndi

try:  # the compiled helpers of skimage.morphology.medial_axis (private; checked by the tests)
    from skimage.morphology._skeletonize import _table_lookup
    from skimage.morphology._skeletonize_various_cy import _skeletonize_loop
except ImportError:  # pragma: no cover - depends on the installed scikit-image
    _table_lookup = _skeletonize_loop = None

_EIGHT = ndi.generate_binary_structure(2, 2)


def _pattern(index: int) -> np.ndarray:
    """The 3x3 neighbourhood whose bits (row-major, centre = bit 4) make ``index``."""
    return np.array([bool(index & (1 << b)) for b in range(9)]).reshape(3, 3)


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """(keep, cornerness): keep a foreground centre pixel if removing it changes the number of 8-connected
    components or it has fewer than 3 pixels in its neighbourhood; cornerness = background pixels around it."""
    patterns = [_pattern(i) for i in range(512)]
    centre_off = [_pattern(i & ~(1 << 4)) for i in range(512)]
    changes = np.array([ndi.label(p, _EIGHT)[1] != ndi.label(q, _EIGHT)[1] for p, q in zip(patterns, centre_off)])
    sparse = np.array([p.sum() < 3 for p in patterns])
    centre = (np.arange(512) & (1 << 4)).astype(bool)
    keep = np.ascontiguousarray(centre & (changes | sparse), dtype=np.uint8)
    cornerness = np.array([9 - p.sum() for p in patterns])
    return keep, cornerness


def medial_axis(image: np.ndarray, rng: int = 0) -> np.ndarray:
    """Medial axis (bool, same shape) of the 2-D binary ``image``; ``rng`` seeds the tie-break as in scikit-image."""
    if _skeletonize_loop is None:  # pragma: no cover - depends on the installed scikit-image
        from skimage.morphology import medial_axis as reference

        return reference(image, rng=rng)
    masked = np.asarray(image).astype(bool)
    keep, cornerness = _tables()
    distance = ndi.distance_transform_edt(masked)
    corner_score = _table_lookup(masked, cornerness)
    rows, cols = np.mgrid[0 : masked.shape[0], 0 : masked.shape[1]]
    result = np.ascontiguousarray(masked, np.uint8)
    rows = np.ascontiguousarray(rows[masked], dtype=np.intp)
    cols = np.ascontiguousarray(cols[masked], dtype=np.intp)
    tiebreaker = np.random.default_rng(rng).permutation(np.arange(masked.sum()))
    order = np.ascontiguousarray(np.lexsort((tiebreaker, corner_score[masked], distance[masked])), dtype=np.int32)
    _skeletonize_loop(result, rows, cols, order, keep)
    return result.astype(bool)
