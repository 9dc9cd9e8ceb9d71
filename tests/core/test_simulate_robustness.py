"""004's misleading interactions and noisy strokes."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.simulate import (
    MisleadingSimulator,
    false_interaction,
    first_interaction,
    jitter_interaction,
    jitter_path,
    misleading_schedule,
    next_click,
    next_scribble,
    repetitive_interaction,
    warp_interaction,
    warp_mask,
)


def object_gt() -> np.ndarray:
    rr, cc = np.ogrid[:120, :160]
    return np.where(((rr - 60) / 40) ** 2 + ((cc - 80) / 60) ** 2 <= 1, 1, 2)


def test_schedule_has_5_of_20_misleading_and_is_seeded():
    steps = misleading_schedule(np.random.default_rng(3))
    assert len(steps) == 20 and steps[0] == "effective"
    assert sum(s != "effective" for s in steps) == 5
    assert set(steps) <= {"effective", "repetitive", "false"}
    assert steps == misleading_schedule(3)
    assert len({misleading_schedule(s) for s in range(10)}) > 1
    with pytest.raises(InputError, match="n_misleading"):
        misleading_schedule(0, n_interactions=4, n_misleading=4)


def test_repetitive_interaction_repeats_the_stroke_exactly():
    it = first_interaction(object_gt())
    again = repetitive_interaction(it)
    assert again == it and again.mask is not it.mask


@pytest.mark.parametrize("kind", ["scribble", "click"])
def test_false_interaction_has_the_wrong_class_on_the_error(kind):
    gt = object_gt()
    pred = np.full_like(gt, 2)
    honest = next_scribble(gt, pred) if kind == "scribble" else next_click(gt, pred)
    false = false_interaction(gt, pred, np.random.default_rng(0), kind=kind)
    assert np.array_equal(false.mask, honest.mask) and false.label != honest.label
    assert np.all(gt[false.mask] != false.label)
    assert false_interaction(gt, gt, 0) is None


def test_false_interaction_multi_class_picks_another_gt_class():
    gt = np.ones((40, 90), int)
    gt[:, 30:60], gt[:, 60:] = 2, 3
    pred = gt.copy()
    pred[5:35, 35:55] = 1
    labels = {false_interaction(gt, pred, s).label for s in range(12)}
    assert labels == {1, 3}


def test_jitter_moves_a_stroke_a_little_and_is_seeded():
    gt = object_gt()
    it = first_interaction(gt)
    shaken = jitter_interaction(it, np.random.default_rng(0), sigma=2.0)
    assert shaken.label == it.label and not np.array_equal(shaken.mask, it.mask)
    offset = np.hypot(*(shaken.path - it.path).T)
    assert 0.5 < offset.mean() < 6
    assert shaken == jitter_interaction(it, 0, sigma=2.0)
    inside = jitter_interaction(it, 1, sigma=6.0, within=gt == 1)
    assert not np.any(inside.mask & (gt != 1))


def test_jitter_path_wobbles_smoothly():
    path = np.stack([np.full(200, 50.0), np.linspace(0, 199, 200)], axis=1)
    shaken = jitter_path(path, 0, sigma=2.0, correlation=10.0)
    rows = shaken[:, 0] - 50
    assert rows.std() == pytest.approx(2.0, rel=0.05)
    assert np.abs(np.diff(rows)).max() < 1.0  # neighbours move together: a wobble, not fraying
    with pytest.raises(InputError, match="path"):
        jitter_path(np.zeros((3, 3)), 0)


def test_jittered_click_moves_as_a_whole():
    gt = object_gt()
    click = next_click(gt, None)
    moved = jitter_interaction(click, 4, sigma=3.0)
    assert moved.kind == "click" and moved.mask.sum() == click.mask.sum()


def test_warp_keeps_the_stroke_roughly_in_place():
    gt = object_gt()
    it = first_interaction(gt)
    warped = warp_mask(it.mask, np.random.default_rng(0), alpha=4.0)
    assert warped.dtype == bool and not np.array_equal(warped, it.mask)
    assert 0.5 < warped.sum() / it.mask.sum() < 1.5
    assert np.array_equal(warped, warp_mask(it.mask, 0, alpha=4.0))
    clipped = warp_interaction(it, 0, alpha=10.0, within=gt == 1)
    assert clipped.label == 1 and not np.any(clipped.mask & (gt != 1))


def test_misleading_simulator_gives_every_predictor_the_same_sequence():
    gt = object_gt()
    user = MisleadingSimulator("scribble", seed=1, n_interactions=8, n_misleading=3)

    def run(grow: int) -> tuple[tuple[str, ...], list]:
        """A fake predictor: each stroke's class fills its row band, widened by ``grow`` px."""
        user.reset()
        pred, steps = np.full_like(gt, 2), []
        for _ in range(8):
            step = user(gt, pred)
            steps.append(step)
            if step is not None:
                rows = np.flatnonzero(step.mask.any(axis=1))
                pred[max(0, rows[0] - grow) : rows[-1] + grow + 1] = step.label
        return user.schedule, steps

    schedule, steps = run(0)
    assert sum(s != "effective" for s in schedule) == 3
    assert run(5)[0] == schedule  # another predictor, the same sequence of step kinds
    again = run(0)[1]
    assert all(x == y for x, y in zip(steps, again))  # reset starts the same run over
    for kind, step, previous in zip(schedule, steps, [None, *steps[:-1]]):
        if kind == "repetitive" and previous is not None:
            assert step == previous
        elif kind == "false" and step is not None:
            assert np.all(gt[step.mask] != step.label)
        elif step is not None:
            assert np.all(gt[step.mask] == step.label)
