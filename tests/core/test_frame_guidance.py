"""The frame cue (guidance "colour_frame"): each class's colours against those of the implicit background frame."""

from __future__ import annotations

import numpy as np

from napari_scribbleseg.model.guidance import colour_bins, colour_ratios, frame_histogram, guidance_layout, guidance_maps
from napari_scribbleseg.scribbles import implicit_background


def _object_on_a_background(disc: tuple[float, float, float] = (0.9, 0.1, 0.1)) -> tuple[np.ndarray, np.ndarray]:
    """A red disc on a blue background with a green band through the middle; one stroke inside the disc.

    The whole image holds a lot of red (the disc is large), so against the whole image red is only weakly the
    object's; the border holds no red at all."""
    yy, xx = np.mgrid[:80, :100]
    rgb = np.zeros((80, 100, 3), np.float32)
    rgb[:] = (0.1, 0.2, 0.9)
    rgb[35:45] = (0.1, 0.9, 0.2)
    rgb[(yy - 40) ** 2 + (xx - 50) ** 2 < 30**2] = disc
    strokes = np.zeros((80, 100), np.int32)
    strokes[38:42, 45:55] = 1
    return rgb, strokes


def test_the_frame_is_the_border_outside_the_strokes_enlarged_box():
    _, strokes = _object_on_a_background()
    frame = implicit_background(strokes > 0)
    assert frame[0].all() and frame[-1].all() and frame[:, 0].all()  # the border, far from the stroke
    assert not frame[5:-5, 5:-5].any()  # nothing inside
    assert not (frame & (strokes > 0)).any()


def test_against_the_frame_the_object_colour_is_its_class_and_the_border_colour_is_not():
    rgb, strokes = _object_on_a_background()
    bins = colour_bins(rgb)
    red, blue = bins.index[40, 50], bins.index[2, 2]
    whole = colour_ratios(bins, strokes, [1])[0]
    frame = colour_ratios(bins, strokes, [1], rival=frame_histogram(bins, strokes))[0]
    assert frame[red] > 0.99 and frame[blue] < 0.01
    assert frame[red] > whole[red]  # the whole image's rival holds the disc's own red


def test_the_layout_adds_one_channel_after_the_colour_one_and_both_are_filled():
    rgb, strokes = _object_on_a_background()
    layout = guidance_layout("colour_frame")
    assert layout[: len(guidance_layout("colour"))] == guidance_layout("colour")  # widens a colour model
    assert layout[-1] == "colour_frame"
    maps = guidance_maps(strokes, kind="colour_frame", colour=colour_bins(rgb))
    assert maps.shape == (1, len(layout), 80, 100)
    assert maps[0, -1, 15, 50] > 0.99 and maps[0, -1, 2, 2] < 0.01  # disc's red vs the border's blue


def test_a_padded_training_view_takes_its_frame_and_histogram_from_its_own_pixels():
    rgb, strokes = _object_on_a_background(disc=(0.0, 0.0, 0.0))
    padded = np.zeros((112, 112, 3), np.float32)  # padded at the bottom and right, as training's views are
    padded[:80, :100] = rgb
    labels = np.zeros((112, 112), np.int32)
    labels[:80, :100] = strokes
    valid = np.zeros((112, 112), bool)
    valid[:80, :100] = True
    black = colour_bins(padded).index[40, 50]
    own = colour_bins(padded, valid)
    assert own.extent == (0, 0, 80, 100) and own.histogram.sum() == valid.sum()
    assert colour_ratios(own, labels, [1], rival=frame_histogram(own, labels))[0][black] > 0.99
    # without the view's extent, the black padding is half the frame and the disc's colour half the background's
    blind = colour_bins(padded)
    assert colour_ratios(blind, labels, [1], rival=frame_histogram(blind, labels))[0][black] < 0.8
