"""Training views: the scale a view shows an image at."""

from __future__ import annotations

import numpy as np

from training.augment import whole_view
from training.sources.base import Sample


def _stripes(h: int, w: int, period: int) -> Sample:
    """Horizontal stripes ``period`` px thick: region 1 on odd stripes."""
    rows = (np.arange(h) // period) % 2 == 1
    regions = np.repeat(rows[:, None], w, axis=1).astype(np.int32)
    image = np.stack([regions * 200] * 3, -1).astype(np.uint8)
    return Sample(image, regions, None, "stripes")


def _stripe_thickness(view_regions: np.ndarray, valid: np.ndarray) -> float:
    """Median length of the runs of one value down the first valid column, the runs at the ends left out."""
    column = view_regions[valid[:, 0], 0]
    edges = np.flatnonzero(np.diff(column)) + 1
    return float(np.median(np.diff(edges)))


def test_without_base_the_whole_image_fits_the_view() -> None:
    view = whole_view(_stripes(1000, 800, 100), 100, np.random.default_rng(0), (1.0, 1.0))
    assert _stripe_thickness(view.regions, view.valid) == 10  # long side 1000 -> 100
    assert not view.valid.all()  # an 80 px wide image is padded to 100


def test_base_shows_large_images_at_the_encoders_scale_and_crops() -> None:
    view = whole_view(_stripes(1000, 800, 100), 160, np.random.default_rng(0), (1.0, 1.0), base=500)
    assert view.regions.shape == (160, 160) and view.valid.all()  # a crop of the 500x400 image
    assert _stripe_thickness(view.regions, view.valid) == 50


def test_base_never_enlarges_images_smaller_than_it() -> None:
    view = whole_view(_stripes(120, 90, 10), 256, np.random.default_rng(0), (1.0, 1.0), base=512)
    assert view.valid.sum() == 120 * 90  # native size, padded into the 256 view
    assert _stripe_thickness(view.regions, view.valid) == 10
