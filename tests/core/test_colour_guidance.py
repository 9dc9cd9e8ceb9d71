"""The colour cue (guidance "colour"): each class's colour likelihood on the image, from its strokes."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scribbleseg.model.guidance import colour_bins, colour_likelihood, guidance_layout, guidance_maps


def _two_colours() -> tuple[np.ndarray, np.ndarray]:
    rgb = np.zeros((40, 60, 3), np.float32)
    rgb[:, :30] = (0.9, 0.1, 0.1)  # red left half
    rgb[:, 30:] = (0.1, 0.2, 0.9)  # blue right half
    strokes = np.zeros((40, 60), np.int32)
    strokes[20, 5:15] = 1
    strokes[20, 45:55] = 2
    return rgb, strokes


def test_a_class_is_likely_where_the_colour_of_its_strokes_is():
    rgb, strokes = _two_colours()
    like = colour_likelihood(colour_bins(rgb), strokes, [1, 2])
    assert like.shape == (2, 40, 60) and like.dtype == np.float32
    assert like[0, :, :30].min() > 0.9 and like[0, :, 30:].max() < 0.1  # class 1: red
    assert like[1, :, 30:].min() > 0.9 and like[1, :, :30].max() < 0.1  # class 2: blue


def test_with_one_class_the_rival_is_the_whole_image():
    rgb, strokes = _two_colours()
    strokes[strokes == 2] = 0
    like = colour_likelihood(colour_bins(rgb), strokes, [1])[0]
    assert like[:, :30].mean() > like[:, 30:].mean() + 0.3  # red is more likely its class than blue


def test_grey_images_are_binned_by_intensity_and_the_channel_is_in_the_layout():
    grey = np.repeat(np.linspace(0, 1, 64, dtype=np.float32)[None, :, None], 3, 2).repeat(8, 0)
    bins = colour_bins(grey)
    assert bins.grid == (64, 1, 1) and bins.index.max() == 63
    assert guidance_layout("colour")[-1] == "colour" and len(guidance_layout("colour")) == 6
    _, strokes = _two_colours()
    maps = guidance_maps(strokes, kind="colour", colour=colour_bins(_two_colours()[0]))
    assert maps.shape == (2, 6, 40, 60) and maps[0, 5, 10, 10] > 0.9
    with pytest.raises(ValueError, match="colour bins"):
        guidance_maps(strokes, kind="colour")


def test_colour_crops_are_the_likelihood_map_resampled_into_each_zoom_box():
    import torch

    from napari_scribbleseg.model.crop import CropTransform
    from napari_scribbleseg.model.guidance import colour_crops, colour_ratios

    rng = np.random.default_rng(0)
    rgb = rng.random((90, 130, 3)).astype(np.float32)
    strokes = np.zeros((90, 130), np.int32)
    strokes[10:14, 10:60], strokes[60:64, 30:120], strokes[40:42, 100:125] = 1, 2, 3
    bins = colour_bins(rgb)
    boxes = np.array([[3.3, 7.7, 50.2, 61.9], [0, 0, 90, 130], [30.5, 80.0, 89.0, 129.5]])
    for crop in (CropTransform.full(strokes.shape, 3), CropTransform(boxes, (90, 130))):
        whole_map = torch.from_numpy(colour_likelihood(bins, strokes, [1, 2, 3]))[:, None]
        expected = crop.to_crop(whole_map, (48, 40)).numpy()
        got = colour_crops(bins, colour_ratios(bins, strokes, [1, 2, 3]), crop, (48, 40))
        assert got.shape == (3, 1, 48, 40)
        np.testing.assert_allclose(got, expected, atol=1e-5)
