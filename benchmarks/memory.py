"""Peak memory of one ``set_image`` + ``predict`` above the input arrays, per predictor and image size.

Each (predictor, size) runs in a fresh process: it builds an RGB uint8 image with two objects and a
two-class scribble map, records its resident memory, then runs ``set_image`` + ``predict`` (twice, the
second with ``prev``) and reports the process's peak resident memory minus that starting point, beside
the size of the input image. Sizes above :data:`napari_scribbleseg.imaging.MAX_IMAGE_PIXELS` must be
refused at ``set_image`` with a message naming the limit (reported as ``refused``).

    python benchmarks/memory.py                      # 1024, 4096 and 20000 px, every predictor
    python benchmarks/memory.py --sizes 4096 --predictors default growcut

The goal (issue 13): whatever the image size, at most 1.5 GB above the input.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

PREDICTORS = ("default", "growcut", "random_walker", "grabcut")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def measure(name: str, size: int) -> dict:
    """Run in this process: the peak memory of ``name`` on a ``size`` x ``size`` image."""
    import time

    import numpy as np

    from napari_scribbleseg import get_predictor
    from napari_scribbleseg.errors import InputError

    predictor = get_predictor(name)
    image = np.zeros((size, size, 3), np.uint8)
    image[size // 4 : size // 2, size // 4 : size // 2] = (200, 60, 40)
    image[size // 2 :, size // 2 :] = (40, 90, 200)
    scribbles = np.zeros((size, size), np.uint8)
    scribbles[size // 3, size // 4 + 2 : size // 2 - 2] = 1
    scribbles[3 * size // 4, size // 2 + 2 : size - 2] = 2
    input_mb = (image.nbytes + scribbles.nbytes) / 2**20
    start = _rss_mb()
    t0 = time.perf_counter()
    try:
        predictor.set_image(image)
    except InputError as error:
        return {"predictor": name, "size": size, "input_mb": round(input_mb, 1), "refused": str(error)}
    labels = predictor.predict(scribbles)
    labels = predictor.predict(scribbles, prev=labels)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "predictor": name,
        "size": size,
        "input_mb": round(input_mb, 1),
        "peak_above_input_mb": round(peak - start, 1),
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096, 20000])
    parser.add_argument("--predictors", nargs="+", default=list(PREDICTORS))
    parser.add_argument("--one", nargs=2, metavar=("PREDICTOR", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]))))
        return
    from napari_scribbleseg.imaging import MAX_IMAGE_PIXELS

    print(f"limit: {MAX_IMAGE_PIXELS} pixels per image; goal: peak <= 1536 MB above the input")
    print(f"{'predictor':<14} {'size':>6} {'input MB':>9} {'peak MB':>8} {'s':>6}  note")
    for size in args.sizes:
        for name in args.predictors:
            run = subprocess.run(
                [sys.executable, __file__, "--one", name, str(size)], capture_output=True, text=True, check=False
            )
            if run.returncode:
                print(f"{name:<14} {size:>6} failed: {run.stderr.strip().splitlines()[-1:]}")
                continue
            row = json.loads(run.stdout.strip().splitlines()[-1])
            if "refused" in row:
                print(f"{name:<14} {size:>6} {row['input_mb']:>9} {'-':>8} {'-':>6}  refused: {row['refused'][:90]}")
            else:
                ok = "ok" if row["peak_above_input_mb"] <= 1536 else "OVER 1.5 GB"
                print(
                    f"{name:<14} {size:>6} {row['input_mb']:>9} {row['peak_above_input_mb']:>8} "
                    f"{row['seconds']:>6}  {ok}"
                )


if __name__ == "__main__":
    main()
