"""Where ACDC's Dice is lost: each class's area against the truth's, and what its wrong pixels look like.

Issue 15 goal 3 asks for mean Dice 0.05 above the classical peers on ACDC validation with the annotators'
real scribbles (``benchmarks/acdc_scribbles.py``). This script takes the same slices and one round of the same
strokes, and for each predictor and class reports

- ``area``: predicted pixels / true pixels (1 = no bias; a thin class that grows into its neighbours is > 1);
- ``FP``, ``FN``: wrong pixels as a share of the true ones, and the share of them within one pixel of the
  true boundary (``FP@1``: the outer one-pixel band; ``FN@1``: the inner one-pixel ring);
- ``missed ->``: where the missed pixels went (the class that took most of them) and their median intensity
  (the slice scaled to its 1st-99th percentiles) beside the median of the class's correct pixels and of
  the class that took them: dark "missed" blood-pool pixels are trabeculae and papillary muscles, which
  ACDC's contours count as cavity.

    python benchmarks/acdc_errors.py --predictors default growcut --every 4
    python benchmarks/acdc_errors.py --predictors default acdc_distill=training/runs/acdc_distill/final.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "medical" / "acdc_scribbles"


def _scaled(image: np.ndarray) -> np.ndarray:
    x = image.mean(-1) if image.ndim == 3 else image.astype(np.float64)
    low, high = np.percentile(x, [1, 99])
    return (x - low) / (high - low + 1e-9)


def main() -> None:
    from napari_scribbleseg.datasets.base import Subset
    from napari_scribbleseg.datasets.scribbled import ACDC_VAL_PATIENTS, AcdcScribbles
    from napari_scribbleseg.evaluate.given import takes_current
    from napari_scribbleseg.evaluate.loop import model_input
    from napari_scribbleseg.predictor import get_predictor
    from napari_scribbleseg.session import Session

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--predictors", nargs="+", default=["default", "growcut"], help="names (default, growcut, ...) or NAME=CHECKPOINT")
    parser.add_argument("--every", type=int, default=4, help="take every n-th validation slice")
    args = parser.parse_args()

    dataset = AcdcScribbles(args.root, patients=ACDC_VAL_PATIENTS)
    samples = Subset(dataset, range(0, len(dataset), args.every))
    classes = dict(samples[0].meta["classes"])
    print(f"ACDC patients {ACDC_VAL_PATIENTS.start:03d}-{ACDC_VAL_PATIENTS.stop - 1:03d}: {len(samples)} slices (every {args.every})")
    print("| predictor | class | area | FP | FP@1 | FN | FN@1 | missed -> | intensity: correct / missed / taker's |")
    print("|---|---|---|---|---|---|---|---|---|")
    for spec in args.predictors:
        display, _, path = spec.partition("=")
        predictor = Session(path) if path else get_predictor(display)
        current = takes_current(predictor)
        counts = {k: np.zeros(6) for k in classes}
        took = {k: np.zeros(len(classes) + 1) for k in classes}
        values = {k: ([], []) for k in classes}
        correct = {k: [] for k in [0, *classes]}  # 0: the background (every pixel of no class)
        for sample in samples:
            scribbles = np.asarray(sample.meta["scribbles"], np.int32)
            image = model_input(sample)
            predictor.set_image(image)
            pred = np.asarray(predictor.predict(scribbles, **({"current": scribbles > 0} if current else {})))
            background = sample.meta.get("background_class")
            if background is not None:
                pred = np.where(pred == background, 0, pred)
            x = _scaled(image)
            correct[0].append(x[(sample.gt == 0) & (pred == 0)])
            for k in classes:
                truth, ours = sample.gt == k, pred == k
                if not truth.any():
                    continue
                band = ndimage.binary_dilation(truth) & ~truth
                ring = truth & ~ndimage.binary_erosion(truth)
                fp, fn = ours & ~truth, truth & ~ours
                counts[k] += [truth.sum(), ours.sum(), fp.sum(), (fp & band).sum(), fn.sum(), (fn & ring).sum()]
                took[k] += np.bincount(pred[fn], minlength=len(classes) + 1)[: len(classes) + 1]
                correct[k].append(x[truth & ours])
                values[k][0].append(x[fn])
        for k, name in classes.items():
            n_true, n_pred, fp, fp1, fn, fn1 = counts[k]
            taker = int(np.argmax(took[k]))
            missed = np.concatenate(values[k][0]) if values[k][0] else np.zeros(0)
            taker_x = np.concatenate(correct[taker]) if correct[taker] else None
            taker_name = classes.get(taker, "background")
            print(
                f"| {display} | {name} | {n_pred / n_true:.3f} | {fp / n_true:.3f} | {fp1 / max(fp, 1):.2f} | {fn / n_true:.3f} "
                f"| {fn1 / max(fn, 1):.2f} | {taker_name} ({took[k][taker] / max(fn, 1):.0%}) | "
                f"{np.median(np.concatenate(correct[k])):.2f} / {np.median(missed) if missed.size else float('nan'):.2f} / "
                f"{np.median(taker_x) if taker_x is not None else float('nan'):.2f} |"
            )


if __name__ == "__main__":
    main()
