"""t_image of each EfficientNet-Lite trunk the model can be built on, against Lite0's in the same run.

Issue 15's lever "a stronger ImageNet trunk if t_image stays within bound" (<= 150 ms at 512^2 on this CPU):
each architecture (``scribbleseg_lite0`` as shipped, ``scribbleseg_lite1``, ``scribbleseg_lite2``) encodes the
same 512 x 512 image, in interleaved rounds so that a change in the machine's speed reaches every trunk alike,
and the script prints the p50 / p95 of each, its ratio to Lite0 and, for a trained Lite0 t_image measured
elsewhere (``--lite0-ms``, e.g. from benchmarks/latency.py), what each trunk would take on that machine.
Weights do not change the timing (randomly initialised; the encoder's work is the same).

    python benchmarks/trunk_speed.py --threads 2
    python benchmarks/trunk_speed.py --size 512 --rounds 15 --archs scribbleseg_lite0 scribbleseg_lite2
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

ARCHS = ("scribbleseg_lite0", "scribbleseg_lite1", "scribbleseg_lite2")


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=list(ARCHS))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--lite0-ms", type=float, default=None, help="a trained Lite0's t_image p50 measured elsewhere")
    args = parser.parse_args(argv)

    import torch

    from napari_scribbleseg.model import build_model
    from napari_scribbleseg.session import Session

    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    image = rng.random((args.size, args.size, 3)).astype(np.float32)
    sessions = {}
    for arch in args.archs:
        torch.manual_seed(0)
        model = build_model(arch, head_size=192, encoder_max_side=512).eval()
        params = sum(p.numel() for p in model.encoder.parameters())
        sessions[arch] = (Session(model, num_threads=None), params)
        sessions[arch][0].set_image(image, key="warm-up")  # first-call allocations, not timed
    print(f"torch threads {torch.get_num_threads()}; cpu count {os.cpu_count()}; load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    times: dict[str, list[float]] = {arch: [] for arch in args.archs}
    for rep in range(args.rounds):
        for arch, (session, _) in sessions.items():
            start = time.perf_counter()
            session.set_image(image, key=f"{arch}-{rep}")  # a fresh key: nothing from the cache
            times[arch].append(time.perf_counter() - start)
    base = float(np.median(times[args.archs[0]]))
    print(f"{'arch':20s} {'encoder params':>14s} {'t_image p50 ms':>15s} {'p95':>7s} {'x ' + args.archs[0]:>22s}" + (
        f" {'at --lite0-ms':>14s}" if args.lite0_ms else ""))
    for arch, (_, params) in sessions.items():
        p50, p95 = 1e3 * float(np.median(times[arch])), 1e3 * float(np.percentile(times[arch], 95))
        line = f"{arch:20s} {params:14,d} {p50:15.1f} {p95:7.1f} {p50 / (1e3 * base):21.2f}x"
        if args.lite0_ms:
            line += f" {args.lite0_ms * p50 / (1e3 * base):13.1f}"
        print(line)
    print(f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return times


if __name__ == "__main__":
    main()
