"""Benchmark of the OIP atlas's honesty (issue 19, part 1): no test digit passed off as a grown pattern.

For every spatial layer of the embedded model, the atlas (100 steps, seed 0, the 10,000
test digits to rescue from): how each map came alive, the tiles that started from a test
digit (their gain in objective and their correlation with that digit), and the tiles that
correlate ≥ 0.8 with any test digit, marked and unmarked (target: 0 unmarked).

Then why such tiles are marked rather than grown further: the same conv2 maps started
from softened versions of their digit (mixed with noise, contrast halved) mostly die again
(they fire only on crisp strokes), so no start from data grows a pattern for them.

Run: ``python benchmarks/bench_rescue.py [--steps 100]``
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load() -> str:
    """The load average, for every figure printed (a shared 2-core machine)."""
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from cnn_widgets import CNNModel  # first: it imports TensorFlow without its C++ start-up lines
    from cnn_widgets.data.mnist import mnist_test_split
    from cnn_widgets.methods.oip import batch, optimize
    from cnn_widgets.methods.oip.noise import wavelength_noise

    import numpy as np

    model = CNNModel.default()
    digits = mnist_test_split()[0]
    flat = digits.reshape(len(digits), -1).astype(np.float64)
    flat -= flat.mean(axis=1, keepdims=True)
    flat /= np.linalg.norm(flat, axis=1, keepdims=True)

    def nearest_digit(images: np.ndarray) -> np.ndarray:
        tiles = images[..., 0].reshape(len(images), -1).astype(np.float64)
        tiles -= tiles.mean(axis=1, keepdims=True)
        tiles /= np.maximum(np.linalg.norm(tiles, axis=1, keepdims=True), 1e-12)
        return (tiles @ flat.T).max(axis=1)

    print(f"atlases of the embedded model: {args.steps} steps, seed {args.seed}, rescue from {len(digits):,} digits")
    data_maps: list[int] = []
    for layer in model.spatial_layers:
        start = time.perf_counter()
        result = optimize(model, layer, images=digits, steps=args.steps, seed=args.seed)
        took = time.perf_counter() - start
        nearest = nearest_digit(result.images)
        marked = result.from_data | ~result.alive
        how = {name or "first noise": result.revival.count(name) for name in dict.fromkeys(result.revival)}
        print(f"  {layer}: {len(result.maps)} maps in {took:.1f} s; came alive: {how}")
        print(f"    tiles ≥ 0.8 like a test digit: {int((nearest >= 0.8).sum())}, of them unmarked "
              f"{int(((nearest >= 0.8) & ~marked).sum())} (target 0); highest unmarked likeness "
              f"{nearest[~marked].max():.2f}")
        for position in np.flatnonzero(result.from_data):
            print(f"    map {int(result.maps[position]):3d}: {result.rescue_note(int(result.maps[position]))}")
        if layer == "conv2":
            data_maps = [int(m) for m in result.maps[result.from_data]]
    print(f"  ({load()})")

    if not data_maps:
        return
    original = batch.standardized_image

    def softened(kind: str):
        def start(model_: object, images: np.ndarray, index: int) -> np.ndarray:
            pixels = model.prepare(np.asarray(images[index]))[0]
            noise = wavelength_noise(pixels.shape, 4.0, rng=np.random.default_rng(index))
            pixels = 0.5 * pixels + 0.5 * noise if kind == "mixed with noise" else 0.5 + 0.5 * (pixels - 0.5)
            return model.standardize(pixels)
        return start

    print(f"conv2 maps that fire on no noise ({data_maps}) started from softened digits instead:")
    try:
        for kind in ("mixed with noise", "contrast halved"):
            batch.standardized_image = softened(kind)
            result = optimize(model, "conv2", data_maps, images=digits, steps=args.steps, seed=args.seed)
            print(f"  {kind}: dead again {int((~result.alive).sum())} of {len(data_maps)}; objectives "
                  f"{[float(f'{v:.2g}') for v in result.history[-1]]}")
    finally:
        batch.standardized_image = original
    print(f"  ({load()})")


if __name__ == "__main__":
    main()
