"""What the connected-to-strokes rule costs per interaction: the Session with and without it, interleaved.

The two settings alternate, rep by rep, on the same image and scribbles as ``latency.py`` (its
``make_scene``), so a machine whose speed drifts slows both alike. Prints t_interaction p25/p50 of each
and their difference::

    PYTHONPATH=src python benchmarks/connected_cost.py --size 512 --classes 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from latency import make_scene  # noqa: E402  (the scene the latency table uses)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--reps", type=int, default=30, help="interaction sequences per setting")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint", default=None, help="default: the shipped weights")
    args = parser.parse_args(argv)

    from napari_scribbleseg.session import DEFAULT_WEIGHTS, Session

    image, maps = make_scene(args.size, args.classes)
    session = Session(args.checkpoint or DEFAULT_WEIGHTS, device="cpu", num_threads=args.threads)
    session.set_image(image)
    times: dict[bool, list[float]] = {False: [], True: []}
    for rep in range(args.reps):
        for connected in (False, True) if rep % 2 else (True, False):
            session.connected = connected
            prev = None
            for scribbles in maps:
                start = time.perf_counter()
                prev = session.predict(scribbles, prev=prev)
                times[connected].append(time.perf_counter() - start)
    ms = {k: np.asarray(v) * 1e3 for k, v in times.items()}
    for connected, label in ((False, "without the rule"), (True, "with the rule")):
        print(f"{args.size}^2, {args.classes} classes, {label:17s}: t_interaction p25 {np.percentile(ms[connected], 25):.1f} "
              f"ms, p50 {np.median(ms[connected]):.1f} ms ({len(ms[connected])} predicts)")
    print(f"the rule costs {np.median(ms[True]) - np.median(ms[False]):.1f} ms at p50 "
          f"({np.median(ms[True]) / np.median(ms[False]):.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
