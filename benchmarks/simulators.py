"""How fast the simulators are, beside peers measured in the same run.

Protocol (GrabCut, all 50 masks, first interaction on the object and the next one on a shifted copy):
  - ``next_scribble`` (000 Alg. 1) vs ``next_click`` (distance-transform maximum);
  - the scribble with the skeleton found at full resolution (``max_side`` huge) vs the default
    (downsampled to 256 px when the region's box is larger), which bounds the graph's size.
Training (coco_mval masks, first N): ``simulate_scribbles`` per recipe, without and with a perturbed
previous mask, vs the naive linked-points recipe.

Usage (from the repository root; needs ../shared/data)::

    PYTHONPATH=src python benchmarks/simulators.py [--n-train 40]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from unittest import mock

import numpy as np
from PIL import Image

from napari_scribbleseg.simulate import (
    TRAINING_SIMULATORS,
    first_interaction,
    geometry,
    next_click,
    next_scribble,
    perturb_label_map,
    simulate_scribbles,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "natural"


def timed(fn, *args, **kwargs) -> np.ndarray:
    """(wall, cpu) seconds of one call: the machine may be shared, and CPU time is what the call itself costs."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args, **kwargs)
    return np.array([time.perf_counter() - wall, time.process_time() - cpu])


def ms(values: list[np.ndarray]) -> str:
    v = np.array(values) * 1000
    wall, cpu = np.percentile(v[:, 0], [50, 95]), np.percentile(v[:, 1], [50, 95])
    return f"wall p50 {wall[0]:6.1f} p95 {wall[1]:6.1f} ms | cpu p50 {cpu[0]:6.1f} p95 {cpu[1]:6.1f} ms"


def grabcut_tasks() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    tasks = []
    for path in sorted((DATA / "grabcut" / "masks").glob("*.bmp")):
        mask = np.array(Image.open(path).convert("L"))
        gt, ignore = np.where(mask == 255, 1, 2), mask == 128
        pred = np.where(np.roll(mask == 255, 15, axis=1), 1, 2)  # a shifted object: FN and FP bands
        tasks.append((gt, pred, ignore))
    return tasks


def protocol(tasks) -> None:
    print(f"== protocol on {len(tasks)} GrabCut masks (first interaction + one correction each)")
    runs = {"scribble": [], "click": [], "scribble_fullres": []}
    original = geometry.longest_skeleton_path
    for gt, pred, ignore in tasks:
        runs["scribble"].append(timed(first_interaction, gt, ignore=ignore) + timed(next_scribble, gt, pred, ignore))
        runs["click"].append(timed(first_interaction, gt, "click", ignore=ignore) + timed(next_click, gt, pred, ignore))
        full = lambda mask, max_side=256: original(mask, max_side=10**6)
        with mock.patch.object(geometry, "longest_skeleton_path", full):
            runs["scribble_fullres"].append(
                timed(first_interaction, gt, ignore=ignore) + timed(next_scribble, gt, pred, ignore)
            )
    for name, values in runs.items():
        print(f"  {name:18s} per 2 interactions: {ms(values)}")
    s, c, f = (np.median(np.array(runs[k])[:, 1]) for k in ("scribble", "click", "scribble_fullres"))
    print(f"  cpu ratios (p50): scribble / click {s / c:.1f}x;  full-res skeleton / default {f / s:.2f}x")


def training(n: int) -> None:
    paths = sorted((DATA / "coco_mval" / "masks").glob("*.png"))[:n]
    samples = [np.where(np.array(Image.open(p).convert("L")) > 127, 1, 2) for p in paths]
    print(f"== training: simulate_scribbles per sample on {len(samples)} coco_mval masks (binary, both classes)")
    base = None
    for recipe in sorted(TRAINING_SIMULATORS, key=lambda r: r != "linked_points"):
        rng = np.random.default_rng(0)
        void = [timed(simulate_scribbles, gt, None, rng, recipe) for gt in samples]
        prev = [perturb_label_map(gt, rng) for gt in samples]
        corr = [timed(simulate_scribbles, gt, p, rng, recipe) for gt, p in zip(samples, prev)]
        cpu = np.median(np.array(void)[:, 1])
        base = cpu if base is None else base
        print(f"  {recipe:14s} void prev:      {ms(void)}  ({cpu / base:4.1f}x linked_points cpu)")
        print(f"  {'':14s} perturbed prev: {ms(corr)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=40)
    args = parser.parse_args()
    protocol(grabcut_tasks())
    training(args.n_train)


if __name__ == "__main__":
    main()
