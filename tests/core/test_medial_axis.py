"""The simulator's medial axis is scikit-image's, pixel for pixel, without rebuilding its tables per call."""

import numpy as np
import pytest
from scipy import ndimage
from skimage.morphology import medial_axis as reference

from napari_scribbleseg.simulate import medial
from napari_scribbleseg.simulate.medial import medial_axis


def _blobs(seed: int, shape=(90, 130)) -> np.ndarray:
    """Smoothed noise thresholded: several components, holes, thin necks and corners."""
    noise = np.random.default_rng(seed).normal(size=shape)
    return ndimage.gaussian_filter(noise, 3.0) > 0.05


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("rng", [0, 7])
def test_same_skeleton_as_scikit_image(seed, rng):
    mask = _blobs(seed)
    assert mask.any() and not mask.all()
    np.testing.assert_array_equal(medial_axis(mask, rng=rng), reference(mask, rng=rng))


@pytest.mark.parametrize(
    "mask",
    [
        np.zeros((5, 5), bool),
        np.ones((1, 7), bool),  # thinner than the 3x3 neighbourhood
        np.pad(np.ones((2, 9), bool), 1),
        np.pad(np.eye(12, dtype=bool) | np.eye(12, dtype=bool)[::-1], 2),
        np.pad(np.ones((20, 31), bool), 3),
    ],
    ids=["empty", "row", "bar", "cross", "rectangle"],
)
def test_same_skeleton_on_small_and_degenerate_masks(mask):
    np.testing.assert_array_equal(medial_axis(mask), reference(mask, rng=0))


def test_tables_are_built_once(monkeypatch):
    medial_axis(_blobs(0))
    calls = []
    monkeypatch.setattr(medial.ndi, "label", lambda *a, **k: calls.append(1) or (None, 0))
    medial_axis(_blobs(1))
    assert not calls, "the lookup tables were rebuilt on a second call"


def test_compiled_loop_is_used():
    """The fast path must be live on the supported scikit-image; else every call pays the tables again."""
    assert medial._skeletonize_loop is not None and medial._table_lookup is not None
