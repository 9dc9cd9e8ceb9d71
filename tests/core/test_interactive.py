"""The Qt-free interactive loop: strokes, undo, stale results, accept that keeps foreign labels."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.interactive import InteractiveSegmenter, check_image, merge_owned


class NearestSeed:
    """Each pixel takes the class of the nearest scribbled pixel (a tiny exact predictor)."""

    def __init__(self):
        self.images = 0

    def set_image(self, image):
        self.images += 1
        self.shape = image.shape[:2]

    def predict(self, scribbles, prev=None):
        from scipy import ndimage

        _, idx = ndimage.distance_transform_edt(scribbles == 0, return_indices=True)
        return scribbles[idx[0], idx[1]].astype(np.int32)


def _stroke(seg, key, label, rows, cols):
    painted = seg.scribbles_of(key).labels.copy()
    painted[rows, cols] = label
    return seg.record(key, painted)


def test_two_classes_split_the_image_and_undo_follows():
    seg = InteractiveSegmenter(NearestSeed(), np.zeros((20, 30)))
    _stroke(seg, (), 1, slice(5, 8), slice(2, 5))
    _stroke(seg, (), 2, slice(5, 8), slice(25, 28))
    result = seg.run(seg.request(()))
    assert seg.deliver(result)
    assert result.labels[6, 0] == 1 and result.labels[6, 29] == 2
    seg.undo(())
    labels = seg.run(seg.request(())).labels
    assert set(np.unique(labels)) == {1}
    seg.redo(())
    assert set(np.unique(seg.run(seg.request(())).labels)) == {1, 2}


def test_stale_result_is_dropped():
    seg = InteractiveSegmenter(NearestSeed(), np.zeros((10, 10)))
    _stroke(seg, (), 1, 2, slice(0, 3))
    old = seg.run(seg.request(()))
    _stroke(seg, (), 2, 8, slice(0, 3))
    assert not seg.deliver(old)
    assert () not in seg.predictions
    assert seg.deliver(seg.run(seg.request(())))


def test_volume_slices_keep_their_own_strokes_and_features():
    pred = NearestSeed()
    seg = InteractiveSegmenter(pred, np.zeros((4, 10, 12)))
    key = seg.slice_key(0, 2)
    _stroke(seg, key, 1, 3, 3)
    seg.run(seg.request(key))
    seg.run(seg.request(key))
    assert pred.images == 1  # features of one slice computed once
    other = seg.slice_key(2, 5)
    assert seg.slice_shape(other) == (4, 10)
    assert not np.any(seg.scribbles_of(other).labels)
    assert seg.neighbours(key) == [(0, 3), (0, 1)]


def test_accept_keeps_labels_it_does_not_own():
    committed = np.zeros((4, 4), np.int32)
    committed[0, 0] = 7  # the user's own label
    owned = np.zeros((4, 4), np.int32)
    first = np.ones((4, 4), np.int32)
    committed, owned = merge_owned(committed, owned, first)
    assert committed[0, 0] == 7 and committed[1, 1] == 1 and owned[0, 0] == 0
    second = np.zeros((4, 4), np.int32)
    second[3, 3] = 2
    second[2, 2] = 5  # background class: not written
    committed, owned = merge_owned(committed, owned, second, background=[5])
    assert committed[0, 0] == 7 and committed[3, 3] == 2 and committed[1, 1] == 0 and committed[2, 2] == 0


def test_reaccept_keeps_a_hand_edit_of_a_pixel_it_wrote():
    committed, written = merge_owned(np.zeros(4, np.int32), np.zeros(4, np.int32), np.array([1, 1, 1, 0]))
    committed[2] = 7  # the user corrects a pixel the accept wrote
    committed, written = merge_owned(committed, written, np.array([1, 1, 0, 0]))
    assert committed.tolist() == [1, 1, 7, 0]
    committed, written = merge_owned(committed, written, np.array([2, 2, 2, 2]))
    assert committed.tolist() == [2, 2, 7, 2]  # still the user's, even when the prediction claims it


@pytest.mark.parametrize(
    "image, rgb, words",
    [
        (np.zeros((2, 3, 8, 8)), False, "4-D"),
        (np.zeros((8, 8, 4)), True, "channels"),
        (np.zeros((8, 8), np.complex64), False, "complex dtype"),
        (np.zeros((6, 1, 8)), False, "at least 2"),  # a volume with a one-pixel axis
        (np.zeros((1, 8)), False, "at least 2"),
    ],
)
def test_bad_images_name_the_fix(image, rgb, words):
    with pytest.raises(InputError, match=words):
        check_image(image, rgb)


def test_huge_slice_is_refused_without_allocating():
    huge = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), shape=(5000, 5000), strides=(0, 0))
    with pytest.raises(InputError, match="5000x5000 .* more than the 16777216.*crop the region of interest or downsample"):
        check_image(huge)


def test_prefetch_hands_session_style_pairs_with_slice_keys():
    class Cached(NearestSeed):
        def prepare(self, items, kind="auto"):
            self.prepared = [(key, image.shape, kind) for key, image in items]

    pred = Cached()
    seg = InteractiveSegmenter(pred, np.zeros((5, 8, 9)), kind="ct")
    assert seg.prefetch(seg.neighbours(seg.slice_key(1, 4), reach=2)) == 4
    keys = [key[1:] for key, _, _ in pred.prepared]
    assert keys == [(1, 5), (1, 3), (1, 6), (1, 2)] and {shape for _, shape, _ in pred.prepared} == {(5, 9)}
    assert {kind for *_, kind in pred.prepared} == {"ct"}
    assert seg.prefetch([]) == 0 and InteractiveSegmenter(NearestSeed(), np.zeros((3, 4, 4))).prefetch([(0, 1)]) == 0


def test_headless_main_prints_a_summary(capsys):
    from napari_scribbleseg.__main__ import main

    assert main(["--headless", "--model", "growcut", "--max-interactions", "2"]) == 0
    out = capsys.readouterr().out
    assert "growcut" in out and "NoI@90" in out and "liver" in out


def test_without_a_display_the_first_line_says_so(capsys, monkeypatch):
    from napari_scribbleseg import __main__

    monkeypatch.setattr(__main__, "has_display", lambda: False)
    monkeypatch.setattr(__main__, "headless_summary", lambda *a: "the table")
    assert __main__.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("no display: running the headless evaluation") and "xvfb-run" in lines[0]
    assert lines[1] == "the table"


def test_a_later_request_wins_whatever_the_delivery_order():
    seg = InteractiveSegmenter(NearestSeed(), np.zeros((10, 10)))
    _stroke(seg, (), 1, 2, slice(0, 3))
    painted = seg.scribbles_of(()).labels.copy()
    painted[8, :3] = 2  # mid-drag: not logged yet
    preview = seg.run(seg.request((), painted))
    stored = seg.run(seg.request(()))  # taken later, at the same state of the strokes
    assert seg.deliver(stored)
    assert not seg.deliver(preview)  # older: it must not replace the newer result
    assert not np.any(seg.predictions[()] == 2)


def test_results_go_stale_per_slice_and_on_direct_stroke_edits():
    seg = InteractiveSegmenter(NearestSeed(), np.zeros((10, 12, 12)))
    three, seven = seg.slice_key(0, 3), seg.slice_key(0, 7)
    _stroke(seg, three, 1, 2, slice(0, 3))
    pending = seg.run(seg.request(three))
    _stroke(seg, seven, 1, 5, 5)  # a stroke on another slice leaves slice 3's result valid
    assert seg.deliver(pending) and seg.is_current(three)
    old = seg.run(seg.request(three))
    seg.scribbles_of(three).add_path(2, np.array([[9, 0], [9, 11]]), width=1)  # edited through the API
    assert not seg.deliver(old)
    assert not seg.is_current(three)  # Accept must wait: the shown result is older than the strokes


def test_a_result_requested_before_propagation_does_not_replace_it():
    seg = InteractiveSegmenter(NearestSeed(), np.zeros((8, 16, 16)))
    four, five = seg.slice_key(0, 4), seg.slice_key(0, 5)
    _stroke(seg, four, 1, slice(6, 10), slice(6, 10))
    _stroke(seg, four, 2, 0, slice(0, 16))
    early = seg.run(seg.request(five))  # slice 5 has no strokes: an all-zero result
    written = seg.propagate(four, +1, steps=1, background=2)
    assert five in written and np.any(written[five] == 1)
    assert not seg.deliver(early)
    assert np.array_equal(seg.predictions[five], written[five]) and seg.is_current(five)


def test_accepted_voxels_stay_whatever_the_axis_of_propagation():
    z, y, x = np.mgrid[:16, :16, :16]
    ball = ((z - 8) ** 2 + (y - 8) ** 2 + (x - 8) ** 2 < 36).astype(float) * 100
    seg = InteractiveSegmenter(NearestSeed(), ball)
    axial = seg.slice_key(0, 8)
    _stroke(seg, axial, 1, slice(7, 9), slice(2, 14))  # a wide object stroke: nearest-seed spreads it
    _stroke(seg, axial, 2, 0, slice(0, 16))
    assert seg.deliver(seg.run(seg.request(axial)))
    accepted = seg.accept(axial).copy()
    coronal = seg.slice_key(1, 8)
    _stroke(seg, coronal, 1, slice(6, 10), slice(6, 10))
    _stroke(seg, coronal, 2, 0, slice(0, 16))
    written = seg.propagate(coronal, 0, background=2)
    assert written
    for (axis, index), labels in written.items():
        assert axis == 1
        np.testing.assert_array_equal(labels[8, :], accepted[index, :])  # row z=8 of a coronal slice


class CurrentRecorder(NearestSeed):
    """NearestSeed that records the current stroke each predict is given."""

    def __init__(self):
        super().__init__()
        self.currents = []

    def predict(self, scribbles, prev=None, current=None):
        self.currents.append(None if current is None else current.copy())
        return super().predict(scribbles, prev)


def test_a_drag_with_live_updates_gives_the_model_the_whole_stroke_on_mouse_up():
    """Issue 14.2: the model's current stroke on mouse-up is the whole stroke, whatever was predicted
    mid-drag (before: only the tail painted since the last live update)."""
    image = np.zeros((20, 30))
    at_once, live = CurrentRecorder(), CurrentRecorder()
    for recorder, mid_drag in ((at_once, []), (live, [slice(2, 9), slice(2, 17)])):
        seg = InteractiveSegmenter(recorder, image)
        _stroke(seg, (), 2, 15, slice(2, 28))  # an earlier stroke of the other class
        for cols in mid_drag:  # the widget's requests while the mouse is down: painted, not yet recorded
            painted = seg.scribbles_of(()).labels.copy()
            painted[5, cols] = 1
            seg.run(seg.request((), painted))
        _stroke(seg, (), 1, 5, slice(2, 25))  # mouse-up: the stroke is recorded
        seg.run(seg.request(()))
    whole = np.zeros((20, 30), bool)
    whole[5, 2:25] = True
    np.testing.assert_array_equal(at_once.currents[-1], whole)
    np.testing.assert_array_equal(live.currents[-1], whole)
    np.testing.assert_array_equal(live.currents[0][5, 2:9], True)  # mid-drag: the stroke so far
    assert live.currents[0].sum() == 7


def test_the_commit_ledger_replaces_only_what_its_own_accepts_wrote():
    from napari_scribbleseg.interactive import CommitLedger

    ledger = CommitLedger()
    committed = np.zeros((4, 6), np.int32)
    committed[0, 0] = 7  # the user's own label: never overwritten
    first = np.zeros((4, 6), np.int32)
    first[:, :3] = 1
    committed = ledger.merge("a", (4, 6), (), committed, first)
    assert committed[0, 0] == 7 and committed[1:, :3].min() == 1
    committed[3, 0] = 5  # repainted by hand after the accept: now theirs
    second = np.zeros((4, 6), np.int32)
    second[:, 3:] = 1  # the object moved: our old pixels are released, the new ones taken
    committed = ledger.merge("a", (4, 6), (), committed, second)
    assert committed[0, 0] == 7 and committed[3, 0] == 5
    assert not committed[1:3, :3].any() and committed[:, 3:].min() == 1
    other = ledger.merge("b", (4, 6), (), committed, first)  # another target knows nothing of "a"'s pixels
    assert other[:, 3:].min() == 1 and other[1:3, :3].min() == 1
    ledger.forget("a")
    again = ledger.merge("a", (4, 6), (), committed, np.zeros((4, 6), np.int32))
    assert again[:, 3:].min() == 1  # forgotten: what it wrote is no longer ours to release


def test_a_missing_model_falls_back_to_a_peer_with_a_warning_but_a_chosen_checkpoint_never_does(monkeypatch):
    from napari_scribbleseg import interactive

    real = interactive.make_predictor

    def without_torch(name, device="auto", connected=True, checkpoint=None):
        if name == "default":
            raise ImportError("No module named 'torch'")
        return real(name, device, connected, checkpoint)

    monkeypatch.setattr(interactive, "make_predictor", without_torch)
    predictor, used, warning = interactive.make_predictor_or_peer("default")
    assert used == "growcut" and "torch" in warning and "using 'growcut'" in warning
    assert hasattr(predictor, "predict")
    with pytest.raises(InputError, match="not available .* pick another model"):
        interactive.make_predictor_or_peer("default", checkpoint="mine.pt")
    assert interactive.make_predictor_or_peer("growcut")[1:] == ("growcut", None)


def test_a_propagated_slice_carries_its_object_into_a_correction_until_it_is_cleared():
    # a background stroke alone on a propagated slice: the nearest-seed predictor would paint the whole
    # slice background; the slice's object, carried as a seed, stays. Once the user clears the slice,
    # nothing is carried: a stroke there starts over
    seg = InteractiveSegmenter(NearestSeed(), np.zeros((8, 16, 16)))
    four, five = seg.slice_key(0, 4), seg.slice_key(0, 5)
    _stroke(seg, four, 1, slice(4, 12), slice(4, 12))
    _stroke(seg, four, 2, 0, slice(0, 16))
    seg.propagate(four, +1, steps=1, background=2)
    assert np.any(seg.predictions[five] == 1)
    _stroke(seg, five, 2, 15, slice(0, 16))
    assert seg.deliver(seg.run(seg.request(five)))
    corrected = seg.predictions[five]
    assert corrected[8, 8] == 1 and np.all(corrected[15] == 2)
    assert np.array_equal(seg.scribbles_of(five).labels[15], np.full(16, 2))  # the strokes are the user's
    assert not np.any(seg.scribbles_of(five).labels == 1)

    seg.clear(five)
    _stroke(seg, five, 2, 15, slice(0, 16))
    assert seg.deliver(seg.run(seg.request(five)))  # no previous mask after a clear: nothing carried
    _stroke(seg, five, 2, 14, slice(0, 16))
    assert seg.deliver(seg.run(seg.request(five)))  # the previous mask is the user's own result now
    assert np.all(seg.predictions[five] == 2)
