"""Benchmark of training in the notebook (issue: watch it learn).

Prints, measured in this one run:
  * one epoch of the seeds' CNN (``cnn_widgets.mnist_cnn``) on the 60,000 MNIST
    training images, without and with snapshots (kernels, decoded conv2 filters, a
    conv3 OIP, a digit's conv1 maps, 4-vs-9 Cohen's d on conv3, accuracy and
    confusion on 1,000 validation images, at 0, 1/16, 1/8, 1/4, 1/2 and 1 epoch):
    the overhead ratio and the snapshots' share (target ≤ 10 %);
  * stroke latency in the kernel while training runs on the session's worker: one
    LiveModel forward per stroke (what the pad triggers), p95 while training vs
    idle (target within 2×).

Needs the MNIST training split: ``$CNN_WIDGETS_MNIST`` or ``../shared/data/mnist.npz``.
Run from the repository root: ``python benchmarks/bench_training.py [--quick]``
(``--quick``: 12,000 images instead of 60,000).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def mnist_path() -> Path:
    named = os.environ.get("CNN_WIDGETS_MNIST")
    path = Path(named) if named else Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"
    if not path.is_file():
        sys.exit(f"the MNIST training split is needed: set CNN_WIDGETS_MNIST (looked at {path})")
    return path


def epoch_figures(images: int) -> None:
    import numpy as np

    from cnn_widgets import mnist_cnn
    from cnn_widgets.training import train_with_snapshots
    from cnn_widgets.data import training_data

    data = training_data(path=mnist_path(), limit=images, validation_limit=2000)
    print(f"data: {data.source}")
    warm = mnist_cnn(seed=0)  # TensorFlow's one-time start-up costs out of the measurement
    train_with_snapshots(warm, training_data(warm, ((data.images[:512], data.labels[:512]), data.validation)),
                         epochs=1, standardize=True)
    wall: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    batch_ms: dict[bool, list[float]] = {False: [], True: []}
    snapshot_s: list[float] = []
    for snapshots in (False, True, False, True):
        model = mnist_cnn(seed=0)
        stamps: list[float] = []
        began = time.process_time()
        run = train_with_snapshots(model, data, snapshots=snapshots, epochs=1, standardize=True, seed=0,
                                   progress=lambda report: stamps.append(time.perf_counter()))
        cpu[snapshots].append(time.process_time() - began)
        wall[snapshots].append(run.seconds)
        median = float(np.median(np.diff(stamps))) * 1000  # a batch, steady state (snapshot batches are few)
        batch_ms[snapshots].append(median)
        label = f"{len(run.replay)} snapshots ({run.snapshot_seconds:.2f} s)" if snapshots else "no snapshots"
        print(f"  one epoch, {len(data):,} images, {label}: {run.seconds:.1f} s, median batch {median:.1f} ms, "
              f"validation accuracy {100 * run.history['val_accuracy'][-1]:.1f} %")
        if snapshots:
            snapshot_s.append(run.snapshot_seconds)
            print("    per snapshot:", ", ".join(f"{f.label} {f.seconds * 1000:.0f} ms" for f in run.replay.frames))
    plain, snapped = min(wall[False]), min(wall[True])
    print(f"epoch with snapshots / without: {snapped / plain:.3f} wall (best of 2 each; {snapped:.1f} s vs "
          f"{plain:.1f} s), {min(cpu[True]) / min(cpu[False]):.3f} CPU time, "
          f"{min(batch_ms[True]) / min(batch_ms[False]):.3f} median batch time")
    print(f"snapshot time / training time: {100 * min(snapshot_s) / plain:.1f} % (best snapshot total over the best "
          "epoch without; target ≤ 10 %)")


def stroke_figures(strokes: int) -> None:
    import numpy as np

    from cnn_widgets import mnist_cnn
    from cnn_widgets.session import Session

    from cnn_widgets.data import training_data

    from cnn_widgets.widgets import TrainingLab

    path = mnist_path()
    os.environ.setdefault("CNN_WIDGETS_MNIST", str(path))
    session = Session(mnist_cnn(seed=0))
    live = session.live
    images = (session.data.test_set.images[:strokes] / 255.0).astype(np.float32)

    def strokes_ms() -> list[float]:
        times = []
        for image in images:
            began = time.perf_counter()
            live.image = image  # one forward pass, all layers, and the trait updates
            times.append((time.perf_counter() - began) * 1000)
            time.sleep(1 / 30)  # strokes arrive at most once per frame
        return times

    strokes_ms()  # compile the live path
    idle = strokes_ms()
    rows = [("idle", idle, None)]
    data = training_data(path=path, validation_limit=2000)
    for label, hold in (("training, yielding to strokes (TrainingLab)", 0.25),
                        ("training, not yielding", 0.0)):
        lab = TrainingLab(session, data=((data.images, data.labels), data.validation), fresh=True, epochs=3)
        lab._pause.hold_s = hold
        lab.train()
        while not lab.loss_train.x.size:  # past the first snapshots: training in full swing
            time.sleep(0.05)
        time.sleep(2.0)
        before = len(lab.loss_train.x) if hold else None
        busy = strokes_ms()
        batches = None
        if hold:
            time.sleep(0.5)
            batches = len(lab.loss_train.x) - before
        running = lab.running
        lab.cancel()
        lab.wait()
        lab.close()
        rows.append((label + ("" if running else " (ended early)"), busy, batches))
    session.close()
    p95_idle = percentile(idle, 95)
    for label, times, batches in rows:
        extra = "" if batches is None else f"; {batches} batches trained during the {len(times)} strokes"
        print(f"stroke (LiveModel forward) {label}: median {percentile(times, 50):.2f} ms, "
              f"p95 {percentile(times, 95):.2f} ms, p95 / idle {percentile(times, 95) / p95_idle:.2f}{extra}")
    print(f"stroke p95 while training / idle: {percentile(rows[1][1], 95) / p95_idle:.2f} (target ≤ 2; "
          f"without yielding {percentile(rows[2][1], 95) / p95_idle:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12,000 images per epoch, fewer strokes")
    args = parser.parse_args()
    epoch_figures(12_000 if args.quick else 60_000)
    stroke_figures(100 if args.quick else 300)


if __name__ == "__main__":
    main()
