"""``evaluate()``: predictors x samples through the simulation loop, serially or in worker processes."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from napari_scribbleseg.errors import InputError, ScribbleSegError
from napari_scribbleseg.evaluate.loop import (
    LoopSettings,
    Simulator,
    init_worker,
    resolve_simulator,
    run_sample,
    run_sample_all,
    simulator_name,
)
from napari_scribbleseg.evaluate.report import EvaluationResult
from napari_scribbleseg.predictor import Predictor, get_predictor



def predictor_specs(predictors: Any) -> list[tuple[str, str | Predictor]]:
    """(display name, name or object) pairs from a name, a predictor, a list of them, or a {name: spec} dict."""
    if isinstance(predictors, Mapping):
        items = [(str(name), spec) for name, spec in predictors.items()]
    else:
        if isinstance(predictors, str) or not isinstance(predictors, Iterable):
            predictors = [predictors]
        items = []
        for spec in predictors:
            base = spec if isinstance(spec, str) else getattr(spec, "name", None) or type(spec).__name__
            name, n = str(base), 2
            while name in {existing for existing, _ in items}:
                name, n = f"{base}_{n}", n + 1
            items.append((name, spec))
    if not items:
        raise InputError("no predictor given; pass a name such as 'growcut', a predictor object, or a list of them")
    for name, spec in items:
        if not isinstance(spec, str) and not isinstance(spec, Predictor):
            raise InputError(
                f"predictor {name!r} ({type(spec).__name__}) has no set_image(image) and predict(scribbles, prev=None)"
            )
    return items


def load_samples(
    dataset: Any, layout: str | None = None, multi_region: bool = False, axis: int | None = None, limit: int | None = None
) -> tuple[str, Sequence[Any]]:
    """(dataset name, lazy sequence of :class:`~napari_scribbleseg.datasets.Sample`) from anything
    :func:`napari_scribbleseg.datasets.load_dataset` accepts.

    ``layout``, ``multi_region`` and ``axis`` apply to folders and labelled volumes; arrays are taken as
    given (their gt is already binary or a region map).
    """
    from napari_scribbleseg.datasets import load_dataset
    from napari_scribbleseg.datasets.load import _is_pair_of_volumes

    options: dict[str, Any] = {}
    if not isinstance(dataset, (list, tuple)) or _is_pair_of_volumes(dataset):
        if multi_region:
            options["multi_region"] = True
        if axis is not None:
            options["axis"] = axis
    samples = load_dataset(dataset, layout=layout or "auto", **options)
    name = str(getattr(samples, "name", "dataset"))
    if limit is not None:
        samples = samples[: int(limit)]
    if len(samples) == 0:
        raise InputError(f"dataset {name!r} has no samples; check the folder and its layout")
    return name, samples


class EvaluationFailed(ScribbleSegError):
    """A predictor failed midway: the message names it and the sample; ``result`` holds the rows done."""

    def __init__(self, message: str, result: EvaluationResult) -> None:
        super().__init__(message)
        self.result = result


def _check_shapes(samples: Sequence[Any]) -> None:
    """Refuse, before anything runs, an in-memory sample whose ground truth does not fit its image."""
    for number, sample in enumerate(samples, 1):
        image, gt = np.shape(sample.image), np.shape(sample.gt)
        if len(image) not in (2, 3) or image[:2] != gt:
            raise InputError(
                f"sample {number} of {len(samples)} ({sample.name!r}): ground truth {gt} does not match the image "
                f"{image}; give each image a mask of its (H, W) shape. Nothing was run"
            )


def _check_picklable(what: str, value: Any) -> None:
    try:
        pickle.dumps(value)
    except Exception as exc:  # pickling can fail with many error types
        raise InputError(
            f"{what} cannot be sent to worker processes ({exc}); use n_jobs=1, or a module-level function / "
            "a predictor given by name"
        ) from None


def evaluate(
    predictors: Any,
    dataset: Any,
    simulator: str | Simulator = "scribble",
    targets: Sequence[float] = (0.85, 0.90),
    max_interactions: int = 20,
    width: float = 3,
    multi_region: bool = False,
    n_jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    keep_scribbles: bool = False,
    *,
    layout: str | None = None,
    axis: int | None = None,
    limit: int | None = None,
) -> EvaluationResult:
    """Simulate a user scribbling on every sample for every predictor; NoI, NoF, IoU curves and latency.

    Parameters
    ----------
    predictors : str, Predictor, list or dict
        Registry names (``available_predictors()``: "default", "random_walker", "grabcut", "growcut"),
        objects with ``set_image`` / ``predict``, a list of those, or a {display name: name or object} dict.
    dataset : folder, layout name, list, (volume, labels) or dataset object
        Whatever :func:`napari_scribbleseg.datasets.load_dataset` accepts, or a list of (image, gt[, ignore])
        tuples: image (H, W) or (H, W, 3), gt (H, W) int (0 background, non-zero object; regions 1..K in
        multi-region mode), ignore (H, W) bool.
    simulator : "scribble", "click" or callable
        000's deterministic scribble, the click protocol, or ``f(gt, pred, ignore) -> Interaction | None``
        with the signature of :func:`napari_scribbleseg.simulate.protocol.next_scribble`.
    targets : sequence of float
        IoU targets of NoI / NoF; a sample stops once it reaches the highest (see :mod:`.loop`).
    max_interactions : int
        At most this many interactions per sample (NoI of a failure = this).
    width : float
        Scribble width in pixels.
    multi_region : bool
        Solve all labelled regions of an image jointly (002); interactions count scribbles per region.
    n_jobs : int
        Worker processes (spawned); results equal a serial run's except for the times. Predictors given by
        name are built once per worker; objects and a callable simulator must pickle. Spawned workers
        re-import the calling script, so a script using ``n_jobs > 1`` needs the usual
        ``if __name__ == "__main__":`` guard.
    progress : callable, optional
        ``progress(done, total)`` after each (sample, predictor) pair.
    keep_scribbles : bool
        Keep each row's scribble map, stroke order and predictions (arrays; not written to CSV/JSON).
    layout, axis, limit
        Dataset layout name, slicing axis of volumes, and at most ``limit`` samples (the first ones).

    Returns
    -------
    EvaluationResult
        Per-sample rows, summary, CSV / JSON / PNG writers.
    """
    specs = predictor_specs(predictors)
    if not targets or not all(0 < t <= 1 for t in targets):
        raise InputError(f"targets {tuple(targets)} must be IoU values in (0, 1], e.g. (0.85, 0.90)")
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise InputError(f"n_jobs is {n_jobs!r}; use 1 (serial) or more worker processes")
    if int(max_interactions) < 1:
        raise InputError(f"max_interactions is {max_interactions}; use at least 1 (the protocol uses 20)")
    settings = LoopSettings(
        simulator, tuple(float(t) for t in targets), int(max_interactions), float(width), bool(multi_region), bool(keep_scribbles)
    )
    simulate = resolve_simulator(simulator, width)  # fails early on an unknown name
    name, samples = load_samples(dataset, layout, multi_region, axis, limit)
    if isinstance(dataset, (list, tuple)) or isinstance(samples, (list, tuple)):
        _check_shapes(samples)  # in memory: cheap to check all before the first run
    total = len(samples) * len(specs)
    rows_by_sample: dict[int, list[dict[str, Any]]] = {}
    done = 0

    def result_of(rows_by_sample: dict[int, list[dict[str, Any]]]) -> EvaluationResult:
        return _result([row for index in sorted(rows_by_sample) for row in rows_by_sample[index]], specs, settings, name, samples, n_jobs, simulator)

    def failed(exc: Exception, display: str, index: int) -> EvaluationFailed:
        done_rows = sum(len(r) for r in rows_by_sample.values())
        return EvaluationFailed(
            f"predictor {display!r} failed on sample {index + 1} of {len(samples)} ({samples[index].name!r}): "
            f"{type(exc).__name__}: {exc}; the {done_rows} run(s) finished before are kept (error.result)",
            result_of(rows_by_sample),
        )

    if n_jobs <= 1:
        built = [(display, get_predictor(spec)) for display, spec in specs]
        for index in range(len(samples)):
            sample = samples[index]
            rows = []
            for display, predictor in built:
                try:
                    rows.append(run_sample(predictor, display, sample, settings, simulate))
                except InputError:
                    raise
                except Exception as exc:  # noqa: BLE001 - any predictor failure: keep the work done
                    rows_by_sample[index] = rows
                    raise failed(exc, display, index) from exc
                done += 1
                if progress is not None:
                    progress(done, total)
            rows_by_sample[index] = rows
    else:
        _check_picklable("the simulator", simulator)
        for display, spec in specs:
            _check_picklable(f"predictor {display!r}", spec)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=int(n_jobs), mp_context=context, initializer=init_worker) as pool:
            futures = [
                pool.submit(run_sample_all, index, samples[index], specs, settings)
                for index in range(len(samples))
            ]
            for future in as_completed(futures):
                try:
                    index, rows = future.result()
                except InputError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a worker's predictor failed: keep the work done
                    index = futures.index(future)
                    names = ", ".join(repr(d) for d, _ in specs)
                    raise failed(exc, names, index) from exc
                rows_by_sample[index] = rows
                done += len(rows)
                if progress is not None:
                    progress(done, total)

    return result_of(rows_by_sample)


def _result(
    rows: list[dict[str, Any]], specs: Sequence[tuple[str, Any]], settings: LoopSettings, name: str,
    samples: Sequence[Any] | int, n_jobs: int, simulator: Any, **extra: Any,
) -> EvaluationResult:
    """The :class:`EvaluationResult` of ``rows`` with the run's settings (``samples``: them, or how many)."""
    return EvaluationResult(
        rows=rows,
        predictors=[display for display, _ in specs],
        targets=settings.targets,
        max_interactions=settings.max_interactions,
        settings={
            "dataset": name,
            "n_samples": samples if isinstance(samples, int) else len(samples),
            "simulator": simulator_name(simulator),
            "width": settings.width,
            "multi_region": settings.multi_region,
            "n_jobs": int(n_jobs),
            **extra,
        },
    )
