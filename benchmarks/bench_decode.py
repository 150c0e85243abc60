"""Benchmark of filter decoding (issue: see the filters).

In one run on the embedded model: decoding every filter of every conv and pooling
layer, against decoding them one map at a time (the loop the batched transposed
convolutions replace), and the analogue of the paper's Table 1 — equation 3's
mean squared error (± spread) per layer and unpooling mode on MNIST test images.

Then the analogue of its Fig. 4d over every conv3 map: how many of the 8 test digits
with the strongest cell (the network) are also among the 8 that correlate best with
the map's decoded filter, and the time of both searches over the 10,000 digits.

Run: ``python benchmarks/bench_decode.py [--images 2000]`` (the MNIST test split shipped
with the package; no download)
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

    import numpy as np

    from cnn_widgets import CNNModel
    from cnn_widgets.data.mnist import mnist_test_split
    from cnn_widgets.methods.decode import UNPOOL_MODES, decode_filters, decoded_top_images, response_error, top_images

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

    x_test = mnist_test_split()[0]
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

    decoded = decode_filters(model, "conv3")
    start = time.perf_counter()
    by_network = [top_images(model, "conv3", m, x_test, k=8) for m in range(128)]
    network_s = time.perf_counter() - start
    start = time.perf_counter()
    by_filter = [decoded_top_images(model, decoded, m, x_test, k=8) for m in range(128)]
    filter_s = time.perf_counter() - start
    shared = np.asarray([len(set(a.tolist()) & set(b.tolist())) for a, b in zip(by_network, by_filter)])
    print(f"Fig. 4d analogue: top 8 of {len(x_test):,} test digits for each of the 128 conv3 maps")
    print(f"  shared between the network's and the decoded filter's top 8: mean {shared.mean():.2f}, "
          f"maps with ≥ 1 shared {int((shared > 0).sum())}, most {int(shared.max())}")
    print(f"  time: network {network_s:.2f} s (one pass over the digits, kept per model version), "
          f"decoded filters {filter_s:.2f} s (one correlation pass per map)")


if __name__ == "__main__":
    main()
