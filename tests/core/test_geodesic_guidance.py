"""The geodesic cue (guidance "colour_geodesic"): each class's strokes' closeness over the image's grey edges."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scribbleseg.model.edges import grey_guide
from napari_scribbleseg.model.guidance import colour_bins, guidance_layout, guidance_maps


def _disk_image(contrast: float) -> np.ndarray:
    yy, xx = np.mgrid[:128, :128]
    image = np.full((128, 128, 3), 0.1, np.float32)
    image[(yy - 64) ** 2 + (xx - 64) ** 2 < 30**2] += contrast
    return image


def _maps(image: np.ndarray, labels: np.ndarray, classes: list[int]) -> np.ndarray:
    return guidance_maps(labels, classes, kind="colour_geodesic", colour=colour_bins(image), guide=grey_guide(image))


def test_an_edge_stops_the_closeness_of_the_strokes_inside_it():
    labels = np.zeros((128, 128), np.int32)
    labels[60:68, 60:68] = 1
    layout = guidance_layout("colour_geodesic")
    pos, neg = layout.index("geo_pos"), layout.index("geo_neg")
    flat, edged = _maps(_disk_image(0.0), labels, [1])[0], _maps(_disk_image(0.7), labels, [1])[0]
    assert flat[pos, 64, 64] == pytest.approx(1.0)  # on the strokes
    inside, outside = (64, 64 + 24), (64, 64 + 36)  # either side of the disk's edge (radius 30)
    assert flat[pos][inside] > flat[pos][outside] > 0.2  # on a flat image only the distance counts
    assert edged[pos][inside] > 0.5 * flat[pos][inside]
    assert edged[pos][outside] < 0.3 * flat[pos][outside]  # across the edge the path is expensive
    assert not edged[neg].any()  # no other class scribbled: no rival closeness


def test_every_other_class_is_the_rival_and_a_missing_guide_is_named():
    labels = np.zeros((128, 128), np.int32)
    labels[60:68, 60:68] = 1
    labels[5:10, 5:10] = 2
    layout = guidance_layout("colour_geodesic")
    maps = _maps(_disk_image(0.7), labels, [1, 2])
    assert maps.shape == (2, len(layout), 128, 128)
    pos, neg = layout.index("geo_pos"), layout.index("geo_neg")
    np.testing.assert_allclose(maps[0, neg], maps[1, pos], atol=0.05)  # class 1's rival is class 2's strokes
    assert maps[1, neg, 64, 64] > maps[1, pos, 64, 64]  # inside the disk, class 1 is the closer one
    with pytest.raises(ValueError, match="grey guide"):
        guidance_maps(labels, [1, 2], kind="colour_geodesic", colour=colour_bins(_disk_image(0.7)))


@pytest.mark.parametrize("shared_box", [True, False])
def test_the_shared_solves_give_each_channels_own_minimum_cost_paths(shared_box):
    """Against scikit-image's minimum-cost paths solved for every channel on its own."""
    import torch
    from skimage.graph import MCP_Geometric

    from napari_scribbleseg.model.crop import CropTransform
    from napari_scribbleseg.model.edges import guide_crops
    from napari_scribbleseg.model.guidance import GEODESIC_BETA, GEODESIC_CELLS, GEODESIC_TAU, geodesic_crops

    rng = np.random.default_rng(3)
    guide = torch.from_numpy(rng.random((96, 80)).astype(np.float32))
    boxes = np.array([[0, 0, 96, 80]] * 3 if shared_box else [[0, 0, 96, 80], [10, 5, 70, 65], [0, 0, 96, 80]], float)
    crop = CropTransform(boxes, (96, 80))
    g = GEODESIC_CELLS
    own = rng.random((3, g, g)) < 0.01
    own[2] = False  # a class without strokes of its own
    seeds = np.stack([own, np.stack([own[[j for j in range(3) if j != k]].any(0) for k in range(3)])], 1)
    seeds[1, 1, 0, :5] = True  # class 2's rivals include a stroke that is no listed class's own
    got = geodesic_crops(guide, crop, seeds)

    cells, index = guide_crops(guide, crop.boxes, g)
    for k in range(3):
        cost = 1.0 + GEODESIC_BETA * np.hypot(*np.gradient(cells[index[k], 0].numpy().astype(np.float64)))
        for c in range(2):
            if not seeds[k, c].any():
                assert not got[k, c].any()
                continue
            distance, _ = MCP_Geometric(cost, fully_connected=True).find_costs(np.argwhere(seeds[k, c]))
            np.testing.assert_allclose(got[k, c], np.exp(-distance / GEODESIC_TAU), rtol=1e-5, atol=1e-6)
