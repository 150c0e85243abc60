"""Training with snapshots: plan, recording, replay, determinism, cancel, pause, data."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest

from cnn_widgets import CNNModel
from cnn_widgets.data import training_data
from cnn_widgets.model import FASHION_CLASSES, fashion_cnn, reinitialize
from cnn_widgets.training import Replay, SnapshotPlan, SnapshotRecorder, train_with_snapshots

from ..conftest import make_tiny_cnn, stripes


def _tiny() -> CNNModel:
    return CNNModel(make_tiny_cnn(filters=4))


def _data(model: CNNModel, n: int = 320):
    return training_data(model, stripes(n), held_out=64)


def _plan(model: CNNModel, **changes) -> SnapshotPlan:
    return SnapshotPlan.for_model(model, oip_steps=3, **changes)


def test_plan_records_often_in_the_first_epoch_and_at_every_epoch_end():
    plan = SnapshotPlan(first_epoch=4)
    assert plan.points(16, 2) == [0, 1, 2, 4, 8, 16, 32]
    assert plan.points(469, 3) == [0, 29, 59, 117, 234, 469, 938, 1407]
    assert SnapshotPlan(first_epoch=0, every_epoch=False).points(10, 3) == [0]
    assert SnapshotPlan(first_epoch=6).points(4, 1) == [0, 1, 2, 4]  # never the same batch twice


def test_replay_frames_are_what_was_recorded_at_the_planned_points():
    model = _tiny()
    data = _data(model)
    seen: dict[int, np.ndarray] = {}

    def progress(report):  # runs right after the recorder, before the next batch
        step = (report.epoch - 1) * report.steps + report.step
        seen[step] = model.keras_model.get_layer("conv").get_weights()[0].copy()

    run = train_with_snapshots(model, data, plan=_plan(model), epochs=2, batch_size=32, learning_rate=0.1,
                               shift=0, standardize=True, progress=progress)
    replay = run.replay
    steps = -(-len(data) // 32)
    assert [f.step for f in replay.frames] == _plan(model).points(steps, 2)
    assert [f.label for f in replay.frames][:2] == ["before training", f"epoch 1, batch 1/{steps}"]
    assert replay.frames[-1].label == "end of epoch 2"
    for frame in replay.frames[1:]:
        np.testing.assert_array_equal(frame.kernels, seen[frame.step])
    assert not np.array_equal(replay.frames[0].kernels, replay.frames[-1].kernels)
    # validation figures only at epoch ends
    assert [("val_loss" in f.logs) for f in replay.frames] == [f.label.startswith("end") for f in replay.frames]
    # the last frame measures the final weights on the probe images
    probe_x, probe_y = data.validation
    last = replay.frames[-1]
    assert last.accuracy == pytest.approx(model.evaluate(probe_x, probe_y))
    assert last.confusion.sum() == len(probe_y)
    assert np.trace(last.confusion) == round(last.accuracy * len(probe_y))
    np.testing.assert_array_equal(last.confusion.sum(axis=1), np.bincount(probe_y, minlength=3))
    assert last.accuracy > replay.frames[0].accuracy
    assert last.decoded.shape == (4, 3, 3, 1) and last.oip.shape == (8, 8, 1) and last.maps.shape == (6, 6, 4)
    assert sorted(last.ranking.tolist()) == [0, 1, 2, 3]
    assert abs(last.scores[last.ranking[0]]) >= abs(last.scores[last.ranking[-1]])
    from cnn_widgets.methods.fcp import compare_classes  # the ranking is fcp's Cohen's d on the probe images

    chosen = np.isin(probe_y, (0, 1))
    reference = compare_classes(model, probe_x[chosen], probe_y[chosen], "conv", (0, 1))
    np.testing.assert_allclose(last.scores, reference.map_scores, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(last.ranking, reference.map_ranking)
    assert run.snapshot_seconds == pytest.approx(sum(f.seconds for f in replay.frames))
    assert run.batches == 2 * steps and not run.cancelled


def test_replay_pictures_and_gif_have_one_frame_per_snapshot():
    from PIL import Image

    model = _tiny()
    run = train_with_snapshots(model, _data(model), plan=_plan(model), epochs=1, batch_size=32,
                               learning_rate=0.1, standardize=True)
    replay = run.replay
    assert replay.kinds() == ["kernels", "decoded", "oip", "maps", "ranking", "confusion"]
    for kind in replay.kinds():
        indices, colormap = replay.picture(kind, 0)
        assert indices.dtype == np.uint8 and indices.ndim == 2 and colormap
        assert replay.png_bytes(kind, -1).startswith(b"\x89PNG")
    first, last = replay.picture("kernels", 0)[0], replay.picture("kernels", -1)[0]
    assert first.shape == last.shape and not np.array_equal(first, last)
    gif = Image.open(io.BytesIO(replay.gif_bytes("kernels", zoom=4)))
    assert gif.n_frames == len(replay)
    assert gif.width >= first.shape[1] * 4 and gif.height > first.shape[0] * 4  # with its title and scale
    assert gif.info["comment"].decode().startswith("First-layer kernels, before training")
    confusion = replay.picture("confusion", -1)[0]
    assert confusion.shape == (3, 3)
    with pytest.raises(ValueError, match="unknown kind 'weights'"):
        replay.picture("weights")
    with pytest.raises(ValueError, match=f"frame must be 0–{len(replay) - 1}"):
        replay.picture("kernels", len(replay))
    with pytest.raises(ValueError, match="zoom must be an integer 1–64"):
        replay.png_bytes("kernels", zoom=0)
    with pytest.raises(ValueError, match="no snapshots yet"):
        Replay([]).gif_bytes("kernels")
    epochs, accuracy = replay.curve("accuracy")
    assert epochs[0] == 0 and epochs[-1] == 1 and len(accuracy) == len(replay)
    with pytest.raises(ValueError, match="no curve named 'los'; this replay has: accuracy, .*loss"):
        replay.curve("los")  # refused, naming the allowed names (was two empty arrays)


def test_same_seed_same_run_other_seed_other_run():
    def run(seed: int):
        model = _tiny()
        result = train_with_snapshots(model, _data(model), plan=_plan(model, first_epoch=2), epochs=2,
                                      batch_size=32, learning_rate=0.1, standardize=True, fresh=seed, seed=seed)
        return result

    a, b, c = run(3), run(3), run(4)
    for x, y in zip(a.replay.frames, b.replay.frames):
        np.testing.assert_allclose(x.kernels, y.kernels, atol=1e-6)
        np.testing.assert_array_equal(x.confusion, y.confusion)
    np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e-5)
    assert not np.allclose(a.replay.frames[0].kernels, c.replay.frames[0].kernels)


def test_cancel_stops_within_one_batch_and_records_where_it_stopped():
    model = _tiny()
    cancel = threading.Event()
    weights: dict[int, np.ndarray] = {}

    def progress(report):
        step = (report.epoch - 1) * report.steps + report.step
        weights[step] = model.keras_model.get_layer("conv").get_weights()[0].copy()
        if step == 3:
            cancel.set()

    run = train_with_snapshots(model, _data(model), plan=_plan(model), epochs=3, batch_size=16,
                               learning_rate=0.1, standardize=True, progress=progress, cancel=cancel)
    assert run.cancelled and run.batches == 3
    assert max(weights) == 3
    assert run.replay.frames[-1].step == 3
    np.testing.assert_array_equal(model.keras_model.get_layer("conv").get_weights()[0], weights[3])
    np.testing.assert_array_equal(run.replay.frames[-1].kernels, weights[3])


class _CountingEvent(threading.Event):
    """A cancel event that counts how often training waited on it (while paused)."""

    def __init__(self, on_wait):
        super().__init__()
        self.waits = 0
        self.on_wait = on_wait

    def wait(self, timeout=None):
        self.waits += 1
        self.on_wait(self.waits)
        return super().wait(0)


def test_pause_holds_training_after_the_current_batch_until_resumed():
    model = _tiny()
    pause = threading.Event()
    reports: list[int] = []
    held: list[int] = []

    def on_wait(count):
        if count == 5:  # five waits in a row: nothing trained meanwhile
            held.append(len(reports))
            pause.clear()

    cancel = _CountingEvent(on_wait)

    def progress(report):
        reports.append((report.epoch - 1) * report.steps + report.step)
        if reports[-1] == 2:
            pause.set()

    run = train_with_snapshots(model, _data(model), snapshots=False, epochs=1, batch_size=32,
                               standardize=True, progress=progress, cancel=cancel, pause=pause)
    assert held == [2] and cancel.waits == 5
    assert not run.cancelled and run.batches == -(-256 // 32)


@pytest.mark.parametrize("setting, value, allowed", [
    ("learning_rate", float("nan"), "a number > 0"),
    ("learning_rate", -0.1, "a number > 0"),
    ("momentum", 1.0, r"a number in \[0, 1\)"),
    ("momentum", -0.5, r"a number in \[0, 1\)"),
    ("l2", -1e-4, "a number ≥ 0"),
    ("l2", float("inf"), "a number ≥ 0"),
    ("epochs", 0, "an integer ≥ 1"),
    ("batch_size", 2.5, "an integer ≥ 1"),
    ("shift", -1, r"an integer ≥ 0 \(pixels\)"),
    ("lr_decay", 0.0, r"a number in \(0, 1\]"),
    ("epochs", True, "an integer ≥ 1"),
])
def test_bad_settings_are_refused_before_any_weight_changes(setting, value, allowed):
    model = _tiny()
    before = model.keras_model.get_weights()
    with pytest.raises(ValueError, match=f"{setting} must be {allowed}; got"):
        train_with_snapshots(model, _data(model), fresh=1, **{setting: value})
    for a, b in zip(before, model.keras_model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=f"{setting} must be {allowed}"):
        model.train(*stripes(32), **{setting: value})


def test_plan_and_data_errors_name_what_is_allowed():
    model = _tiny()
    with pytest.raises(ValueError, match="decode_layer='flat': choose a layer with maps: conv, pool"):
        SnapshotPlan.for_model(model, decode_layer="flat").check(model)
    with pytest.raises(ValueError, match="classes must be two different classes 0–2"):
        SnapshotPlan.for_model(model, classes=(1, 1)).check(model)
    with pytest.raises(ValueError, match="digit must be 0–63"):
        SnapshotRecorder(model, _data(model).validation, _plan(model, digit=64))
    with pytest.raises(ValueError, match="MNIST does not fit it"):
        training_data(model)
    with pytest.raises(ValueError, match="limit must be an integer ≥ 1"):
        training_data(model, stripes(64), limit=0)
    with pytest.raises(ValueError, match="data must be"):
        training_data(model, 5)


def test_offline_the_data_line_says_so_in_words_not_the_download_error(tmp_path, monkeypatch):
    import cnn_widgets.data.mnist as mnist

    monkeypatch.delenv("CNN_WIDGETS_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # an empty cache
    monkeypatch.setattr(mnist, "_ORIGIN", "http://127.0.0.1:9/")  # nothing listens: the download fails
    data = training_data(limit=100)
    assert data.fallback
    assert "no training split available (offline, or the download failed, and no MNIST file was named)" \
        in data.source
    assert "urlopen" not in data.source and "Errno" not in data.source


def test_without_a_training_split_it_trains_on_the_shipped_test_images_and_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_WIDGETS_MNIST", raising=False)
    data = training_data(path=tmp_path / "missing.npz", limit=500)
    assert data.fallback
    assert data.source.startswith("trained on the 10,000 MNIST test images — no training split available")
    assert "9,000 for training, 1,000 held out for validation" in data.source
    assert "missing.npz" in data.source
    assert len(data) == 500 and len(data.validation[0]) == 1000
    # the held-out part is not trained on
    train = {image.tobytes() for image in data.images}
    assert not any(image.tobytes() in train for image in data.validation[0][:200])


def test_with_the_training_split_it_says_so(mnist_path):
    with np.load(mnist_path, allow_pickle=False) as archive:
        count = len(archive["y_train"])  # 60,000 in the real file
    data = training_data(path=mnist_path, limit=600, validation_limit=300)
    assert not data.fallback and data.source.startswith(f"MNIST training split ({count:,} images)")
    assert len(data) == 600 and len(data.validation[1]) == 300


def test_fashion_cnn_is_the_tutorials_small_cnn_and_learns_on_mnist_shaped_data():
    from cnn_widgets.data.mnist import mnist_test_split

    model = fashion_cnn(seed=0)
    table = {row.name: row for row in model.layers_table()}
    assert [name for name in table] == ["conv1", "conv2", "pool", "flatten", "output"]
    assert table["conv1"].output_shape == (26, 26, 8) and table["conv2"].output_shape == (24, 24, 16)
    assert table["pool"].output_shape == (12, 12, 16) and model.class_names == list(FASHION_CLASSES)
    # Fashion-MNIST is not on this machine: the architecture runs on MNIST-shaped images
    x, y = mnist_test_split()
    data = training_data(model, ((x[:400], y[:400]), (x[400:600], y[400:600])))
    run = train_with_snapshots(model, data, plan=SnapshotPlan.for_model(model, oip_steps=3, probe=200),
                               epochs=2, batch_size=32, learning_rate=0.05, standardize=True)
    assert run.replay.frames[-1].accuracy > run.replay.frames[0].accuracy + 0.3
    assert run.replay.frames[-1].kernels.shape == (3, 3, 1, 8)
    assert run.replay.frames[-1].decoded.shape == (16, 5, 5, 1)


def test_reinitialize_is_seeded_and_bumps_the_version():
    model = _tiny()
    version = model.version
    first = [w.copy() for w in reinitialize(model, 7).keras_model.get_weights()]
    assert model.version == version + 1
    second = reinitialize(model, 7).keras_model.get_weights()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(reinitialize(model, 8).keras_model.get_weights()[0], first[0])
    with pytest.raises(ValueError, match="seed must be an integer ≥ 0"):
        reinitialize(model, -1)


@pytest.mark.slow
def test_fashion_notebook_runs_every_view_when_the_data_file_is_there(mnist_path, tmp_path, monkeypatch):
    """Fashion-MNIST is not on this machine: its notebook's data branch runs on a file of
    the same format (MNIST's), so the training, filter, map, OIP and FCP cells execute."""
    import nbformat
    from nbclient import NotebookClient

    from ..conftest import REPO

    monkeypatch.setenv("CNN_WIDGETS_FASHION_MNIST", str(mnist_path))
    notebook = nbformat.read(REPO / "notebooks" / "08_fashion_mnist.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    with np.load(mnist_path, allow_pickle=False) as archive:
        counts = len(archive["y_train"]), len(archive["y_test"])  # 60,000 and 10,000 in the real file
    assert f"{counts[0]:,} training and {counts[1]:,} test images" in text and "trained 2 epoch(s)" in text
    assert "skipped" not in text
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) >= 3  # the lab, filters and maps, OIP and FCP
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # the filters before and after, static
    assert not [o for o in outputs if o.get("name") == "stderr"]


def test_a_touched_pause_gate_holds_training_until_released():
    from cnn_widgets.session import PauseGate

    gate = PauseGate(hold_s=3600)
    assert not gate.is_set()
    gate.touch()
    assert gate.is_set() and gate.holding and gate.touches == 1
    gate.release()
    assert not gate.is_set()
    gate.set()
    gate.release()
    assert gate.is_set()  # a pause stays until cleared
    gate.clear()
    with pytest.raises(ValueError, match="hold_s must be a number ≥ 0"):
        PauseGate(-1)

    model = _tiny()
    reports: list[int] = []
    held: list[int] = []
    gate = PauseGate(hold_s=3600)

    def on_wait(count):
        if count == 3:
            held.append(len(reports))
            gate.release()

    def progress(report):
        reports.append((report.epoch - 1) * report.steps + report.step)
        if reports[-1] == 4:
            gate.touch()  # a stroke arrives while batch 4 ends

    run = train_with_snapshots(model, _data(model), snapshots=False, epochs=1, batch_size=32, standardize=True,
                               progress=progress, cancel=_CountingEvent(on_wait), pause=gate)
    assert held == [4] and run.batches == 8 and not run.cancelled


def test_adam_trains_and_says_so_sgd_stays_the_default():
    """Seed 003's optimizer: Adam learns the stripes as SGD does, the recipe names it, and an
    unknown optimizer is refused before any weight moves."""
    x, y = stripes(320)
    results = {}
    for optimizer, rate in (("sgd", 0.1), ("adam", 0.01)):
        model = CNNModel(make_tiny_cnn(filters=4, seed=2))
        before = [w.copy() for w in model.keras_model.get_weights()]
        history = model.train(x, y, epochs=3, batch_size=32, learning_rate=rate, shift=0, standardize=True,
                              optimizer=optimizer)
        results[optimizer] = history["accuracy"][-1]
        assert model.metadata["training"]["optimizer"] == optimizer
        assert any(not np.allclose(a, b) for a, b in zip(before, model.keras_model.get_weights()))
    assert results["adam"] > 0.8 and results["sgd"] > 0.8  # both learn the three stripe classes
    model = CNNModel(make_tiny_cnn(filters=4, seed=2))
    assert model.metadata.get("training", {}).get("optimizer") in (None, "sgd")
    trained = CNNModel(make_tiny_cnn(filters=4, seed=2))
    trained.train(x, y, epochs=1, batch_size=32, learning_rate=0.001, shift=0, optimizer="adam")
    assert trained.metadata["training"]["recipe"].startswith("Adam (beta1 0.9, beta2 0.999)")
    before = [w.copy() for w in model.keras_model.get_weights()]
    with pytest.raises(ValueError, match="optimizer must be one of sgd, adam; got 'rmsprop'"):
        model.train(x, y, epochs=1, optimizer="rmsprop")
    assert all(np.array_equal(a, b) for a, b in zip(before, model.keras_model.get_weights()))
