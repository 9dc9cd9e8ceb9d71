"""decide_labels: the contract's competition rule (one class against a background logit 0, two or more against each other)."""

import numpy as np
import torch

from napari_scribbleseg.model.interaction import decide_labels


def _reference(logits: torch.Tensor, classes: list[int], scribbles: np.ndarray) -> np.ndarray:
    value, where = logits.max(0)  # ties: the first class
    table = np.asarray(classes)
    out = table[where.numpy()] if len(classes) >= 2 else np.where(value.numpy() > 0, classes[0], 0)
    return np.where(scribbles > 0, scribbles, out).astype(np.int32)


def test_the_first_of_the_highest_logits_wins_in_one_piece_and_in_chunks():
    rng = np.random.default_rng(0)
    for k in (1, 2, 3, 7):
        logits = torch.from_numpy(rng.normal(0, 1, (k, 40, 50)).astype(np.float32))
        logits[:, :10] = -6.0  # every class equally sure: a tie, which the first class wins
        logits[:, 10:14, :5] = 6.0
        classes = sorted(rng.choice(np.arange(1, 256), k, replace=False).tolist())
        scribbles = np.zeros((40, 50), np.int32)
        scribbles[20, 5:30] = classes[-1]
        want = _reference(logits, classes, scribbles)
        got = decide_labels(logits, classes, scribbles)
        assert got.dtype == np.int32 and np.array_equal(got, want), k
        chunks = [(i, logits[i : i + 2]) for i in range(0, k, 2)]
        assert np.array_equal(decide_labels(iter(chunks), classes, scribbles), want), k
    assert (decide_labels(torch.full((1, 4, 4), -1.0), [3], np.zeros((4, 4), np.int32)) == 0).all()


def test_all_255_classes_fit_the_index():
    logits = torch.zeros((255, 3, 3))
    logits[254, 1, 1] = 1.0
    logits[200, 0, 0] = 1.0
    out = decide_labels(logits, list(range(1, 256)), np.zeros((3, 3), np.int32))
    assert out[1, 1] == 255 and out[0, 0] == 201 and out[2, 2] == 1


def test_class_values_above_255_are_kept():
    logits = torch.zeros((2, 2, 2))
    logits[1, 0, 0] = 1.0
    out = decide_labels(logits, [3, 1000], np.zeros((2, 2), np.int32))
    assert out.tolist() == [[1000, 3], [3, 3]]
