"""Instances: each accepted object gets the next id, never overwrites an earlier one, and can be taken back."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.instances import InstanceAnnotator


def _disk(shape, centre, r):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 < r * r


def test_objects_one_after_another_get_their_own_ids():
    committed = np.zeros((40, 40), np.int32)
    annotator = InstanceAnnotator(committed)
    ids = [annotator.commit((), _disk((40, 40), c, 6)) for c in [(10, 10), (10, 30), (30, 20)]]
    assert ids == [1, 2, 3] and set(np.unique(committed)) == {0, 1, 2, 3}
    big = _disk((40, 40), (10, 20), 12)  # overlaps objects 1 and 2
    assert annotator.commit((), big) == 4
    assert committed[10, 10] == 1 and committed[10, 30] == 2  # earlier objects are never overwritten
    assert annotator.occupied(())[10, 20]


def test_undo_takes_the_last_object_back_and_its_id():
    committed = np.zeros((20, 20), np.int32)
    committed[0, 0] = 7  # a label the user had: ids continue after it, and it stays
    annotator = InstanceAnnotator(committed)
    assert annotator.commit((), _disk((20, 20), (10, 10), 4)) == 8
    assert annotator.undo() == 8 and committed.max() == 7 and committed[0, 0] == 7
    assert annotator.next_id() == 8 and annotator.undo() is None


def test_slices_of_a_volume_and_ids_beyond_255():
    volume = np.zeros((3, 16, 16), np.uint16)
    volume[0, 0, 0] = 300
    annotator = InstanceAnnotator(volume)
    assert annotator.commit((1, 5), _disk((3, 16), (1, 8), 2)) == 301  # a slice across axis 1
    assert np.count_nonzero(volume[:, 5, :] == 301) > 0 and not np.any(volume[:, 4, :] == 301)
    annotator.undo()
    assert not np.any(volume == 301)


def test_bad_commits_are_refused():
    committed = np.ones((8, 8), np.uint8) * 255
    annotator = InstanceAnnotator(committed)
    with pytest.raises(InputError, match="no free pixel"):
        annotator.commit((), np.ones((8, 8), bool))
    committed[:] = 0
    committed[0, 0] = 255
    with pytest.raises(InputError, match="cannot hold id 256"):
        annotator.commit((), np.ones((8, 8), bool))
    with pytest.raises(InputError, match="integer"):
        InstanceAnnotator(np.zeros((4, 4), float))


def test_a_committed_object_is_corrected_under_its_id_and_the_correction_undone():
    committed = np.zeros((30, 30), np.int32)
    annotator = InstanceAnnotator(committed)
    first = annotator.commit((), _disk((30, 30), (10, 10), 5))
    second = annotator.commit((), _disk((30, 30), (10, 22), 5))
    before = committed.copy()
    corrected = _disk((30, 30), (12, 14), 7)  # grown towards object 2, shifted
    assert annotator.replace((), first, corrected) == first
    assert committed[12, 17] == first and committed[12, 18] == second  # grown, but never over the neighbour
    assert not np.any((committed == first) & ~corrected)
    annotator.undo()
    np.testing.assert_array_equal(committed, before)
    with pytest.raises(InputError, match="not on this slice"):
        annotator.replace((), 9, corrected)
