"""The simulation loop: a simulated user scribbles, a predictor answers, the IoU is recorded.

Binary protocol (000 Sec. 3.4). The ground truth's object is class 1, the rest class 2 (an ignore band is
left out of everything). The first interaction is the simulator's stroke on the object; each next one goes
on the largest error region (a false negative gives a class-1 stroke, a false positive a class-2 stroke).
Strokes accumulate in one scribble map and the predictor is called with ``predict(scribbles, prev=last
prediction)``. The IoU of ``prediction == 1`` against the object, outside the ignore band, is recorded after
each interaction.

Multi-region protocol (002). Every labelled region k of the ground truth is class k and the unlabelled
background, where present, class K + 1; all are solved jointly. Interactions are counted as 002 counts them,
in scribbles per region: interaction 1 is one scribble in every region (the predictor is called once, after
all of them); each later interaction is a round of R more scribbles (R = number of classes, background
included), each placed on the largest error anywhere and followed by a ``predict``. The recorded score is
the mean IoU over the labelled regions 1..K (the background region is scribbled but not averaged).

Stopping rule: a sample stops as soon as its score reaches the highest target, or after
``max_interactions``; its curve is then carried forward at its last value, as
:func:`napari_scribbleseg.metrics.padded_curves` does, so NoI and mIoU@k come from the same run.

Times: ``set_image`` and every ``predict`` are timed apart with ``time.perf_counter``.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.metrics import iou, number_of_interactions
from napari_scribbleseg.predictor import Predictor, get_predictor, takes_current
from napari_scribbleseg.scribbles import as_label_map

if TYPE_CHECKING:
    from napari_scribbleseg.datasets import Sample

#: a simulator: ``f(gt, pred, ignore) -> Interaction | None`` (see simulate.protocol.next_scribble)
Simulator = Callable[..., Any]


@dataclass(frozen=True)
class LoopSettings:
    """What every sample of one evaluation shares (picklable, handed to worker processes)."""

    simulator: str | Simulator = "scribble"
    targets: tuple[float, ...] = (0.85, 0.90)
    max_interactions: int = 20
    width: float = 3.0
    multi_region: bool = False
    keep_scribbles: bool = False


def target_key(target: float) -> str:
    """Column suffix of a target: 0.85 -> "85", 0.875 -> "87.5"."""
    return f"{target * 100:g}"


def resolve_simulator(simulator: str | Simulator, width: float = 3.0) -> Simulator:
    """``f(gt, pred, ignore)`` for "scribble" (000's deterministic scribble, ``width`` px), "click" or a callable.

    A callable must have the signature of :func:`napari_scribbleseg.simulate.protocol.next_scribble`;
    it gets ``width`` when it takes that keyword.
    """
    if isinstance(simulator, str):
        from napari_scribbleseg.simulate.protocol import get_simulator

        function = get_simulator(simulator)
    elif callable(simulator):
        function = simulator
    else:
        raise InputError(
            f"simulator {simulator!r} is neither a name nor a callable; use 'scribble', 'click' or a function "
            "f(gt, pred, ignore) -> Interaction | None"
        )
    try:
        takes_width = "width" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        takes_width = False
    return partial(function, width=width) if takes_width else function


def simulator_name(simulator: str | Simulator) -> str:
    """A printable name of a simulator spec."""
    return simulator if isinstance(simulator, str) else getattr(simulator, "__name__", type(simulator).__name__)


def task_labels(sample: "Sample", multi_region: bool) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The sample as a simulator's task: (gt classes 1..R, ignore mask, classes scored).

    Binary: object 1, background 2, scored [1]. Multi-region: regions 1..K in ascending order of their gt
    value, the background (gt 0) K + 1 where present outside ``ignore``, scored [1..K].
    """
    gt = np.asarray(sample.gt)
    ignore = np.zeros(gt.shape, bool) if sample.ignore is None else np.asarray(sample.ignore, bool)
    if ignore.shape != gt.shape:
        raise InputError(f"sample {sample.name!r}: ignore mask {ignore.shape} does not match gt {gt.shape}; give the sample an ignore mask of its ground truth's shape (or None)")
    valid = ~ignore
    if not multi_region:
        obj = gt > 0
        if not (obj & valid).any():
            raise InputError(f"sample {sample.name!r} has no object pixel outside the ignore mask; drop it from the dataset")
        return np.where(obj, 1, 2).astype(np.int32), ignore, [1]
    values = [int(v) for v in np.unique(gt[valid]) if v != 0]
    if not values:
        raise InputError(f"sample {sample.name!r} has no labelled region outside the ignore mask; drop it from the dataset")
    classes = np.zeros(gt.shape, np.int32)
    for k, value in enumerate(values, start=1):
        classes[gt == value] = k
    classes[gt == 0] = len(values) + 1
    return classes, ignore, list(range(1, len(values) + 1))


def _missing(gt: np.ndarray, k: int) -> np.ndarray:
    """A prediction right everywhere except on class k (given to another class), so the simulator's
    largest error is class k's largest part: how the first stroke of each class is placed."""
    other = 2 if k == 1 else 1
    return np.where(gt == k, other, gt).astype(np.int32)


def _score(pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray, scored: list[int]) -> tuple[float, list[float]]:
    per_class = [iou(pred == k, gt == k, ignore) for k in scored]
    return float(np.mean(per_class)), per_class


def model_input(sample: "Sample") -> np.ndarray:
    """The image handed to ``set_image``: photos as they are; CT/MR slices windowed/normalised to RGB float
    by :func:`napari_scribbleseg.imaging.to_rgb_float` (a predictor cannot guess a CT window)."""
    if sample.kind in ("ct", "mr"):
        from napari_scribbleseg.imaging import to_rgb_float

        return to_rgb_float(sample.image, kind=sample.kind)
    return np.asarray(sample.image)


def run_sample(
    predictor: Predictor, predictor_name: str, sample: "Sample", settings: LoopSettings, simulate: Simulator
) -> dict[str, Any]:
    """Run the protocol of one predictor on one sample and return its row.

    Row keys: ``sample``, ``predictor``, ``iou`` (list, one score per interaction, stopped early at the
    highest target), ``NoI@t`` and ``reached@t`` per target, ``n_interactions``, ``n_predicts``,
    ``t_image`` (s), ``t_interaction`` (list of s, one per predict); multi-region rows add ``region_iou``
    (per interaction, per scored class); with ``keep_scribbles``: ``scribbles`` ((H, W) int32 final map),
    ``stroke_index`` ((H, W) int16, 1-based index of the stroke that drew each pixel, 0 none) and
    ``predictions`` ((n, H, W) uint8 or int32, the prediction after each interaction).
    """
    gt, ignore, scored = task_labels(sample, settings.multi_region)
    image = model_input(sample)
    start = time.perf_counter()
    predictor.set_image(image)
    t_image = time.perf_counter() - start

    classes = list(range(1, int(gt.max()) + 1)) if settings.multi_region else [1]
    scribbles = np.zeros(gt.shape, np.int32)
    stroke_index = np.zeros(gt.shape, np.int16)
    pred: np.ndarray | None = None
    curve: list[float] = []
    region_curve: list[list[float]] = []
    times: list[float] = []
    predictions: list[np.ndarray] = []
    n_strokes = 0
    goal = max(settings.targets)
    drawn = np.zeros(gt.shape, bool)  # the strokes since the last predict: the model's current stroke
    options = {"current": drawn} if takes_current(predictor) else {}

    def add(interaction: Any) -> None:
        nonlocal n_strokes
        n_strokes += 1
        scribbles[interaction.mask] = int(interaction.label)
        stroke_index[interaction.mask] = n_strokes
        drawn[interaction.mask] = True

    def predict() -> np.ndarray:
        start = time.perf_counter()
        out = predictor.predict(scribbles.copy(), prev=None if pred is None else pred.copy(), **options)
        times.append(time.perf_counter() - start)
        drawn[:] = False
        if np.shape(out) != gt.shape:
            raise InputError(
                f"predictor {predictor_name!r} returned shape {np.shape(out)} for an image of {gt.shape}; predict must "
                "return one (H, W) label per pixel"
            )
        return as_label_map(out, gt.shape)

    for step in range(settings.max_interactions):
        if step == 0:
            for k in classes:
                first = simulate(gt, _missing(gt, k), ignore)
                if first is None:
                    raise InputError(f"sample {sample.name!r}: the simulator placed no stroke on class {k} (the region is thinner than the stroke or all ignored); lower `width` or leave the sample out")
                add(first)
            pred = predict()
        else:
            for _ in range(len(classes)):
                interaction = simulate(gt, pred, ignore)
                if interaction is None:  # nothing left to correct
                    break
                add(interaction)
                pred = predict()
        score, per_class = _score(pred, gt, ignore, scored)
        curve.append(score)
        region_curve.append(per_class)
        if settings.keep_scribbles:
            predictions.append(pred.copy())
        if score >= goal:
            break

    row: dict[str, Any] = {"sample": sample.name, "predictor": predictor_name, "iou": curve}
    for target in settings.targets:
        key = target_key(target)
        row[f"NoI@{key}"] = number_of_interactions(curve, target, settings.max_interactions)
        row[f"reached@{key}"] = bool(any(v >= target for v in curve))
    row.update(n_interactions=len(curve), n_predicts=len(times), t_image=t_image, t_interaction=times)
    if settings.multi_region:
        row["region_iou"] = region_curve
    if settings.keep_scribbles:
        row["scribbles"] = scribbles
        row["stroke_index"] = stroke_index
        dtype = np.uint8 if int(gt.max()) <= 255 else np.int32
        row["predictions"] = np.stack(predictions).astype(dtype)
    return row


# -- worker side (spawn-safe: plain top-level functions, predictors rebuilt by name) ------------------------

_WORKER_PREDICTORS: dict[str, Predictor] = {}


def init_worker() -> None:
    """Worker start-up: one OpenCV thread per process, so n_jobs processes use n_jobs cores."""
    import cv2

    cv2.setNumThreads(1)


def build_predictor(spec: str | Predictor) -> Predictor:
    """A predictor from a registry name or an object already one (its copy, in a worker)."""
    if isinstance(spec, str):
        if spec not in _WORKER_PREDICTORS:
            _WORKER_PREDICTORS[spec] = get_predictor(spec)
        return _WORKER_PREDICTORS[spec]
    return spec


def run_sample_all(
    index: int, sample: "Sample", specs: Sequence[tuple[str, str | Predictor]], settings: LoopSettings
) -> tuple[int, list[dict[str, Any]]]:
    """Every predictor on one sample (the unit of work of a worker process); returns (index, rows)."""
    simulate = resolve_simulator(settings.simulator, settings.width)
    return index, [run_sample(build_predictor(spec), name, sample, settings, simulate) for name, spec in specs]
