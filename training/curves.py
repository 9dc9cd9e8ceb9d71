"""Loss curves: a CSV row every few steps and a PNG plot of it."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

COLUMNS = ("step", "wall_s", "lr", "total", "refined", "primitive", "adapted", "error", "competition", "iou", "distill")


class LossLog:
    """Averages the per-step numbers over ``every`` steps and appends them to ``out/loss.csv``.

    ``resume=True`` keeps the rows already in the file (the curve continues where it stopped).
    """

    def __init__(self, out: str | Path, resume: bool = False) -> None:
        self.path = Path(out) / "loss.csv"
        self.png = Path(out) / "loss.png"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.pending: list[dict[str, float]] = []
        self.rows: list[dict[str, float]] = []
        if resume and self.path.exists():
            with self.path.open() as handle:
                # a log written before a column was added has no field for it (k None: a row longer than its header)
                self.rows = [{k: float(v) for k, v in r.items() if k is not None and v not in ("", None)} for r in csv.DictReader(handle)]
        else:
            with self.path.open("w", newline="") as handle:
                csv.writer(handle).writerow(COLUMNS)

    def add(self, step: int, wall_s: float, numbers: dict[str, float], every: int = 10) -> None:
        """Record one step; every ``every`` steps write the mean of the pending ones."""
        self.pending.append(numbers)
        if step % max(1, every):
            return
        row: dict[str, float] = {"step": float(step), "wall_s": wall_s}
        for key in COLUMNS[2:]:
            values = [p[key] for p in self.pending if key in p]
            if values:
                row[key] = float(np.mean(values))
        self.pending = []
        self.rows.append(row)
        with self.path.open("a", newline="") as handle:
            csv.writer(handle).writerow([f"{row[k]:.6g}" if k in row else "" for k in COLUMNS])

    def recent(self, n: int = 5) -> dict[str, float]:
        """Mean loss and IoU of the last ``n`` logged rows (for checkpoint metadata)."""
        rows = self.rows[-n:]
        out = {}
        for key in ("total", "iou"):
            values = [r[key] for r in rows if key in r]
            if values:
                out[f"train_{key}"] = round(float(np.mean(values)), 4)
        return out

    def plot(self) -> Path | None:
        """Write ``loss.png``: the loss terms (log scale) and the training IoU against the step."""
        if not self.rows:
            return None
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax_loss, ax_iou) = plt.subplots(1, 2, figsize=(10, 4))
        steps = [r["step"] for r in self.rows]
        for key in ("total", "refined", "primitive", "adapted", "error", "competition", "distill"):
            values = [r.get(key, np.nan) for r in self.rows]
            if not np.all(np.isnan(values)):
                ax_loss.plot(steps, values, label=key)
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("loss")
        ax_loss.legend(fontsize=8)
        ax_iou.plot(steps, [r.get("iou", np.nan) for r in self.rows], color="k")
        ax_iou.set_xlabel("step")
        ax_iou.set_ylabel("training IoU (refined, per class)")
        ax_iou.set_ylim(0, 1)
        fig.tight_layout()
        fig.savefig(self.png, dpi=100)
        plt.close(fig)
        return self.png
