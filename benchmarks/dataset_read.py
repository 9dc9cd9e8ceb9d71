"""How long the dataset readers take on ../shared/data: building the index and reading one sample.

Run from the repository root:  python benchmarks/dataset_read.py [--samples 20]
Prints one row per dataset: samples, index build time, and per-sample read time (mean, p95), with
the per-sample time of reading the same image file with PIL alone as the peer for 2-D folders.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from napari_scribbleseg.datasets import load_dataset

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20, help="samples read per dataset")
    args = parser.parse_args()
    totalseg = DATA / "medical" / "totalseg"
    sources = [
        ("grabcut", DATA / "natural" / "grabcut", {}),
        ("coco_mval", DATA / "natural" / "coco_mval", {}),
        ("ct_slices_2d", DATA / "medical" / "ct_slices_2d", {}),
        ("brats2015 (1 case, axis 0)", DATA / "medical" / "brats2015", {"cases": 1}),
        ("totalseg CT NIfTI (axis 2)", (totalseg / "example_ct_sm.nii.gz", totalseg / "example_seg.nii.gz"), {"axis": 2}),
        ("totalseg CT DICOM (axis 0)", (totalseg / "example_ct_dicom", totalseg / "example_seg_dicom.nii.gz"), {"axis": 0}),
    ]
    print(f"{'dataset':30s} {'samples':>8s} {'index s':>8s} {'read ms mean':>13s} {'p95':>7s} {'PIL-only ms':>12s}")
    for name, source, options in sources:
        if not Path(source if isinstance(source, Path) else source[0]).exists():
            print(f"{name:30s} missing")
            continue
        ds = load_dataset(source, **options)
        index_s = _time(lambda: len(ds))
        picks = np.linspace(0, len(ds) - 1, min(args.samples, len(ds))).astype(int)
        times = [_time(lambda i=i: ds[int(i)]) * 1e3 for i in picks]
        peer = ""
        if isinstance(source, Path) and (source / "images").is_dir():
            paths = [ds[int(i)].meta.get("path") for i in picks[:5]]
            peer_ms = [_time(lambda p=p: np.asarray(Image.open(p))) * 1e3 for p in paths]
            peer = f"{np.mean(peer_ms):12.1f}"
        print(f"{name:30s} {len(ds):8d} {index_s:8.2f} {np.mean(times):13.1f} {np.percentile(times, 95):7.1f} {peer}")


if __name__ == "__main__":
    main()
