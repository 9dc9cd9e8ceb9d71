"""Every dev set of issue 15 in one run, for checkpoints (and peers) side by side.

Sets (choose with ``--sets``):

- ``grabcut``: 50 GrabCut images, deterministic scribble protocol, max 20 interactions (a benchmark: compare
  on it, never choose on it alone);
- ``coco_heldout``: COCO MVal, every 8th mask by sorted name (100 objects);
- ``brats6``: BraTS 2015 held-out case pat0006, FLAIR whole tumour, every 4th axial slice with >= 100 px;
- ``acdc``: ACDC validation patients 076-100, the annotators' real scribbles, one round, every ``--acdc-every``-th slice;
- ``fluo``: fluorescence nuclei, the 5 largest nuclei of each of the 10 images one after another.

    python benchmarks/dev_sets.py --ckpt default=src/napari_scribbleseg/weights/default.pt \\
        cand=training/runs/acdc_finetune/last.pt --sets grabcut acdc brats6 fluo coco_heldout

Prints one table per set; ``--peers growcut random_walker grabcut`` adds the classical peers. ``--paired`` adds,
for every predictor after the first, its per-sample difference from the first on the same samples (NoI@90 and
IoU after the first interaction; ACDC: each slice's mean Dice over its classes) with a 95 % bootstrap interval
(:func:`napari_scribbleseg.metrics.paired_difference`): an interval that holds 0 is within the set's noise.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SETS = ("grabcut", "coco_heldout", "brats6", "acdc", "fluo")


def _predictors(ckpts: list[str], peers: list[str]) -> dict:
    from napari_scribbleseg.session import Session

    out = {}
    for spec in ckpts:
        name, _, path = spec.partition("=")
        out[name] = Session(path, device="cpu")
    for peer in peers:
        out[peer] = peer
    return out


def _interactive(predictors, samples, name: str, paired: bool = False) -> str:
    from napari_scribbleseg.evaluate import evaluate

    result = evaluate(predictors, samples, max_interactions=20)
    table = _table(name, result.summary(), ["predictor", "n", "NoI@85", "NoI@90", "NoF@90", "mIoU@1", "mIoU@3", "mIoU@5"])
    return table + (_paired_interactive(result) if paired else "")


def _paired_interactive(result) -> str:
    """Per-sample NoI@90 and IoU@1 of every predictor against the first's, on the same samples."""
    scores = {
        name: {"NoI@90": [r["NoI@90"] for r in result.rows_of(name)], "IoU@1": [r["iou"][0] for r in result.rows_of(name)]}
        for name in result.predictors
    }
    return _paired_lines(scores)


def _paired_lines(scores: dict[str, dict[str, list[float]]]) -> str:
    from napari_scribbleseg.metrics import paired_difference

    names = list(scores)
    lines = []
    for name in names[1:]:
        parts = []
        for metric, values in scores[name].items():
            mean, low, high = paired_difference(scores[names[0]][metric], values)
            parts.append(f"{metric} {mean:+.3f} [{low:+.3f}, {high:+.3f}]")
        lines.append(f"- {name} - {names[0]}, paired, 95 % bootstrap: " + "; ".join(parts))
    return "\n\n" + "\n".join(lines) if lines else ""


def _table(title: str, summary: list[dict], keys: list[str]) -> str:
    lines = [f"### {title}", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(_fmt(row.get(k, "")) for k in keys) + " |" for row in summary]
    return "\n".join(lines)


def _fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def run_set(name: str, predictors: dict, args) -> str:
    from napari_scribbleseg.datasets import load_dataset
    from napari_scribbleseg.datasets.base import Subset

    if name == "grabcut":
        return _interactive(predictors, load_dataset(DATA / "natural" / "grabcut"), "GrabCut (50)", args.paired)
    if name == "coco_heldout":
        data = load_dataset(DATA / "natural" / "coco_mval")
        order = sorted(range(len(data)), key=lambda i: str(data.items[i][0]))  # by mask name
        return _interactive(predictors, Subset(data, order[::8]), "COCO MVal held-out split (every 8th)", args.paired)
    if name == "brats6":
        data = load_dataset(
            DATA / "medical" / "brats2015", cases=["brats_2013_pat0006_1"], classes="whole_tumour", min_pixels=100, axis=0
        )
        return _interactive(predictors, Subset(data, range(0, len(data), 4)), "BraTS case 6, whole tumour", args.paired)
    if name == "acdc":
        from napari_scribbleseg.datasets.scribbled import AcdcScribbles
        from napari_scribbleseg.evaluate.given import evaluate_given_scribbles

        data = AcdcScribbles(DATA / "medical" / "acdc_scribbles")
        result = evaluate_given_scribbles(predictors, Subset(data, range(0, len(data), args.acdc_every)))
        paired = _paired_lines(
            {name: {"slice mean Dice": [float(np.mean(list(r["dice"].values()))) for r in result.rows if r["predictor"] == name and r["dice"]]}
             for name in result.predictors}
        ) if args.paired else ""
        return f"### ACDC validation, real scribbles, every {args.acdc_every}th slice\n" + result.table() + paired
    if name == "fluo":
        from PIL import Image

        from napari_scribbleseg.evaluate import evaluate_instances

        root = DATA / "microscopy" / "fluo_nuclei"
        images = [
            (p.stem, np.asarray(Image.open(p).convert("L")), np.asarray(Image.open(root / "labels" / f"{p.stem}.png")).astype(np.int32))
            for p in sorted((root / "images").glob("*.jpg"))
        ]
        result = evaluate_instances(predictors, images, max_objects=5, max_interactions=10)
        title = "Fluorescence nuclei, 5 largest per image, one after another"
        table = _table(title, result.summary(), ["predictor", "n", "NoI@85", "NoI@90", "mIoU@1"])
        return table + (_paired_interactive(result) if args.paired else "")
    raise SystemExit(f"unknown set {name!r}; choose from {SETS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", nargs="+", default=[], metavar="NAME=PATH")
    parser.add_argument("--peers", nargs="*", default=[])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    parser.add_argument("--acdc-every", type=int, default=2)
    parser.add_argument("--paired", action="store_true", help="per-sample differences from the first predictor, with 95 %% intervals")
    args = parser.parse_args()
    predictors = _predictors(args.ckpt, args.peers)
    for name in args.sets:
        start = time.perf_counter()
        print(run_set(name, predictors, args))
        print(f"({time.perf_counter() - start:.0f} s)\n", flush=True)


if __name__ == "__main__":
    main()
