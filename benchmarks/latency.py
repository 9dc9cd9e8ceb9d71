"""Latency of the Session: t_image and t_interaction (p50/p95) per image size and class count.

In the same run and on the same inputs it times

- ``recycled``: the Session as shipped: features once per image, the head per interaction (004);
- ``whole``: the same network re-run whole per interaction (``Session(recycle=False)``);
- the classical peers (``get_predictor("random_walker" | "growcut" | "grabcut")``), when installed.

and prints the ratios (wall-clock p50/p95 and the process CPU time p50, which on a shared machine
shows the cost without the waiting). Each interaction adds one stroke to one class and passes the previous
prediction as ``prev``, so zoom-in is active from the second interaction as in real use.

    python benchmarks/latency.py                       # CPU, 256/512/1024 px, 1/3/8 classes
    python benchmarks/latency.py --device cuda --no-peers
    python benchmarks/latency.py --sizes 512 --classes 3 --threads 1

Weights do not change the timing; the shipped checkpoint is used when present, otherwise a
randomly initialised model of the same architecture. Run on an otherwise idle machine: the load
average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np


def make_scene(size: int, n_classes: int, seed: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
    """A synthetic RGB image with ``n_classes`` blobs and growing scribble maps, one per interaction.

    Every map has strokes of all ``n_classes`` classes; each next map adds one stroke.
    """
    import cv2

    rng = np.random.default_rng(seed)
    image = np.full((size, size, 3), 90, np.uint8)
    centres = rng.uniform(0.2, 0.8, (n_classes, 2)) * size
    for k, (cy, cx) in enumerate(centres):
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.circle(image, (int(cx), int(cy)), int(size * 0.08), colour, -1)
    image = np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
    labels = np.zeros((size, size), np.int32)
    maps = []
    for i in range(64 + n_classes):
        k = i % n_classes
        cy, cx = centres[k] + rng.normal(0, size * 0.02, 2)
        length = size * 0.06
        p0 = (int(cx - length), int(cy))
        p1 = (int(cx + length), int(cy + rng.normal(0, length / 3)))
        cv2.line(labels, p0, p1, k + 1, thickness=3)
        if i >= n_classes - 1:  # every class has a stroke from the first map on
            maps.append(labels.copy())
    return image, maps


def percentiles(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values) * 1000
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 95))


def time_predictor(predictor, image: np.ndarray, scribble_maps: list[np.ndarray], n_images: int, n_interactions: int, key_base: str):
    """Wall and process-CPU seconds: {"image": [...], "inter": [...], "image_cpu": [...], "inter_cpu": [...]}.

    A fresh image key per ``set_image`` so nothing comes from the cache.
    """
    times: dict[str, list[float]] = {"image": [], "inter": [], "image_cpu": [], "inter_cpu": []}
    predictor.set_image(image)  # warm-up (first-call allocations), not timed
    for rep in range(n_images):
        wall, cpu = time.perf_counter(), time.process_time()
        if key_base and hasattr(predictor, "is_cached"):
            predictor.set_image(image, key=f"{key_base}-{rep}")
        else:
            predictor.set_image(image)
        times["image"].append(time.perf_counter() - wall)
        times["image_cpu"].append(time.process_time() - cpu)
    prev = None
    for i in range(n_interactions + 1):  # the first interaction warms up and is not counted
        wall, cpu = time.perf_counter(), time.process_time()
        prev = predictor.predict(scribble_maps[i], prev=prev)
        if i:
            times["inter"].append(time.perf_counter() - wall)
            times["inter_cpu"].append(time.process_time() - cpu)
    return times


def load_model(checkpoint: str | None, arch: str):
    from napari_scribbleseg.model import build_model, load_checkpoint
    from napari_scribbleseg.session import DEFAULT_WEIGHTS

    path = Path(checkpoint) if checkpoint else DEFAULT_WEIGHTS
    if path.is_file():
        return load_checkpoint(path), str(path)
    import torch

    torch.manual_seed(0)
    return build_model(arch).eval(), f"random {arch} (no checkpoint at {path})"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda, mps (default cpu)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--classes", type=int, nargs="+", default=[1, 3, 8])
    parser.add_argument("--interactions", type=int, default=15, help="timed interactions per setting")
    parser.add_argument("--images", type=int, default=3, help="timed set_image calls per setting")
    parser.add_argument("--whole-interactions", type=int, default=5, help="timed interactions of the whole-network re-run")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--arch", default="scribbleseg_lite0")
    parser.add_argument("--head-size", type=int, default=None, help="override the model's head input size")
    parser.add_argument("--no-peers", action="store_true", help="skip the classical peers")
    parser.add_argument("--peers", nargs="+", default=["random_walker", "growcut", "grabcut"])
    parser.add_argument("--peer-interactions", type=int, default=3)
    parser.add_argument("--peer-max-size", type=int, default=1024, help="skip peers above this size")
    parser.add_argument("--json", default=None, help="also write the rows here")
    args = parser.parse_args(argv)

    import torch

    from napari_scribbleseg.session import Session

    if args.threads:
        torch.set_num_threads(args.threads)
    model, source = load_model(args.checkpoint, args.arch)
    recycled = Session(model, device=args.device, head_size=args.head_size, num_threads=None)
    whole = Session(model, device=args.device, recycle=False, head_size=args.head_size, num_threads=None)
    peers = {}
    notes = []
    if not args.no_peers:
        from napari_scribbleseg.predictor import get_predictor

        for name in args.peers:
            try:
                peers[name] = get_predictor(name)
            except (ImportError, AttributeError, KeyError) as err:
                notes.append(f"peer {name} skipped: {type(err).__name__}: {err}")

    load0 = os.getloadavg()
    print(f"model: {source}; parameters {model.parameter_count()}; head input {recycled.head_size} px")
    print(f"device {recycled.device} (half={recycled.half}); torch threads {torch.get_num_threads()}; "
          f"cpu count {os.cpu_count()}; load average at start {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    rows = []
    header = (f"{'size':>5} {'K':>2} {'method':<14} {'t_image p50':>11} {'p95':>7} {'cpu':>7} "
              f"{'t_inter p50':>11} {'p95':>7} {'cpu':>7} {'x recycled':>10}")
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        for n_classes in args.classes:
            image, maps = make_scene(size, n_classes)
            results = {}
            results["recycled"] = time_predictor(recycled, image, maps, args.images, args.interactions, f"r{size}-{n_classes}")
            results["whole"] = time_predictor(whole, image, maps, 1, args.whole_interactions, f"w{size}-{n_classes}")
            if size <= args.peer_max_size:
                for name, peer in peers.items():
                    results[name] = time_predictor(peer, image, maps, 1, args.peer_interactions, "")
            base = percentiles(results["recycled"]["inter"])[0]
            for method, t in results.items():
                (i50, i95), (n50, n95) = percentiles(t["image"]), percentiles(t["inter"])
                icpu, ncpu = percentiles(t["image_cpu"])[0], percentiles(t["inter_cpu"])[0]
                ratio = n50 / base
                rows.append({
                    "size": size, "classes": n_classes, "method": method, "t_image_p50_ms": i50, "t_image_p95_ms": i95,
                    "t_image_cpu_p50_ms": icpu, "t_interaction_p50_ms": n50, "t_interaction_p95_ms": n95,
                    "t_interaction_cpu_p50_ms": ncpu, "ratio_to_recycled": ratio,
                })
                print(f"{size:>5} {n_classes:>2} {method:<14} {i50:>11.1f} {i95:>7.1f} {icpu:>7.1f} "
                      f"{n50:>11.1f} {n95:>7.1f} {ncpu:>7.1f} {ratio:>9.1f}x", flush=True)
    load1 = os.getloadavg()
    print(f"load average at end {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    for note in notes:
        print(note)
    r = {(row["size"], row["classes"], row["method"]): row for row in rows}
    if (512, 3, "recycled") in r:
        row = r[(512, 3, "recycled")]
        print(f"targets at 512^2, 3 classes: t_interaction p50 {row['t_interaction_p50_ms']:.1f} ms (<= 30), "
              f"t_image p50 {row['t_image_p50_ms']:.1f} ms (<= 150), whole/recycled "
              f"{r[(512, 3, 'whole')]['ratio_to_recycled']:.1f}x (>= 4)")
    out = {"model": source, "device": str(recycled.device), "threads": torch.get_num_threads(),
           "load_start": load0, "load_end": load1, "rows": rows, "notes": notes}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
