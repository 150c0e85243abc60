"""Benchmark: an own big model in the dashboard (issue 21) — MobileNetV2(weights=None) at 96×96×3.

Prints, measured in this one run (kernel time, no browser):
  * the forward pass of all 153 layers with maps (+ the head) for one image;
  * an image change repainting the visible views of the Explorer: the grids of one block
    (GridPages, each bounded to its first 32 maps), the probabilities, the receptive field
    and the image source's picture — show() to every view drawn, median and p95;
  * the same change with a grid for every layer and all their maps (what the Explorer did
    before: 153 grids), and the ratio;
  * the load average beside the figures (a shared 2-core machine).

Target: the visible views repainted in ≤ 100 ms of kernel time.

Run: ``python benchmarks/bench_own_model.py [--repeats N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"median {statistics.median(ordered):6.1f} ms, p95 {ordered[int(0.95 * (len(ordered) - 1))]:6.1f} ms"


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def repaint(session, images, repeats: int) -> list[float]:
    """show() → the live model's forward pass and every observer (the views) done, per image."""
    samples = []
    for index in range(repeats + 2):
        image = images[index % len(images)]
        start = time.perf_counter()
        session.live.show(image, f"image {index}")
        session.live.wait(120)
        if index >= 2:  # the first two warm the compiled call and the encoders
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    import numpy as np

    from cnn_widgets import CNNModel
    from cnn_widgets.model.backend import keras  # the quiet import
    from cnn_widgets.session import Session
    from cnn_widgets.widgets.explorer import Explorer
    from cnn_widgets.widgets.live.map_grid import MapGrid

    keras.utils.set_random_seed(0)
    model = CNNModel(keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), classes=10))
    rng = np.random.default_rng(0)
    images = rng.random((8, 96, 96, 3)).astype(np.float32)
    labels = rng.integers(0, 10, 8)
    print(f"{model}: {len(model.spatial_layers)} layers with maps; {load()}")

    model.activations(images[0])
    forward = []
    for index in range(args.repeats):
        start = time.perf_counter()
        model.activations(images[index % len(images)])
        forward.append((time.perf_counter() - start) * 1000)
    print(f"forward pass, every layer, one image:             {summary(forward)}   ({load()})")

    explorer = Explorer(model, data=(images, labels))
    pages = explorer.pages
    shown = [(grid.layer, int(model.layer(grid.layer).output_shape[-1])) for grid in explorer.grids]
    paged = repaint(explorer.session, images, args.repeats)
    print(f"image change, Explorer (block 1/{len(pages.blocks)}: {len(shown)} grids, ≤ 32 maps each): "
          f"{summary(paged)}   ({load()})")
    pages.block = max(range(len(pages.blocks)), key=lambda b: len(pages.blocks[b][1]))
    widest = repaint(explorer.session, images, args.repeats)
    print(f"image change, Explorer (its largest block, {len(explorer.grids)} grids):   "
          f"{summary(widest)}   ({load()})")
    explorer.close()

    session = Session(model, data=False)
    every = [MapGrid(session, name) for name in model.spatial_layers]
    before = repaint(session, images, max(3, args.repeats // 4))
    print(f"image change, a grid per layer, all maps (153 grids, before): {summary(before)}   ({load()})")
    for grid in every:
        grid.close()
    session.close()
    ratio = statistics.median(before) / statistics.median(paged)
    verdict = "within" if statistics.median(paged) <= 100 else "OVER"
    print(f"paged / every grid: {ratio:.1f}x faster; the visible views repaint {verdict} the 100 ms target "
          f"({load()})")


if __name__ == "__main__":
    main()
