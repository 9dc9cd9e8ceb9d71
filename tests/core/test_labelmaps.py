"""One label-map check: scribbles, simulator inputs and labels to save refuse the same bad maps the same way."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.labelmaps import check_label_map
from napari_scribbleseg.scribbles import as_label_map
from napari_scribbleseg.simulate import perturb_label_map


def test_the_same_bad_map_is_refused_alike_by_every_entry():
    halves = np.full((6, 6), 0.5)
    negative = -np.ones((6, 6), np.int32)
    for check in (lambda a: as_label_map(a), lambda a: perturb_label_map(a, 0), lambda a: check_label_map(a, "labels")):
        with pytest.raises(InputError, match="non-integer values; use an integer label map"):
            check(halves)
        with pytest.raises(InputError, match="negative values; use 0 for none"):
            check(negative)
        with pytest.raises(InputError, match=r"is 3-D with shape \(2, 6, 6\); pass one 2-D"):
            check(np.zeros((2, 6, 6), np.int32))


def test_whole_floats_and_bools_are_label_maps_where_allowed():
    assert as_label_map(np.full((3, 3), 2.0)).dtype == np.int32 and as_label_map(np.full((3, 3), 2.0)).max() == 2
    assert check_label_map(np.eye(3, dtype=bool), "mask").dtype == np.uint8
    with pytest.raises(InputError, match="non-integer"):
        check_label_map(np.full((3, 3), 2.0), "gt", whole_floats=False)
    with pytest.raises(InputError, match=r"prev has shape \(3, 4\) but the image is \(3, 3\)"):
        check_label_map(np.zeros((3, 4), int), "prev", shape=(3, 3))
