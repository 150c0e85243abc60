"""Benchmark of looking inside (issue 13): confusion matrix, cell inspector, "A rather than B".

In one run on the embedded model and the MNIST test split shipped in the package:

- **Confusion matrix** over the 10,000 test images (``confusion_matrix``: chunks of
  ``CNNModel.predict`` on the output layer only, one ``bincount``), against Keras'
  own ``model.predict`` and a Python loop over the images, and against one
  ``predict`` per image (timed on 200, scaled) (target ≤ 1 s).
- **Inspector update per stroke**: the kernel's cost of one update of a
  ``CellInspector`` (redo the arithmetic from the live activations, re-encode the
  patch and product pictures, the text), per kind of cell, against a naive update
  that runs its own Keras sub-model for the layer below and redraws everything
  (target ≤ 5 ms).
- **Saliency per stroke**: SmoothGrad (16 noisy copies in one compiled batch) and
  occlusion (every patch one image of one batch), against eager calls one copy /
  one patch at a time; and the stroke → maps delay through a ``SaliencyView`` on
  the session's worker.

Run: ``python benchmarks/bench_inspect.py``
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def timed(function: Callable[[], Any], repeat: int) -> float:
    """Median seconds of ``repeat`` calls (after one warm-up call)."""
    function()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    import numpy as np

    from cnn_widgets import CNNModel
    from cnn_widgets.model.backend import keras, tf  # imported quietly there
    from cnn_widgets.methods.cells import explain_cell
    from cnn_widgets.methods.confusion import confusion_matrix
    from cnn_widgets.data.mnist import MNIST_SOURCE, mnist_test_split
    from cnn_widgets.methods.saliency import occlusion_map, saliency, smooth_grad
    from cnn_widgets.data import DataSet
    from cnn_widgets.session import Session

    from cnn_widgets.widgets import CellInspector, SaliencyView

    model = CNNModel.default()
    x, y = mnist_test_split()
    data = DataSet(x, y, MNIST_SOURCE)
    net = model.keras_model

    # ---------------------------------------------------------------- confusion
    ours = timed(lambda: confusion_matrix(model, data), 5)
    confusion = confusion_matrix(model, data)

    def naive_confusion() -> np.ndarray:
        probabilities = net.predict(model.standardize(model.prepare(x)), verbose=0)
        counts = np.zeros((10, 10), int)
        for true, row in zip(y, probabilities):
            counts[true, int(np.argmax(row))] += 1
        return counts

    naive = timed(naive_confusion, 2)
    assert np.array_equal(naive_confusion(), confusion.counts)
    sample = 200
    start = time.perf_counter()
    for image in x[:sample]:  # one image at a time, as a first attempt would
        net.predict(model.standardize(model.prepare(image)), verbose=0)
    one_by_one = (time.perf_counter() - start) / sample * len(x)
    print(f"Confusion matrix, {len(y):,} MNIST test images (accuracy {confusion.accuracy:.2%})")
    print(f"  confusion_matrix (output layer only, bincount)  {ours * 1000:7.0f} ms  (target ≤ 1000)")
    print(f"  keras predict + Python loop                     {naive * 1000:7.0f} ms")
    print(f"  speed-up                                        {naive / ours:7.1f}×")
    print(f"  one predict per image (timed on {sample}, scaled)  {one_by_one * 1000:7.0f} ms  "
          f"{one_by_one / ours:5.0f}×")

    # ---------------------------------------------------------------- inspector
    session = Session(model, data=data)
    four = x[np.flatnonzero(y == 4)[0]]
    session.live.image = four
    inspector = CellInspector(session)
    strokes = [x[i] for i in np.flatnonzero(y == 4)[:20]]
    print("\nCell inspector, kernel cost of one update per stroke (live activations given)")
    print(f"  {'cell':<22}{'explain':>9}{'update':>9}{'naive':>9}{'ratio':>8}")
    for layer, cell in (("conv1", (13, 13, 0)), ("conv2", (5, 5, 7)), ("conv3", (1, 1, 5)),
                        ("pool2", (2, 2, 7)), ("dense", (11,)), ("output", (4,))):
        inspector.inspect(layer, cell)
        activations = [{k: v[0] for k, v in model.activations(s).items()} for s in strokes]
        turn = iter(range(10 ** 9))

        def explain() -> None:
            i = next(turn) % len(strokes)
            explain_cell(model, layer, cell, image=strokes[i], activations=activations[i])

        def update() -> None:
            i = next(turn) % len(strokes)
            session.live.activations = activations[i]  # what the live model sets once per stroke, for all views

        below = model.layer_parameters(layer)["inputs"]
        head = keras.Model(net.inputs[0], net.get_layer(below[0]).output) if below else None

        def naive_update() -> None:
            i = next(turn) % len(strokes)
            batch = model.standardize(model.prepare(strokes[i]))
            own = {below[0]: head.predict(batch, verbose=0)[0]} if head is not None else {}
            own[layer] = activations[i][layer]
            inspector._kernel_key = None  # redraw the kernel too
            inspector._show(explain_cell(model, layer, cell, image=strokes[i], activations=own), 0.0)

        t_explain, t_update, t_naive = timed(explain, 30), timed(update, 30), timed(naive_update, 10)
        name = f"{layer} {cell}"
        print(f"  {name:<22}{t_explain * 1000:7.2f}ms{t_update * 1000:7.2f}ms{t_naive * 1000:7.1f}ms"
              f"{t_naive / t_update:7.1f}×")
    print("  (update: arithmetic + pictures + text of the inspector, target ≤ 5 ms; naive: its own Keras "
          "predict of the layer below and every picture redrawn)")
    inspector.close()

    # ---------------------------------------------------------------- saliency
    image = model.prepare(four)[0]
    t_smooth = timed(lambda: smooth_grad(model, image, 4, 9, samples=16, noise=0.15), 10)
    t_occlusion = timed(lambda: occlusion_map(model, image, 4, 9, patch=4, stride=2), 10)
    t_both = timed(lambda: saliency(model, image, 4, 9), 10)
    mean, std = tf.constant(model.mean), tf.constant(model.std)
    rng = np.random.default_rng(0)

    def naive_smooth() -> np.ndarray:
        total = np.zeros_like(image)
        for _ in range(16):
            noisy = tf.constant((image + rng.normal(0, 0.15, image.shape)).astype(np.float32)[None])
            with tf.GradientTape() as tape:
                tape.watch(noisy)
                probabilities = net((noisy - mean) / std, training=False)
                objective = tf.math.log(probabilities[0, 4]) - tf.math.log(probabilities[0, 9])
            total += tape.gradient(objective, noisy).numpy()[0]
        return total / 16

    def naive_occlusion() -> None:
        for top in range(0, 25, 2):
            for left in range(0, 25, 2):
                blanked = image.copy()
                blanked[top:top + 4, left:left + 4] = 0.0
                net(model.standardize(blanked[None]), training=False)

    n_smooth, n_occlusion = timed(naive_smooth, 3), timed(naive_occlusion, 3)
    view = SaliencyView(session)
    assert session.worker.wait(60)
    delays = []
    for stroke in strokes[:10]:
        start = time.perf_counter()
        session.live.image = stroke
        assert session.worker.wait(60)
        delays.append(time.perf_counter() - start)
    view.close()
    session.close()
    print("\n'4 rather than 9' per stroke (one image)")
    print(f"  SmoothGrad, 16 samples, one batch      {t_smooth * 1000:7.1f} ms   naive (16 eager tapes) "
          f"{n_smooth * 1000:7.1f} ms  {n_smooth / t_smooth:5.1f}×")
    print(f"  occlusion 4×4, stride 2 (169 patches)  {t_occlusion * 1000:7.1f} ms   naive (169 eager calls) "
          f"{n_occlusion * 1000:7.1f} ms  {n_occlusion / t_occlusion:5.1f}×")
    print(f"  both (what the view computes)          {t_both * 1000:7.1f} ms")
    print(f"  stroke → maps through SaliencyView     {statistics.median(delays) * 1000:7.1f} ms median, "
          f"{max(delays) * 1000:.1f} ms max, on the worker (the live path is not blocked)")


if __name__ == "__main__":
    main()
