"""Benchmark of filter decoding (issue: see the filters).

In one run on the embedded model: decoding every filter of every conv and pooling
layer, against decoding them one map at a time (the loop the batched transposed
convolutions replace), and the analogue of the paper's Table 1 — equation 3's
mean squared error (± spread) per layer and unpooling mode on MNIST test images.

Run: ``python benchmarks/bench_decode.py [--images 2000]`` (needs ``CNN_WIDGETS_MNIST``
or a download for the table)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    args = parser.parse_args()

    from cnn_widgets import CNNModel, load_mnist
    from cnn_widgets.decode import UNPOOL_MODES, decode_filters, response_error

    model = CNNModel.default()
    layers = model.spatial_layers
    for layer in layers:
        decode_filters(model, layer)  # warm up
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for layer in layers:
            decode_filters(model, layer)
        runs.append(time.perf_counter() - start)
    batched = statistics.median(runs)
    start = time.perf_counter()
    total = 0
    for layer in layers:
        for index in range(int(model.layer(layer).output_shape[-1])):
            decode_filters(model, layer, maps=[index])
            total += 1
    one_by_one = time.perf_counter() - start
    print(f"decoding all {total} filters of {', '.join(layers)} (embedded model)")
    print(f"  batched per layer   {batched * 1000:8.1f} ms  (median of {len(runs)})")
    print(f"  one map at a time   {one_by_one * 1000:8.1f} ms   → {one_by_one / batched:.0f}× slower")

    (_, _), (x_test, _) = load_mnist()
    images = x_test[: args.images]
    print(f"Table 1 analogue: equation 3 on {len(images)} MNIST test images, mean ± std")
    print(f"  {'layer':6s} " + " ".join(f"{mode:>17s}" for mode in UNPOOL_MODES))
    for layer in layers:
        cells = []
        for mode in UNPOOL_MODES:
            error = response_error(model, layer, images, mode)
            cells.append(f"{error.mean:.4f} ± {error.std:.4f}")
        print(f"  {layer:6s} " + " ".join(f"{c:>17s}" for c in cells))
    print("  (conv layers compared before their ReLU, as in the paper's LeNet; pooling layers after"
          " ReLU and max, which the linear picture leaves out)")


if __name__ == "__main__":
    main()
