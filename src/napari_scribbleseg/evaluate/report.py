"""What ``evaluate`` returns: per-sample rows, the per-predictor summary, CSV / JSON / PNG writers."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_scribbleseg.evaluate.loop import target_key
from napari_scribbleseg.metrics import miou_at, nof, noi, padded_curves

#: mIoU@k columns of the summary (those with k <= max_interactions)
MIOU_AT = (1, 3, 5)


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


@dataclass
class EvaluationResult:
    """Result of :func:`napari_scribbleseg.evaluate`.

    Attributes
    ----------
    rows : list of dict
        One per (sample, predictor), samples in dataset order, predictors in the order given; keys as
        documented in :func:`napari_scribbleseg.evaluate.loop.run_sample`.
    predictors : list of str
        Display names.
    targets : tuple of float
        IoU targets.
    max_interactions : int
        Interactions per sample at most.
    settings : dict
        Dataset name, sample count, simulator, width, multi-region flag, n_jobs.
    """

    rows: list[dict[str, Any]]
    predictors: list[str]
    targets: tuple[float, ...]
    max_interactions: int
    settings: dict[str, Any] = field(default_factory=dict)

    # -- tables ------------------------------------------------------------------------------------------
    def rows_of(self, predictor: str) -> list[dict[str, Any]]:
        """The rows of one predictor, in sample order."""
        return [row for row in self.rows if row["predictor"] == predictor]

    def curves(self, predictor: str) -> np.ndarray:
        """(N, max_interactions) IoU curves of one predictor, carried forward after a sample stopped."""
        return padded_curves([row["iou"] for row in self.rows_of(predictor)], self.max_interactions)

    def summary(self) -> list[dict[str, Any]]:
        """One dict per predictor: NoI@t, NoF@t, mIoU@1/3/5, t_image and t_interaction p50/p95 (ms), n, and
        t_sample_p50_ms: the time one sample took in all (``set_image`` + every interaction until it stopped),
        which for the instance protocol is the time per object."""
        table = []
        for name in self.predictors:
            rows = self.rows_of(name)
            curves = [row["iou"] for row in rows]
            entry: dict[str, Any] = {"predictor": name, "n": len(rows)}
            for target in self.targets:
                entry[f"NoI@{target_key(target)}"] = noi(curves, target, self.max_interactions)
            for target in self.targets:
                entry[f"NoF@{target_key(target)}"] = nof(curves, target, self.max_interactions)
            for k in MIOU_AT:
                if k <= self.max_interactions:
                    entry[f"mIoU@{k}"] = miou_at(curves, k)
            t_image = [row["t_image"] * 1e3 for row in rows]
            t_interaction = [t * 1e3 for row in rows for t in row["t_interaction"]]
            entry["t_image_p50_ms"] = _percentile(t_image, 50)
            entry["t_image_p95_ms"] = _percentile(t_image, 95)
            entry["t_interaction_p50_ms"] = _percentile(t_interaction, 50)
            entry["t_interaction_p95_ms"] = _percentile(t_interaction, 95)
            entry["t_sample_p50_ms"] = _percentile([(row["t_image"] + sum(row["t_interaction"])) * 1e3 for row in rows], 50)
            table.append(entry)
        return table

    def sample_table(self) -> list[dict[str, Any]]:
        """Flat per-sample rows for CSV: NoI / reached per target, final IoU, times, IoU after each interaction."""
        table = []
        for row in self.rows:
            entry: dict[str, Any] = {"sample": row["sample"], "predictor": row["predictor"]}
            for target in self.targets:
                entry[f"NoI@{target_key(target)}"] = row[f"NoI@{target_key(target)}"]
                entry[f"reached@{target_key(target)}"] = row[f"reached@{target_key(target)}"]
            entry["n_interactions"] = row["n_interactions"]
            entry["n_predicts"] = row["n_predicts"]
            entry["iou_final"] = row["iou"][-1]
            entry["t_image_ms"] = row["t_image"] * 1e3
            entry["t_interaction_p50_ms"] = _percentile([t * 1e3 for t in row["t_interaction"]], 50)
            curve = padded_curves([row["iou"]], self.max_interactions)[0]
            entry.update({f"iou@{k + 1}": float(v) for k, v in enumerate(curve)})
            table.append(entry)
        return table

    def format_summary(self) -> str:
        """The summary as an aligned text (Markdown) table."""
        table = self.summary()
        if not table:
            return "(no results)"
        columns = list(table[0])
        cells = [[_format(entry[c]) for c in columns] for entry in table]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        line = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"  # noqa: E731
        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([line(columns), rule, *(line(r) for r in cells)])

    # -- files -------------------------------------------------------------------------------------------
    def to_csv(self, path: str | Path, table: str = "samples") -> Path:
        """Write the per-sample table (``table="samples"``) or the summary (``"summary"``) as CSV."""
        if table not in ("samples", "summary"):
            raise ValueError(f"table {table!r} is unknown; use 'samples' or 'summary'")
        data = self.sample_table() if table == "samples" else self.summary()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(data[0]) if data else ["predictor"])
            writer.writeheader()
            writer.writerows(data)
        return path

    def to_json(self, path: str | Path) -> Path:
        """Write settings, summary and every row (curves and times; arrays kept by ``keep_scribbles`` left out)."""
        rows = [{k: v for k, v in row.items() if not isinstance(v, np.ndarray)} for row in self.rows]
        document = {
            "settings": self.settings,
            "targets": list(self.targets),
            "max_interactions": self.max_interactions,
            "predictors": self.predictors,
            "summary": self.summary(),
            "rows": rows,
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=1, default=_jsonable))
        return path

    def plot(self, path: str | Path | None = None, ax: Any = None) -> Any:
        """Mean IoU against interactions, one line per predictor; the targets as dotted lines.

        Draws into ``ax`` when given (a widget's matplotlib axes), else into a new figure; writes a PNG to
        ``path`` when given. Returns the matplotlib Figure.
        """
        if ax is None:
            # a bare Figure renders through Agg when saved and never touches pyplot's global backend,
            # so this works headless and inside a running Qt application alike
            from matplotlib.figure import Figure

            figure = Figure(figsize=(6, 4), dpi=120)
            ax = figure.add_subplot(1, 1, 1)
        else:
            figure = ax.figure
        x = np.arange(1, self.max_interactions + 1)
        for name in self.predictors:
            ax.plot(x, self.curves(name).mean(axis=0), marker="o", markersize=3, label=name)
        for target in self.targets:
            ax.axhline(target, color="grey", linestyle=":", linewidth=1)
        unit = "scribbles per region" if self.settings.get("multi_region") else "interactions"
        ax.set_xlabel(f"{unit} ({self.settings.get('simulator', '')})")
        ax.set_ylabel("mean IoU over regions" if self.settings.get("multi_region") else "mean IoU")
        ax.set_title(f"{self.settings.get('dataset', '')} (n = {self.settings.get('n_samples', '?')})")
        ax.set_xlim(1, self.max_interactions)
        ax.set_xticks(x[:: max(1, len(x) // 10)])
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(path)
        return figure


def _format(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if np.isnan(value) else f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
