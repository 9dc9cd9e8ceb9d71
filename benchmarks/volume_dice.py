"""Volume Dice against the number of scribbled slices: propagation + ranking, every slice, 3-D random walker.

Tasks (../shared/data/medical), chosen with ``--sets``: ``brats6`` (BraTS 2015 case pat0006, held out from
training; Flair, targets whole tumour (OTMultiClass > 0) and oedema (== 2)), ``brats_all`` (all four BraTS
cases, three of them training cases: the earlier tables), ``totalseg`` (TotalSegmentator's small CT, 3 mm,
spleen (1), right kidney (2) and liver (5)) and ``acdc`` (end-diastole volumes of the ACDC validation
patients ``--acdc-patients``, targets RV (1), myocardium (2), LV (3); stacks of 2-D slices, spacing 1).
Each volume is cropped to the target's bounding box grown by 10 mm on every side, the box a user would
draw around the structure; every method sees the same crop.

Methods, in one run, on the same simulated user (``napari_scribbleseg.simulate.protocol``: a first stroke
on the object, then 000 Alg. 1 corrective scribbles on the largest error, on each scribbled slice until
its Dice reaches 0.9 or ``--per-slice`` strokes; the strokes are counted):

- ``propagate``: the first scribbled slice is the one where the target is largest; after each slice is
  scribbled it is propagated both ways (:class:`VolumeSegmenter`); the next slice is the first of
  :meth:`VolumeSegmenter.ranking` (expected error, worst first); a suggested slice that already looks
  right (Dice >= 0.9, the bar at which the user stops correcting) is accepted (locked) as it is and the next
  suggestion taken (until session 11 the user scribbled on it anyway, at least one stroke). Dice after 1, 3 and 5 scribbled slices.
- ``every_slice``: every slice holding the target scribbled and segmented on its own, no propagation
  (the number of slices it takes is reported), with the same 2-D predictor.
- ``rw3d``: scikit-image's 3-D random walker (voxel spacing given) on exactly the scribbles that
  ``propagate`` placed after 1, 3 and 5 slices, with the crop's side faces as background (the 3-D twin
  of the 2-D baselines' implicit background frame).

    python benchmarks/volume_dice.py --predictors default growcut --sets brats6 totalseg acdc --csv volume_dice.csv

``--ckpt NAME=PATH`` adds a Session on another checkpoint. A name ``A+B`` (e.g. ``default+growcut``) is predictor
A on the scribbled slices and B for the propagation steps (``VolumeSegmenter(propagator=B)``); its
every_slice row is A's and is not repeated. A last part ``+walk3d`` (``default+growcut+walk3d``) re-segments
the volume in 3-D after each propagation (``VolumeSegmenter.walk_3d``: a random walker seeded by every
scribbled slice's whole result). ``rank_rho`` (propagate rows) is the Spearman
correlation, over the slices the ranking scores after each count, between the ranking's priorities (expected
errors, weighed by distance after ``walk3d``) and the slice's true error (mm^2 of wrong pixels): how well "where to scribble next" finds the worst slices.
"""

from __future__ import annotations

import argparse
import csv
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from napari_scribbleseg import get_predictor
from napari_scribbleseg.imaging import ct_window, mr_normalize
from napari_scribbleseg.io import read_volume
from napari_scribbleseg.metrics import dice
from napari_scribbleseg.simulate.protocol import first_interaction, next_scribble
from napari_scribbleseg.volume import VolumeSegmenter

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "medical"
TOTALSEG_ORGANS = {"spleen": 1, "kidney_right": 2, "liver": 5}
ROI_MARGIN_MM = 10.0
COUNTS = (1, 3, 5)
SLICE_TARGET = 0.9  # Dice at which the simulated user leaves a slice
RW3D_BETA = 5000.0
WALK_3D = "walk3d"  # a last name part: VolumeSegmenter.walk_3d after each propagation


@dataclass
class Task:
    dataset: str
    case: str
    target: str
    image: np.ndarray  # (Z, Y, X) float32, cropped
    gt: np.ndarray  # (Z, Y, X) bool, cropped
    spacing: tuple[float, float, float]
    kind: str  # "mr" or "ct"


def crop_to_target(image: np.ndarray, gt: np.ndarray, spacing: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Crop both to ``gt``'s bounding box grown by ROI_MARGIN_MM on every side."""
    box = []
    for axis, s in enumerate(spacing):
        present = np.flatnonzero(gt.any(axis=tuple(a for a in range(3) if a != axis)))
        grow = int(np.ceil(ROI_MARGIN_MM / s))
        box.append(slice(max(present[0] - grow, 0), min(present[-1] + grow + 1, gt.shape[axis])))
    return image[tuple(box)].astype(np.float32), gt[tuple(box)]


SETS = ("brats6", "brats_all", "totalseg", "acdc")
ACDC_TARGETS = {"rv": 1, "myo": 2, "lv": 3}
ACDC_DEFAULT_PATIENTS = tuple(range(76, 101, 3))  # 9 of the 25 validation patients


def load_tasks(
    sets: tuple[str, ...] = ("brats6", "totalseg", "acdc"), acdc_patients=ACDC_DEFAULT_PATIENTS, cases: int | None = None
) -> list[Task]:
    tasks = []
    folders = sorted((DATA / "brats2015").iterdir())[:cases]
    if "brats_all" not in sets:
        folders = [f for f in folders if "pat0006" in f.name] if "brats6" in sets else []
    for folder in folders:
        flair = read_volume(folder / "Flair_subtrMeanDivStd.nii.gz")
        seg = read_volume(folder / "OTMultiClass.nii.gz").array
        for target, mask in (("whole_tumour", seg > 0), ("oedema", seg == 2)):
            image, gt = crop_to_target(flair.array, mask, flair.spacing)
            tasks.append(Task("brats2015", folder.name, target, image, gt, flair.spacing, "mr"))
    if "totalseg" in sets:
        ct = read_volume(DATA / "totalseg" / "example_ct_sm.nii.gz")
        seg = read_volume(DATA / "totalseg" / "example_seg.nii.gz").array
        for organ, value in TOTALSEG_ORGANS.items():
            image, gt = crop_to_target(ct.array, seg == value, ct.spacing)
            tasks.append(Task("totalseg", "example_ct_sm", organ, image, gt, ct.spacing, "ct"))
    if "acdc" in sets:
        for patient in acdc_patients:
            folder = min((DATA / "acdc_scribbles").glob(f"patient{int(patient):03d}_frame*"))  # the first frame: ED
            image = read_volume(folder / "image.nii.gz").array
            labels = read_volume(folder / "label.nii.gz").array
            for target, value in ACDC_TARGETS.items():
                if np.any(labels == value):
                    cropped, gt = crop_to_target(image, labels == value, (1.0, 1.0, 1.0))
                    tasks.append(Task("acdc", folder.name, target, cropped, gt, (1.0, 1.0, 1.0), "mr"))
    return tasks


def binary_gt(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool -> the protocol's binary ground truth: 1 object, 2 background."""
    return np.where(mask, 1, 2).astype(np.int32)


def scribble_slice(seg: VolumeSegmenter, index: int, gt_slice: np.ndarray, max_interactions: int) -> tuple[np.ndarray, int]:
    """Simulate strokes on slice ``index`` of ``seg`` until its Dice reaches SLICE_TARGET (at most
    ``max_interactions``), as a user corrects a slice until it looks right; returns (scribbles, strokes).
    A slice that looks right already gets no strokes (the caller accepts it as it is)."""
    gt = binary_gt(gt_slice)
    scribbles = np.zeros(gt.shape, np.int32)
    pred = seg.slice_labels(index)
    strokes = 0
    while strokes < max_interactions and dice(pred == 1, gt_slice) < SLICE_TARGET:
        if not pred.any() and gt_slice.any() and not scribbles.any():
            stroke = first_interaction(gt)
        else:
            stroke = next_scribble(gt, pred)
        if stroke is None:
            break
        scribbles = stroke.paint(scribbles)
        pred = seg.segment_slice(index, scribbles)
        strokes += 1
    return scribbles, strokes


def propagate_with_ranking(
    task: Task, predictor, interactions: int, propagator=None, walk_3d: bool = False
) -> tuple[list[dict], dict[int, np.ndarray]]:
    """Rows for 1/3/5 scribbled slices and, for each count, the 3-D scribbles placed so far. ``walk_3d``:
    after each propagation, :meth:`VolumeSegmenter.walk_3d` re-segments around the scribbled slices."""
    seg = VolumeSegmenter(task.image, predictor, spacing=task.spacing, kind=task.kind, background=2, propagator=propagator)
    seeds = np.zeros(task.gt.shape, np.int32)
    rows, placed = [], {}
    index: int | None = int(np.argmax(task.gt.sum(axis=(1, 2))))
    start = time.perf_counter()
    n = total_strokes = 0
    while index is not None and n < max(COUNTS):
        scribbles, strokes = scribble_slice(seg, index, task.gt[index], interactions)
        total_strokes += strokes
        if not scribbles.any():  # nothing wrong on the suggested slice: the user accepts it as it is
            seg.lock(index)
        else:
            n += 1
            seeds[index] = scribbles
            if np.any(seg.slice_labels(index) == 1):
                seg.propagate(index, "both")
                if walk_3d:
                    seg.walk_3d()
            if n in COUNTS:
                rows.append({"method": "propagate", "slices": n, "strokes": total_strokes,
                             "dice": dice(seg.labels == 1, task.gt), "seconds": time.perf_counter() - start,
                             "rank_rho": ranking_rho(seg, task)})
                placed[n] = seeds.copy()
        ranking = seg.ranking()
        index = ranking[0] if ranking else None
    for count in COUNTS:  # no suggestion left: the user is done, later counts keep the final result
        if count > n:
            rows.append({"method": "propagate", "slices": count, "strokes": total_strokes,
                         "dice": dice(seg.labels == 1, task.gt), "seconds": time.perf_counter() - start})
            placed[count] = seeds.copy()
    return rows, placed


def ranking_rho(seg: VolumeSegmenter, task: Task) -> float:
    """Spearman correlation between the ranking's priorities (its expected errors, weighed by distance after
    the 3-D finish) and each ranked slice's true error
    (wrong pixels x pixel area); NaN with fewer than 3 ranked slices or no spread."""
    from scipy.stats import spearmanr

    ranked = seg.ranking()
    if len(ranked) < 3:
        return float("nan")
    priorities = seg.priorities()
    expected = [priorities[i] for i in ranked]
    true = [np.count_nonzero((seg.slice_labels(i) == 1) != task.gt[i]) * seg.pixel_area for i in ranked]
    if np.ptp(expected) == 0 or np.ptp(true) == 0:
        return float("nan")
    return float(spearmanr(expected, true).statistic)


def every_slice(task: Task, predictor, interactions: int) -> dict:
    seg = VolumeSegmenter(task.image, predictor, spacing=task.spacing, kind=task.kind, background=2)
    start = time.perf_counter()
    slices = np.flatnonzero(task.gt.any(axis=(1, 2)))
    strokes = sum(scribble_slice(seg, int(index), task.gt[index], interactions)[1] for index in slices)
    return {"method": "every_slice", "slices": len(slices), "strokes": strokes, "dice": dice(seg.labels == 1, task.gt),
            "seconds": time.perf_counter() - start}


def random_walker_3d(task: Task, seeds: np.ndarray) -> float:
    """Dice of scikit-image's 3-D random walker from ``seeds`` (1 object, 2 background).

    Voxel spacing is given to the solver. Volumes with in-plane pixels under 2 mm (BraTS) are solved at
    half in-plane resolution (mean-pooled image, subsampled seeds; probabilities upsampled linearly),
    which keeps one solve under a minute here. beta = 5000 was the best of 130 / 1000 / 5000 on
    brats_2013_pat0003_1 whole tumour and the totalseg liver (tuned in the peer's favour).
    """
    import importlib.util

    from scipy import ndimage as ndi
    from skimage.segmentation import random_walker
    from skimage.transform import downscale_local_mean

    # the multigrid solver (pyamg) when it is installed: in 3-D the direct solve fills in too much
    mode = "cg_mg" if importlib.util.find_spec("pyamg") is not None else "cg_j"
    data = ct_window(task.image, 40, 400) if task.kind == "ct" else mr_normalize(task.image)
    seeds = seeds.copy()
    frame = np.ones(seeds.shape, bool)
    frame[:, 1:-1, 1:-1] = False
    seeds[frame & (seeds == 0)] = 2
    f = 2 if max(task.spacing[1:]) < 2.0 else 1
    small = downscale_local_mean(data, (1, f, f))
    small_seeds = seeds[:, ::f, ::f][:, : small.shape[1], : small.shape[2]]
    spacing = (task.spacing[0], task.spacing[1] * f, task.spacing[2] * f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        prob = random_walker(small, small_seeds, beta=RW3D_BETA, mode=mode, tol=1e-3, spacing=spacing,
                             return_full_prob=True)
    zoom = np.array(data.shape) / np.array(prob.shape[1:])
    object_prob = ndi.zoom(prob[0], zoom, order=1)[: data.shape[0], : data.shape[1], : data.shape[2]]
    return dice(object_prob > 0.5, task.gt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictors", nargs="+", default=["growcut"], help="get_predictor names (2-D)")
    parser.add_argument("--per-slice", type=int, default=5,
                        help=f"at most this many strokes per scribbled slice (fewer once its Dice >= {SLICE_TARGET})")
    parser.add_argument("--sets", nargs="+", choices=SETS, default=["brats6", "totalseg", "acdc"], help="volume sets")
    parser.add_argument("--acdc-patients", nargs="+", type=int, default=list(ACDC_DEFAULT_PATIENTS),
                        help="ACDC validation patients (76-100) whose end-diastole volume is used")
    parser.add_argument("--ckpt", nargs="*", default=[], metavar="NAME=PATH", help="also a Session on this checkpoint")
    parser.add_argument("--cases", type=int, default=None,
                        help="with --sets brats_all: the first N BraTS cases (the earlier tables: --sets brats_all totalseg)")
    parser.add_argument("--csv", type=Path, default=None, help="write every row here")
    parser.add_argument("--plot", type=Path, default=None, help="write the Dice-vs-slices figure (PNG) here")
    parser.add_argument("--from-csv", type=Path, default=None, help="summarise and plot a CSV of an earlier run")
    args = parser.parse_args()

    rows = read_rows(args.from_csv) if args.from_csv else run(args)
    print_summary(rows)
    if args.plot:
        plot(rows, args.plot)


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row.update(slices=int(row["slices"]), strokes=int(row["strokes"]), dice=float(row["dice"]),
                   seconds=float(row["seconds"]), rank_rho=float(row.get("rank_rho") or "nan"))
    return rows


def predictor_names(predictors: list[str], ckpt: list[str]) -> tuple[list[str], dict[str, str]]:
    """The names to run (``--predictors`` then the ``--ckpt`` names) and the checkpoint of each ``--ckpt`` name."""
    ckpts = dict(spec.partition("=")[::2] for spec in ckpt)
    return [*predictors, *ckpts], ckpts


def build_predictors(name: str, ckpts: dict[str, str]) -> tuple[list, bool]:
    """([predictor] or [predictor, propagator], walk_3d) for a name ``A``, ``A+B``, ``A+walk3d`` or
    ``A+B+walk3d``; a ``--ckpt`` name is a Session on its file."""
    from napari_scribbleseg.session import Session

    parts = name.split("+")
    walk_3d = parts[-1] == WALK_3D
    if walk_3d:
        parts = parts[:-1]
    return [Session(ckpts[n], device="cpu") if n in ckpts else get_predictor(n) for n in parts], walk_3d


def run(args: argparse.Namespace) -> list[dict]:
    rows = []
    names, ckpts = predictor_names(args.predictors, args.ckpt)
    for task in load_tasks(tuple(args.sets), tuple(args.acdc_patients), args.cases):
        base = {"dataset": task.dataset, "case": task.case, "target": task.target}
        rw3d_done = False
        for name in names:
            (predictor, *propagator), walk_3d = build_predictors(name, ckpts)
            prop_rows, placed = propagate_with_ranking(task, predictor, args.per_slice, *propagator, walk_3d=walk_3d)
            for row in [*prop_rows, *([] if propagator or walk_3d else [every_slice(task, predictor, args.per_slice)])]:
                rows.append({**base, "predictor": name, **row})
            if not rw3d_done:  # the 3-D peer uses the first predictor's scribbles
                for n, seeds in placed.items():
                    start = time.perf_counter()
                    value = random_walker_3d(task, seeds)
                    strokes = next(r["strokes"] for r in prop_rows if r["slices"] == n)
                    rows.append({**base, "predictor": f"rw3d<-{name}", "method": "rw3d", "slices": n,
                                 "strokes": strokes, "dice": value, "seconds": time.perf_counter() - start})
                rw3d_done = True
            print(f"{task.dataset}/{task.case}/{task.target} {name}: " + ", ".join(
                f"{r['method']}@{r['slices']}={r['dice']:.3f}/{r['strokes']}st" for r in rows if r["case"] == task.case
                and r["target"] == task.target and r["predictor"] in (name, f"rw3d<-{name}")), flush=True)

    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
            writer.writeheader()
            writer.writerows(rows)
    return rows


def plot(rows: list[dict], path: Path) -> None:
    """One panel per (dataset, target): mean Dice against scribbled slices for propagate and rw3d, and
    every_slice as a dashed level labelled with its slice count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({(r["dataset"], r["target"]) for r in rows})
    fig, axes = plt.subplots(1, len(groups), figsize=(3.2 * len(groups), 3.2), sharey=True, squeeze=False)
    for ax, (dataset, target) in zip(axes[0], groups):
        mine = [r for r in rows if (r["dataset"], r["target"]) == (dataset, target)]
        for predictor in sorted({r["predictor"] for r in mine}):
            theirs = [r for r in mine if r["predictor"] == predictor]
            curve = [np.mean([r["dice"] for r in theirs if r["slices"] == n and r["method"] != "every_slice"])
                     for n in COUNTS]
            line = ax.plot(COUNTS, curve, marker="o", label=f"{predictor} {theirs[0]['method']}"
                           if theirs[0]["method"] == "rw3d" else f"{predictor} propagate")[0]
            flat = [r for r in theirs if r["method"] == "every_slice"]
            if flat:
                level = np.mean([r["dice"] for r in flat])
                ax.axhline(level, ls="--", color=line.get_color(), lw=1)
                ax.annotate(f"every slice ({np.mean([r['slices'] for r in flat]):.0f})", (COUNTS[-1], level),
                            fontsize=7, ha="right", va="bottom", color=line.get_color())
        ax.set_title(f"{dataset}\n{target}", fontsize=9)
        ax.set_xticks(COUNTS)
        ax.set_xlabel("scribbled slices")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("volume Dice")
    axes[0][0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def print_summary(rows: list[dict]) -> None:
    """Markdown table: mean Dice per (dataset, target) and method/predictor/slice count, with the mean
    number of strokes (st.) it took and, for every_slice, the number of slices (sl.)."""
    groups = sorted({(r["dataset"], r["target"]) for r in rows})
    columns = sorted({(r["predictor"], r["method"], r["slices"] if r["method"] != "every_slice" else 0)
                      for r in rows}, key=lambda c: (c[0], c[1], c[2]))
    header = ["dataset / target"] + [f"{p} {m}" + (f"@{n}" if n else "") for p, m, n in columns]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for dataset, target in groups:
        cells = []
        for p, m, n in columns:
            picked = [r for r in rows if (r["dataset"], r["target"], r["predictor"], r["method"]) == (dataset, target, p, m)
                      and (m == "every_slice" or r["slices"] == n)]
            if not picked:
                cells.append("")
            elif m == "every_slice":
                cells.append(f"{np.mean([r['dice'] for r in picked]):.3f} ({np.mean([r['slices'] for r in picked]):.0f} sl., "
                             f"{np.mean([r['strokes'] for r in picked]):.0f} st.)")
            else:
                cells.append(f"{np.mean([r['dice'] for r in picked]):.3f} ({np.mean([r['strokes'] for r in picked]):.0f} st.)")
        print(f"| {dataset} / {target} | " + " | ".join(cells) + " |")
    ranked = sorted({r["predictor"] for r in rows if r["method"] == "propagate"})
    print("\nRanking: Spearman rho of expected vs true slice error after 1 / 3 scribbled slices (mean over cases)")
    print("| dataset / target | " + " | ".join(ranked) + " |")
    print("|" + "---|" * (len(ranked) + 1))
    for dataset, target in groups:
        cells = []
        for p in ranked:
            values = [[r["rank_rho"] for r in rows if (r["dataset"], r["target"], r["predictor"], r["method"], r["slices"])
                       == (dataset, target, p, "propagate", n) and np.isfinite(float(r.get("rank_rho", "nan")))] for n in (1, 3)]
            cells.append(" / ".join(f"{np.mean(v):.2f}" if v else "-" for v in values))
        print(f"| {dataset} / {target} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
