"""One training-sized forward + backward (encode 4 images of 256 px, head on 8 class rows) with 1 and with 2
torch threads, alternating, to choose ``threads`` in a recipe. On a CPU shared with other busy processes
1 thread can be several times faster than 2. Run: ``PYTHONPATH=src python benchmarks/train_threads.py``."""

from __future__ import annotations

import time

import torch

from napari_scribbleseg.model import build_model


def step(model: torch.nn.Module, image: torch.Tensor, guidance: torch.Tensor, rows: torch.Tensor) -> None:
    features = model.encode(image)
    outputs = model.head({k: v[rows] for k, v in features.items()}, guidance)
    sum(o.mean() for o in outputs.values()).backward()


def main(repeats: int = 3) -> None:
    model = build_model("scribbleseg_lite0")
    image = torch.rand(4, 3, 256, 256)
    guidance = torch.rand(8, len(model.guidance_layout), 256, 256)
    rows = torch.arange(8) // 2
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(repeats):
        for n in (1, 2):
            torch.set_num_threads(n)
            start = time.perf_counter()
            step(model, image, guidance, rows)
            times[n].append(time.perf_counter() - start)
    for n, t in times.items():
        print(f"{n} thread(s): " + ", ".join(f"{x:.2f} s" for x in t))
    print(f"median 2 threads / 1 thread: {sorted(times[2])[repeats // 2] / sorted(times[1])[repeats // 2]:.2f}")


if __name__ == "__main__":
    main()
