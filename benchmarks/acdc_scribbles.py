"""ACDC validation with the annotators' real scribbles: one round per slice -> mean Dice per class.

The dev twin of real use (issue 15): cine-MR slices of the validation patients (076-100, never trained
on), every predictor given the same real strokes of RV, myocardium, LV and background, once, in one run.

    python benchmarks/acdc_scribbles.py                               # all validation slices, every peer
    python benchmarks/acdc_scribbles.py --predictors default growcut --every 4 --csv acdc.csv

The data folder defaults to ../shared/data/medical/acdc_scribbles (next to the repository).
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "medical" / "acdc_scribbles"


def main() -> None:
    from napari_scribbleseg.datasets.base import Subset
    from napari_scribbleseg.datasets.scribbled import ACDC_VAL_PATIENTS, AcdcScribbles
    from napari_scribbleseg.evaluate.given import evaluate_given_scribbles

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--predictors", nargs="+", default=["default", "growcut", "random_walker", "grabcut"])
    parser.add_argument("--first", type=int, default=ACDC_VAL_PATIENTS.start, help="first patient (default 76)")
    parser.add_argument("--last", type=int, default=ACDC_VAL_PATIENTS.stop - 1, help="last patient (default 100)")
    parser.add_argument("--every", type=int, default=1, help="take every n-th slice (1: all)")
    parser.add_argument("--csv", type=Path, help="write one row per slice and predictor here")
    args = parser.parse_args()

    dataset = AcdcScribbles(args.root, patients=range(args.first, args.last + 1))
    samples = Subset(dataset, range(0, len(dataset), args.every))
    start = time.perf_counter()
    result = evaluate_given_scribbles(args.predictors, samples)
    print(
        f"ACDC patients {args.first:03d}-{args.last:03d}: {len(samples)} slices (every {args.every}), real scribbles, "
        f"one round, {time.perf_counter() - start:.0f} s"
    )
    print(result.table())
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["sample", "predictor", *(f"dice_{v}" for v in result.classes.values())])
            for row in result.rows:
                writer.writerow([row["sample"], row["predictor"], *(row["dice"].get(k, "") for k in result.classes)])


if __name__ == "__main__":
    main()
