"""Benchmark of the model wrapper on the embedded MNIST CNN (issue: foundation).

Prints, measured in this one run:
  * time to load the embedded model once TensorFlow is imported;
  * all-layer activations of one image through ``CNNModel.activations`` (plain graph
    mode, the default, and XLA), against ``keras.Model.predict`` and an eager call of the
    same all-layer model: median and p95 in ms, and the ratios.

Run: ``python benchmarks/bench_model.py [--repeats N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def timed(fn, repeats: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()

    start = time.perf_counter()
    import keras
    import numpy as np
    import tensorflow as tf  # noqa: F401  (import cost measured apart from loading)

    import_s = time.perf_counter() - start
    from cnn_widgets import CNNModel

    start = time.perf_counter()
    model = CNNModel.default()
    load_s = time.perf_counter() - start
    image = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    start = time.perf_counter()
    model.activations(image)
    first_call_s = time.perf_counter() - start

    xla = CNNModel.default()
    xla.jit_compile = True
    net = model.keras_model
    everything = keras.Model(net.inputs[0], {layer.name: layer.output for layer in net.layers})
    batch = model.standardize(model.prepare(image))

    rows = {
        "CNNModel.activations": timed(lambda: model.activations(image), args.repeats),
        "CNNModel.activations, XLA": timed(lambda: xla.activations(image), args.repeats),
        "eager call": timed(lambda: {k: v.numpy() for k, v in everything(batch).items()}, args.repeats // 3),
        "keras.Model.predict": timed(lambda: everything.predict(batch, verbose=0), args.repeats // 10),
    }
    print(f"TensorFlow import {import_s:.2f} s; CNNModel.default() {load_s * 1000:.0f} ms; "
          f"first activations call (tracing) {first_call_s * 1000:.0f} ms")
    print("all-layer activations of one 28×28 image, embedded model")
    base_median = summary(rows["keras.Model.predict"])[0]
    ours_median = summary(rows["CNNModel.activations"])[0]
    print(f"{'path':28s} {'median ms':>10s} {'p95 ms':>8s} {'predict/this':>13s} {'this/ours':>10s}")
    for name, samples in rows.items():
        median, p95 = summary(samples)
        print(f"{name:28s} {median:10.3f} {p95:8.3f} {base_median / median:12.1f}x {median / ours_median:9.1f}x")


if __name__ == "__main__":
    main()
