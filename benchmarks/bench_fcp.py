"""Benchmark of FCP class patterns (issue: FCP views).

In one run on the embedded model and the MNIST test set: class means, spreads and
the ranking of separating maps for 4 vs 9 on conv3 through ``cnn_widgets.methods.fcp.compare_classes``
(batched compiled calls), against a naive loop that feeds one image at a time to
``keras.Model.predict`` (timed on a few hundred images, scaled). Also all ten
classes of the 10,000 test images through ``class_patterns``.

Run: ``python benchmarks/bench_fcp.py`` (needs ``CNN_WIDGETS_MNIST`` or a download)
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    import keras
    import numpy as np

    from cnn_widgets import CNNModel, load_mnist
    from cnn_widgets.methods.fcp import class_patterns, compare_classes

    model = CNNModel.default()
    (_, _), (x, y) = load_mnist()
    compare_classes(model, x[:3000], y[:3000])  # compile the batch shapes once
    class_patterns(model, x[:3000], y[:3000], classes=range(10))
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        result = compare_classes(model, x, y, "conv3", (4, 9))
        runs.append(time.perf_counter() - start)
    ours = statistics.median(runs)
    all_runs = []
    for _ in range(3):
        start = time.perf_counter()
        class_patterns(model, x, y, "conv3", classes=range(10))
        all_runs.append(time.perf_counter() - start)

    net = model.keras_model
    head = keras.Model(net.inputs[0], net.get_layer("conv3").output)
    chosen = np.flatnonzero((y == 4) | (y == 9))
    sample = chosen[:200]
    start = time.perf_counter()
    for index in sample:
        head.predict(model.standardize(model.prepare(x[index])), verbose=0)
    naive = (time.perf_counter() - start) / len(sample) * len(chosen)

    print(f"FCP 4 vs 9 on conv3, MNIST test set ({len(y)} images, {result.a.count} 4s, {result.b.count} 9s)")
    print(f"  fcp.compare_classes (batched, compiled)     {ours * 1000:7.0f} ms  (median of {len(runs)})")
    print(f"  naive per-image predict loop        {naive * 1000:7.0f} ms  (timed on {len(sample)}, scaled)")
    print(f"  speed-up                            {naive / ours:7.1f}×")
    print(f"  all ten classes, all 10,000 images  {statistics.median(all_runs) * 1000:7.0f} ms  "
          f"(median of 3; first {all_runs[0] * 1000:.0f} ms)")
    top = ", ".join(f"{int(m)} ({result.map_scores[m]:+.2f})" for m in result.map_ranking[:6])
    print(f"  best separating maps (Cohen's d): {top}")


if __name__ == "__main__":
    main()
