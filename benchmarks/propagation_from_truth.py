"""Propagation alone: from one perfectly segmented slice (the ground truth of the target's largest slice) both
ways through the volume, no user after that; volume Dice per structure, predictors side by side.

Isolates what propagation carries (seeds, the predictor on derived seeds, stopping) from the simulated user
of ``volume_dice.py``. Same tasks and crops as ``volume_dice.py`` (``--sets``); ``A+B`` is predictor A with
B taking the propagation steps; ``--ckpt NAME=PATH`` a Session on another checkpoint;
``--min-confidence`` overrides the stopping threshold (a model with other calibration stops elsewhere).

    python benchmarks/propagation_from_truth.py --predictors default growcut default+growcut --sets brats6 totalseg acdc
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from volume_dice import ACDC_DEFAULT_PATIENTS, SETS, build_predictors, load_tasks, predictor_names  # noqa: E402

from napari_scribbleseg.metrics import dice  # noqa: E402
from napari_scribbleseg.volume import PropagationSettings, VolumeSegmenter  # noqa: E402


def from_truth(task, predictor, propagator=None, settings: PropagationSettings | None = None) -> float:
    """Volume Dice after propagating the true labels of the target's largest slice both ways."""
    seg = VolumeSegmenter(task.image, predictor, spacing=task.spacing, kind=task.kind, background=2,
                          settings=settings, propagator=propagator)
    source = int(np.argmax(task.gt.sum(axis=(1, 2))))
    seg.adopt(source, np.where(task.gt[source], 1, 2))
    seg.propagate(source, "both")
    return dice(seg.labels == 1, task.gt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictors", nargs="+", default=["default", "growcut", "default+growcut"])
    parser.add_argument("--ckpt", nargs="*", default=[], metavar="NAME=PATH")
    parser.add_argument("--sets", nargs="+", choices=SETS, default=["brats6", "totalseg", "acdc"])
    parser.add_argument("--acdc-patients", nargs="+", type=int, default=list(ACDC_DEFAULT_PATIENTS))
    parser.add_argument("--min-confidence", type=float, default=None)
    args = parser.parse_args()
    names, ckpts = predictor_names(args.predictors, args.ckpt)
    settings = PropagationSettings() if args.min_confidence is None else PropagationSettings(min_confidence=args.min_confidence)
    results: dict[tuple[str, str], dict[str, list[float]]] = {}
    for task in load_tasks(tuple(args.sets), tuple(args.acdc_patients)):
        for name in names:
            predictor, *propagator = build_predictors(name, ckpts)
            value = from_truth(task, predictor, *propagator, settings=settings)
            results.setdefault((task.dataset, task.target), {}).setdefault(name, []).append(value)
        print(f"{task.dataset}/{task.case}/{task.target}: " + ", ".join(
            f"{n}={results[(task.dataset, task.target)][n][-1]:.3f}" for n in names), file=sys.stderr, flush=True)
    print("| structure (cases) | " + " | ".join(names) + " |")
    print("|" + "---|" * (len(names) + 1))
    for (dataset, target), by in results.items():
        best = max(np.mean(v) for v in by.values())
        cells = [f"**{np.mean(by[n]):.3f}**" if np.mean(by[n]) == best else f"{np.mean(by[n]):.3f}" for n in names]
        print(f"| {dataset} {target} ({len(by[names[0]])}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
