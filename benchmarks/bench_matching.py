"""Benchmark of "same filters twice?" (seed 002, issue 19 part 2): the verdict against the untrained control.

1. Pairs of untrained networks (the false-alarm check): how often ``match_filters`` calls
   them "alike beyond chance" (it should not), per layer.
2. Two training runs (seeds 1 and 2) with the notebook's settings (3,000 images, 1 epoch)
   and with more images: each layer's mean pair correlation, the untrained control's, the
   difference with its 95 % bootstrap interval, the verdict, the shuffled baseline — and
   how much conv1's kernels still look like their own initial values.

Run: ``python benchmarks/bench_matching.py [--images 3000 20000]`` (the training split of
``$CNN_WIDGETS_MNIST`` or ``../shared/data/mnist.npz``; without it, the shipped test split)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load() -> str:
    """The load average, for every figure printed (a shared 2-core machine)."""
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, nargs="+", default=[3000, 20000])
    parser.add_argument("--untrained", type=int, default=5, help="pairs of untrained networks to check")
    args = parser.parse_args()

    from cnn_widgets import mnist_cnn  # first: it imports TensorFlow without its C++ start-up lines
    from cnn_widgets.data.mnist import load_mnist, mnist_test_split
    from cnn_widgets.methods.matching import layer_filters, match_filters

    import numpy as np

    layers = ("conv1", "conv2", "conv3")
    start = time.perf_counter()
    alarms = {layer: 0 for layer in layers}
    for pair in range(args.untrained):
        nets = [mnist_cnn(seed=10 + 2 * pair), mnist_cnn(seed=11 + 2 * pair)]
        for layer in layers:
            alarms[layer] += match_filters(*nets, layer).beyond_chance
    print(f"{args.untrained} pairs of untrained networks called 'alike beyond chance': "
          + ", ".join(f"{layer} {count}" for layer, count in alarms.items())
          + f" (should be ~0)  {time.perf_counter() - start:.1f} s ({load()})")

    named = os.environ.get("CNN_WIDGETS_MNIST")
    path = Path(named) if named else Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"
    if path.is_file():
        (x, y), _ = load_mnist(path)
        source = f"the training split of {path.name}"
    else:
        x, y = mnist_test_split()
        source = "the shipped test split (no training split found)"
    for count in args.images:
        start = time.perf_counter()
        runs = []
        for seed in (1, 2):
            model = mnist_cnn(seed=seed)
            model.train(x[:count], y[:count], epochs=1, standardize=True, seed=seed)
            runs.append(model)
        print(f"two runs (seeds 1, 2), {count:,} images of {source}, 1 epoch; trained in "
              f"{time.perf_counter() - start:.1f} s ({load()})")
        for layer in layers:
            print("  " + match_filters(*runs, layer).summary())
        for seed, model in zip((1, 2), runs):
            start_kernels = layer_filters(mnist_cnn(seed=seed), "conv1").reshape(32, -1)
            now = layer_filters(model, "conv1").reshape(32, -1)
            same = [np.corrcoef(a, b)[0, 1] for a, b in zip(start_kernels, now)]
            print(f"  run {seed}: conv1 kernels against their own initial values: correlation "
                  f"{np.min(same):.2f}–{np.max(same):.2f} (median {np.median(same):.2f})")
    print(f"({load()})")


if __name__ == "__main__":
    main()
