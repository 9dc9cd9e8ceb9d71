"""How much can "where to scribble next" gain? The ranking against choices made with the ground truth.

Issue 16's goal 2 asks that each extra scribbled slice help (Dice after 3 slices >= after 1 + 0.05 where
there is room) because the ranking names the slices with the largest expected error. This script bounds
what any ranking could reach with the same propagation and the same simulated user as
``benchmarks/volume_dice.py`` (first slice where the target is largest, strokes until the slice's Dice
reaches 0.9 or ``--per-slice``, propagation both ways and the 3-D finish after each slice):

- ``ranking``: the next slice is :meth:`VolumeSegmenter.ranking`'s first (what volume_dice.py measures);
- ``largest error``: the next slice is the one with the most wrong pixels (the ground truth's choice);
- ``best pair``: every ordered pair of slices holding the target tried as the 2nd and 3rd, the best kept:
  no ranking, however good, chooses better two slices for this user and this propagation.

A suggested slice that needs no strokes (Dice >= 0.9 already) is accepted and the next one taken, as in
volume_dice.py; in ``best pair`` it still takes up its place in the pair.

    python benchmarks/next_slice_oracle.py --targets rv --sets acdc
"""

from __future__ import annotations

import argparse
import itertools
import warnings
from collections.abc import Callable

import numpy as np
import volume_dice as vd

from napari_scribbleseg.metrics import dice
from napari_scribbleseg.volume import VolumeSegmenter

Choose = Callable[[VolumeSegmenter, vd.Task], "int | None"]


def scribble_and_propagate(seg: VolumeSegmenter, task: vd.Task, index: int, per_slice: int, walk_3d: bool) -> bool:
    """One user step on slice ``index``; False when the slice needed no strokes (it is accepted)."""
    scribbles, _ = vd.scribble_slice(seg, index, task.gt[index], per_slice)
    if not scribbles.any():
        seg.lock(index)
        return False
    if np.any(seg.slice_labels(index) == 1):
        seg.propagate(index, "both")
        if walk_3d:
            seg.walk_3d()
    return True


def follow(task: vd.Task, name: str, ckpts: dict, choose: Choose, per_slice: int, slices: int = 3) -> dict[int, float]:
    """Dice after 1..``slices`` scribbled slices when each next slice is ``choose``'s."""
    seg, walk_3d = segmenter(task, name, ckpts)
    index: int | None = first_slice(task)
    out, n = {}, 0
    while index is not None and n < slices:
        if scribble_and_propagate(seg, task, index, per_slice, walk_3d):
            n += 1
            out[n] = dice(seg.labels == 1, task.gt)
        index = choose(seg, task)
    final = dice(seg.labels == 1, task.gt)
    return {k: out.get(k, final) for k in range(1, slices + 1)}


def sequence(task: vd.Task, name: str, ckpts: dict, order: list[int], per_slice: int) -> float:
    """Dice after the user has gone through the slices ``order`` (after the first slice)."""
    seg, walk_3d = segmenter(task, name, ckpts)
    for index in [first_slice(task), *order]:
        scribble_and_propagate(seg, task, index, per_slice, walk_3d)
    return dice(seg.labels == 1, task.gt)


def segmenter(task: vd.Task, name: str, ckpts: dict) -> tuple[VolumeSegmenter, bool]:
    """A fresh VolumeSegmenter on ``task`` with volume_dice.py's predictor ``name``, and whether it walks in 3-D."""
    (predictor, *propagator), walk_3d = vd.build_predictors(name, ckpts)
    seg = VolumeSegmenter(task.image, predictor, spacing=task.spacing, kind=task.kind, background=2,
                          propagator=propagator[0] if propagator else None)
    return seg, walk_3d


def first_slice(task: vd.Task) -> int:
    return int(np.argmax(task.gt.sum(axis=(1, 2))))


def by_ranking(seg: VolumeSegmenter, task: vd.Task) -> int | None:
    ranking = seg.ranking()
    return ranking[0] if ranking else None


def by_largest_error(seg: VolumeSegmenter, task: vd.Task) -> int | None:
    done = set(seg.locked) | set(seg.scribbled)
    errors = {z: np.count_nonzero((seg.slice_labels(z) == 1) != task.gt[z]) for z in range(task.gt.shape[0])}
    errors = {z: e for z, e in errors.items() if e and z not in done}
    return max(errors, key=errors.get) if errors else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictor", default="default+growcut+walk3d", help="a volume_dice.py predictor name")
    parser.add_argument("--ckpt", nargs="*", default=[], metavar="NAME=PATH", help="checkpoints named in --predictor")
    parser.add_argument("--sets", nargs="+", choices=vd.SETS, default=["acdc"])
    parser.add_argument("--targets", nargs="+", default=["rv"], help="structures (volume_dice.py target names)")
    parser.add_argument("--acdc-patients", nargs="+", type=int, default=list(vd.ACDC_DEFAULT_PATIENTS))
    parser.add_argument("--per-slice", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*saturated at 255")  # the MR slices' bright pixels, said once per slice
    ckpts = dict(spec.partition("=")[::2] for spec in args.ckpt)

    rows = []
    for task in vd.load_tasks(tuple(args.sets), tuple(args.acdc_patients)):
        if task.target not in args.targets:
            continue
        ranked = follow(task, args.predictor, ckpts, by_ranking, args.per_slice)
        largest = follow(task, args.predictor, ckpts, by_largest_error, args.per_slice)
        candidates = [int(z) for z in np.flatnonzero(task.gt.any(axis=(1, 2))) if z != first_slice(task)]
        best = max((sequence(task, args.predictor, ckpts, list(pair), args.per_slice), pair)
                   for pair in itertools.permutations(candidates, 2))
        rows.append((task.target, ranked[1], ranked[3], largest[3], best[0]))
        print(f"{task.case} {task.target}: @1 {ranked[1]:.3f}  @3 ranking {ranked[3]:.3f}  largest error "
              f"{largest[3]:.3f}  best pair {best[0]:.3f} (slices {best[1][0]}, {best[1][1]})", flush=True)
    print("\nmean Dice          @1     @3: ranking  largest error  best pair")
    for target in args.targets:
        mine = np.array([r[1:] for r in rows if r[0] == target])
        if len(mine):
            m = mine.mean(axis=0)
            print(f"{target:16s} {m[0]:.3f}       {m[1]:.3f}         {m[2]:.3f}      {m[3]:.3f}"
                  f"   (best pair - @1 = {m[3] - m[0]:+.3f}; {len(mine)} volumes)")


if __name__ == "__main__":
    main()
