"""The zoom-in crop transform: boxes, image <-> crop round trips, stroke rasterisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from napari_scribbleseg.model import CropTransform
from napari_scribbleseg.model.crop import zoom_extents


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/core/conftest.py


def _smooth(h: int, w: int) -> torch.Tensor:
    y, x = np.mgrid[0:h, 0:w]
    return torch.from_numpy(np.sin(y / 11.0) + np.cos(x / 7.0)).float()[None, None]


def test_box_around_mask_is_expanded_square_and_inside():
    mask = np.zeros((1, 200, 300), bool)
    mask[0, 80:120, 100:130] = True  # 40 x 30
    crop = CropTransform.around(mask, expand=1.4)
    y0, x0, y1, x1 = crop.boxes[0]
    assert np.isclose(y1 - y0, 56) and np.isclose(x1 - x0, 56)
    assert y0 <= 80 and y1 >= 120 and x0 <= 100 and x1 >= 130
    edge = np.zeros((1, 200, 300), bool)
    edge[0, 0:10, 290:300] = True  # near a corner: shifted inside, not shrunk
    y0, x0, y1, x1 = CropTransform.around(edge, min_size=48).boxes[0]
    assert y0 == 0 and x1 == 300 and np.isclose(y1 - y0, 48)


def test_empty_mask_gives_whole_image():
    crop = CropTransform.around(np.zeros((2, 50, 60), bool))
    assert crop.is_full.all()


def test_full_crop_round_trips_exactly():
    image = _smooth(100, 80)
    crop = CropTransform.full((100, 80))
    back = crop.from_crop(crop.to_crop(image, (100, 80)))
    torch.testing.assert_close(back, image, atol=1e-5, rtol=0)


def test_zoom_crop_round_trips_inside_the_box():
    image = _smooth(120, 100)
    mask = np.zeros((2, 120, 100), bool)
    mask[0, 30:60, 20:45] = True
    mask[1, 70:110, 50:95] = True
    crop = CropTransform.around(mask)
    back = crop.from_crop(crop.to_crop(image, 128))
    rows, cols = np.mgrid[0:120, 0:100] + 0.5  # pixel centres
    for i, (y0, x0, y1, x1) in enumerate(crop.boxes):
        inner = (rows > y0 + 1) & (rows < y1 - 1) & (cols > x0 + 1) & (cols < x1 - 1)
        err = (back[i, 0] - image[0, 0])[torch.from_numpy(inner)].abs().max()
        assert err < 0.01
        outside = (rows < y0) | (rows > y1) | (cols < x0) | (cols > x1)
        assert back[i, 0][torch.from_numpy(outside)].abs().max() == 0  # nothing pasted outside the box


def test_to_crop_equals_affine_grid_sample():
    image = torch.rand(1, 3, 64, 48)
    mask = np.zeros((2, 64, 48), bool)
    mask[0, 10:20, 10:30] = True
    mask[1, 40:60, 5:15] = True
    crop = CropTransform.around(mask)
    h, w = crop.image_shape
    b = torch.as_tensor(crop.boxes, dtype=torch.float32)
    theta = torch.zeros(2, 2, 3)
    theta[:, 0, 0] = (b[:, 3] - b[:, 1]) / w
    theta[:, 0, 2] = (b[:, 3] + b[:, 1]) / w - 1
    theta[:, 1, 1] = (b[:, 2] - b[:, 0]) / h
    theta[:, 1, 2] = (b[:, 2] + b[:, 0]) / h - 1
    grid = F.affine_grid(theta, [2, 3, 32, 32], align_corners=False)
    reference = F.grid_sample(image.expand(2, -1, -1, -1), grid, align_corners=False)
    torch.testing.assert_close(crop.to_crop(image, 32), reference, atol=1e-5, rtol=0)


def test_features_of_any_resolution_use_the_same_boxes():
    image = _smooth(128, 128)
    low = F.avg_pool2d(image, 4)  # a stride-4 map of the same image
    mask = np.zeros((1, 128, 128), bool)
    mask[0, 40:80, 40:80] = True
    crop = CropTransform.around(mask)
    a = crop.to_crop(image, 16)
    b = crop.to_crop(low, 16)
    assert (a - b).abs().mean() < 0.05


def test_rasterize_covers_every_pixel_it_is_given():
    crop = CropTransform.full((300, 300), 1)
    points = np.array([[0, 0], [150, 150], [299, 299]])
    canvas = crop.rasterize(points, np.ones((1, 1, 3), bool), 64)
    assert canvas.shape == (1, 1, 64, 64) and canvas.sum() == 3
    assert canvas[0, 0, 0, 0] == 1 and canvas[0, 0, 63, 63] == 1
    zoom = CropTransform(np.array([[140.0, 140.0, 160.0, 160.0]]), (300, 300))
    block = zoom.rasterize(points, np.ones((1, 1, 3), bool), 64)
    # pixel [150, 151) of the box [140, 160) covers cells [32, 36) of 64 along each axis
    assert block.sum() == 16 and block[0, 0, 32:36, 32:36].all()


def test_zoom_extents_follow_the_sessions_rule():
    labels = np.zeros((40, 40), np.int32)
    labels[5, 5:10] = 1
    labels[30, 30:35] = 2
    labels[20, 38] = 1  # a stroke outside the previous mask widens the extent
    prev = np.zeros((40, 40), np.int32)
    prev[2:12, 2:12] = 1  # class 2 has no previous mask yet
    prev[15:18, 15:18] = 3  # a class not asked for
    assert zoom_extents(labels, [1, 2], prev) == [(2, 2, 21, 39), None]  # None -> the whole image
    assert zoom_extents(labels, [1, 2]) == [None, None]  # first interaction: no zoom
    disks = {2: np.zeros((40, 40), bool)}
    disks[2][10:14, 20:25] = True
    assert zoom_extents(labels, [1, 2], None, disks) == [None, (10, 20, 14, 25)]
    masks = np.stack([(prev == 1) | (labels == 1), np.zeros((40, 40), bool)])
    np.testing.assert_array_equal(CropTransform.around(masks).boxes, CropTransform.around_extents(zoom_extents(labels, [1, 2], prev), (40, 40)).boxes)
