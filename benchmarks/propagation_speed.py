"""Speed of propagation: one scribbled slice carried through 150 slices of 240x240.

The volume is generated (seeded): a bright tube whose elliptic cross-section drifts and changes size
through every slice, over a smooth textured background with noise, so propagation runs the whole length.
Target: <= 15 s for the 150 slices. In the same run, the peer: the same predictor run on each slice with
the scribbles and previous mask given (set_image + predict per slice: what segmenting every slice costs
in compute without propagation), so the ratio shows what propagation adds. The machine is shared: compare ratios, not seconds.

    python benchmarks/propagation_speed.py --predictor growcut
    python benchmarks/propagation_speed.py --predictor default
    python benchmarks/propagation_speed.py --predictor default --propagator growcut --walk-3d   # 'Through object'
    python benchmarks/propagation_speed.py --arch scribbleseg_lite0   # the Session, untrained weights

Stopping on low confidence is off (``min_confidence=0``); with ``--arch`` (an untrained network, whose
speed is that of the trained one) the area stop and the seed check are off too and slice 0 starts from
its true labels, so it also runs the whole length. Every other step (derived seeds, uncertainty) runs
as usual.
One warm-up slice precedes both timings.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage as ndi

from napari_scribbleseg import get_predictor
from napari_scribbleseg.metrics import dice
from napari_scribbleseg.volume import PropagationSettings, VolumeSegmenter
from napari_scribbleseg.volume.seeds import derive_scribbles

TARGET_S = 15.0


def tube_volume(n_slices: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(Z, Y, X) float32 image and bool ground truth: a drifting, breathing elliptic tube."""
    rng = np.random.default_rng(seed)
    texture = ndi.gaussian_filter(rng.normal(0, 1, (n_slices, size, size)), (2, 6, 6))
    texture /= texture.std()
    yy, xx = np.mgrid[:size, :size]
    gt = np.zeros((n_slices, size, size), bool)
    for z in range(n_slices):
        t = z / n_slices
        cy, cx = size * (0.45 + 0.1 * np.sin(2 * np.pi * t)), size * (0.5 + 0.1 * np.cos(2 * np.pi * t))
        ry, rx = size * (0.18 + 0.05 * np.sin(4 * np.pi * t)), size * (0.14 + 0.04 * np.cos(3 * np.pi * t))
        gt[z] = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    image = 100.0 + 40.0 * gt + 8.0 * texture + rng.normal(0, 6, gt.shape)
    return image.astype(np.float32), gt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictor", default="growcut", help="a get_predictor name (default: growcut)")
    parser.add_argument("--arch", default=None, help="time a Session on this untrained architecture instead")
    parser.add_argument("--propagator", default=None, help="a get_predictor name for the propagation steps (e.g. growcut)")
    parser.add_argument("--walk-3d", action="store_true",
                        help="then re-segment in 3-D (VolumeSegmenter.walk_3d, the widget's 'Through object'); timed with it")
    parser.add_argument("--slices", type=int, default=150)
    parser.add_argument("--size", type=int, default=240)
    args = parser.parse_args()

    image, gt = tube_volume(args.slices + 1, args.size)
    first = np.where(gt[0], 1, 0).astype(np.int32)
    user = derive_scribbles(first, [1], 2, (1.0, 1.0), margin_mm=3.0, ring_width_mm=2.0)

    if args.arch:
        from napari_scribbleseg.model import build_model
        from napari_scribbleseg.session import Session

        name, predictor = f"Session({args.arch}, untrained)", Session(build_model(args.arch))
    else:
        name, predictor = args.predictor, get_predictor(args.predictor)
    predictor.set_image(image[-1])  # warm-up (first torch call, caches): not part of either timing
    predictor.predict(user)
    # an untrained network segments nothing, so it must not stop on area either (timing only)
    untrained = {"min_area_mm2": 0.0, "appearance_z": None} if args.arch else {}
    settings = PropagationSettings(min_confidence=0.0, **untrained)
    propagator = get_predictor(args.propagator) if args.propagator else None
    if propagator is not None:
        name = f"{name} + {args.propagator} propagating"
        propagator.set_image(image[-1])
        propagator.predict(user)
    seg = VolumeSegmenter(image, predictor, kind="mr", background=2, settings=settings, propagator=propagator)
    seg.segment_slice(0, user)
    if args.arch:  # ... nor slice 0: start from its true labels, as if the user had corrected them
        seg.labels[0] = np.where(gt[0], 1, 2)
    start = time.perf_counter()
    result = seg.propagate(0, 1)
    if args.walk_3d:
        name += " + 3-D walker"
        walk_start = time.perf_counter()
        seg.walk_3d()
        print(f"3-D walker: {time.perf_counter() - walk_start:.2f} s of the propagation time below")
    propagation_s = time.perf_counter() - start
    n = len(result.written)

    # the peer: the same predictor calls on every slice, scribbles and previous mask given (from the ground truth)
    given = [derive_scribbles(np.where(gt[z], 1, 0), [1], 2, (1.0, 1.0), 3.0, 2.0) for z in range(args.slices + 1)]
    predictor = propagator or predictor  # the peer runs what the propagation steps run
    clear_cache = getattr(predictor, "clear_cache", None)
    if clear_cache is not None:  # a Session keeps the features propagation computed: the peer computes its own
        clear_cache()
    start = time.perf_counter()
    for z in range(1, args.slices + 1):
        predictor.set_image(image[z])
        predictor.predict(given[z], np.where(gt[z - 1], 1, 2))
    peer_s = time.perf_counter() - start

    per_slice_ms = 1000 * propagation_s / max(n, 1)
    print(f"predictor: {name}; volume {args.slices + 1}x{args.size}x{args.size}")
    print(f"propagated {n} slices (stop: {result.stops[1].reason} at {result.stops[1].index}), "
          f"volume Dice {dice(seg.labels == 1, gt):.3f}")
    print(f"propagation: {propagation_s:.2f} s ({per_slice_ms:.0f} ms/slice); "
          f"target {TARGET_S:.0f} s -> ratio {propagation_s / TARGET_S:.2f} (<= 1 meets it)")
    print(f"peer (predictor alone per slice, scribbles given): {peer_s:.2f} s -> propagation / peer = "
          f"{propagation_s / peer_s:.2f}")


if __name__ == "__main__":
    main()
