"""Benchmark of filter decoding (issue: see the filters).

In one run on the embedded model: decoding every filter of every conv and pooling
layer, against decoding them one map at a time (the loop the batched transposed
convolutions replace), and the analogue of the paper's Table 1 — equation 3's
mean squared error (± spread) per layer and unpooling mode on MNIST test images.

Each error stands beside its chance level (each map against another map's decoded
filter), and beside the error of a linear twin (the same weights, no ReLUs: the paper's
LeNet has none below its fifth layer). Then the analogue of its Fig. 4d over every conv3
map: how many of the 8 test digits with the strongest cell (the network) are also among
the 8 that correlate best with the map's decoded filter, beside random image sets and
another map's top 8, and the time of the searches over the 10,000 digits.

Run: ``python benchmarks/bench_decode.py [--images 2000]`` (the MNIST test split shipped
with the package; no download)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load() -> str:
    """The load average, for every figure printed (a shared 2-core machine)."""
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    args = parser.parse_args()

    import numpy as np

    from cnn_widgets import CNNModel
    from cnn_widgets.data.mnist import mnist_test_split
    from cnn_widgets.methods.decode import UNPOOL_MODES, decode_filters, decoded_top_images, top_images
    from cnn_widgets.methods.decode_checks import decoding_table, top_image_overlap

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
    print(f"  one map at a time   {one_by_one * 1000:8.1f} ms   → {one_by_one / batched:.0f}× slower  ({load()})")

    x_test = mnist_test_split()[0]
    images = x_test[: args.images]
    print(f"Table 1 analogue: equation 3 on {len(images)} MNIST test images, mean ± std; chance: each map against "
          f"another map's decoded filter")
    print(f"  {'layer':6s} " + " ".join(f"{mode:>17s}" for mode in UNPOOL_MODES) + f" {'chance (nearest)':>17s}"
          f" {'chance/error':>12s}")
    table = decoding_table(model, images, layers=[n for n in layers if int(model.layer(n).output_shape[-1]) > 1],
                           unpools=UNPOOL_MODES)
    for layer in layers:
        if int(model.layer(layer).output_shape[-1]) < 2:
            continue
        cells = [f"{table.row(layer, mode).error:.4f} ± {table.row(layer, mode).error_std:.4f}"
                 for mode in UNPOOL_MODES]
        row = table.row(layer, "nearest")
        times = f"{row.ratio:.1f}×" if np.isfinite(row.ratio) else "exact"
        print(f"  {layer:6s} " + " ".join(f"{c:>17s}" for c in cells) +
              f" {f'{row.chance:.4f} ± {row.chance_std:.4f}':>17s} {times:>12s}")
    print("  (conv layers compared before their ReLU, as in the paper's LeNet; pooling layers after"
          " ReLU and max, which the linear picture leaves out)")
    print(f"  ({load()})")

    # why larger than the paper's: the same weights without the ReLUs (the paper's LeNet has none below layer 5)
    import keras

    net = model.keras_model
    clone = type(net).from_config(net.get_config())
    clone.set_weights(net.get_weights())
    for item in clone.layers:
        if type(item).__name__ == "Conv2D":
            item.activation = keras.activations.linear
    linear = CNNModel(clone, mean=model.mean, std=model.std)
    twin = decoding_table(linear, images, layers=["conv2", "conv3"])
    print("the same weights with the ReLUs removed (a linear twin): " + "; ".join(
        f"{r.layer} {r.error:.4f} (chance {r.chance:.4f}) against {table.row(r.layer).error:.4f} with them"
        for r in twin.rows) + f"  ({load()})")

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
    start = time.perf_counter()
    overlap = top_image_overlap(model, "conv3", x_test, k=8)
    batched_s = time.perf_counter() - start
    print(f"  beside its chance levels: {overlap.summary()}")
    print(f"  time: network {network_s:.2f} s (one pass over the digits, kept per model version), "
          f"decoded filters {filter_s:.2f} s (one correlation pass per map), all maps in one pass with both "
          f"chance levels {batched_s:.2f} s  ({load()})")

if __name__ == "__main__":
    main()
