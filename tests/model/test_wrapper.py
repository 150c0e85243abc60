"""CNNModel on tiny models (exact checks) and on the embedded MNIST CNN."""

from __future__ import annotations

import json
import threading
import zipfile

import h5py

import keras
import numpy as np
import pytest

from cnn_widgets import CNNModel, mnist_cnn
from cnn_widgets.model import TrainingProgress

from ..conftest import make_tiny_cnn, stripes


def conv2d_valid(image: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Hand-written 'valid' cross-correlation: (H, W, C) * (k, k, C, F) → (H-k+1, W-k+1, F)."""
    k = kernel.shape[0]
    h, w = image.shape[0] - k + 1, image.shape[1] - k + 1
    out = np.zeros((h, w, kernel.shape[3]))
    for i in range(h):
        for j in range(w):
            out[i, j] = np.tensordot(image[i:i + k, j:j + k], kernel, axes=3) + bias
    return out


# ------------------------------------------------------------------ activations, predict
def test_activations_match_hand_computed_convolution_with_standardisation(tiny_keras, rng):
    model = CNNModel(tiny_keras, mean=0.25, std=0.5)
    image = rng.random((8, 8)).astype(np.float32)
    maps = model.activations(image)
    kernel, bias = tiny_keras.get_layer("conv").get_weights()
    expected_conv = np.maximum(conv2d_valid(((image - 0.25) / 0.5)[..., None], kernel, bias), 0)
    np.testing.assert_allclose(maps["conv"][0], expected_conv, rtol=1e-5, atol=1e-5)
    expected_pool = expected_conv[:6, :6].reshape(3, 2, 3, 2, -1).max(axis=(1, 3))
    np.testing.assert_allclose(maps["pool"][0], expected_pool, rtol=1e-5, atol=1e-5)
    assert set(maps) == {"conv", "pool", "flat", "out"}
    assert maps["out"].shape == (1, 3)


def test_activations_equal_keras_submodel_outputs(rng):
    net = mnist_cnn(seed=3)
    model = CNNModel(net.keras_model, mean=0.13, std=0.31)
    images = rng.random((5, 28, 28)).astype(np.float32)
    ours = model.activations(images, ["conv2", "pool2", "dense"])
    assert list(ours) == ["conv2", "pool2", "dense"]
    standardised = ((images - 0.13) / 0.31)[..., None]
    for name in ours:
        sub = keras.Model(net.keras_model.inputs[0], net.keras_model.get_layer(name).output)
        np.testing.assert_allclose(ours[name], sub(standardised).numpy(), rtol=1e-4, atol=1e-5)


def test_predict_shapes_and_probabilities(tiny_keras, rng):
    model = CNNModel(tiny_keras)
    single = model.predict(rng.random((8, 8)))
    batch = model.predict(rng.random((4, 8, 8, 1)))
    grey_batch = model.predict(rng.random((6, 8, 8)))
    assert single.shape == (1, 3) and batch.shape == (4, 3) and grey_batch.shape == (6, 3)
    np.testing.assert_allclose(batch.sum(axis=1), 1, rtol=1e-5)
    assert np.all(batch >= 0)


def test_logit_models_get_probabilities(rng):
    net = make_tiny_cnn(softmax=False)
    model = CNNModel(net)
    images = rng.random((3, 8, 8)).astype(np.float32)
    logits = net(images[..., None]).numpy()
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict(images), expected, rtol=1e-5)


def test_uint8_images_are_pixels_0_to_255(tiny_keras, rng):
    model = CNNModel(tiny_keras, mean=0.1, std=0.3)
    pixels = rng.integers(0, 256, (2, 8, 8), dtype=np.uint8)
    np.testing.assert_allclose(model.predict(pixels), model.predict(pixels / 255.0), rtol=1e-5)


def test_standardisation_is_applied_once(rng):
    """A model whose first conv is the identity shows (x - mean) / std exactly, not twice."""
    net = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(1, 1, use_bias=False, name="id"),
                            keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    net.get_layer("id").set_weights([np.ones((1, 1, 1, 1), np.float32)])
    model = CNNModel(net, mean=0.5, std=0.25)
    image = rng.random((6, 6)).astype(np.float32)
    np.testing.assert_allclose(model.activations(image, "id")["id"][0, ..., 0], (image - 0.5) / 0.25,
                               rtol=1e-6)


def test_large_batches_are_split_and_joined(tiny_keras, rng):
    model = CNNModel(tiny_keras)
    images = rng.random((37, 8, 8)).astype(np.float32)
    whole = model.activations(images, "conv", batch_size=1000)["conv"]
    split = model.activations(images, "conv", batch_size=8)["conv"]
    np.testing.assert_allclose(split, whole, rtol=1e-5, atol=1e-6)  # XLA and oneDNN kernels differ slightly


def test_repeated_calls_do_not_retrace(tiny_keras, rng):
    model = CNNModel(tiny_keras, jit_compile=True)
    for n in (1, 1, 3, 7, 1, 40, 33, 40):
        model.activations(rng.random((n, 8, 8)).astype(np.float32))
    xla, graph = model._calls.values()  # small batches through XLA, large ones in graph mode
    assert xla.experimental_get_tracing_count() == 1 and graph.experimental_get_tracing_count() == 1
    plain = CNNModel(tiny_keras)  # the default: graph mode for every batch, one trace
    for n in (1, 3, 40, 1):
        plain.activations(rng.random((n, 8, 8)).astype(np.float32))
    (only,) = plain._calls.values()
    assert only.experimental_get_tracing_count() == 1


def test_activations_are_safe_from_several_threads(tiny_keras, rng):
    model = CNNModel(tiny_keras)
    images = rng.random((4, 8, 8)).astype(np.float32)
    expected = model.activations(images)["out"]
    results = []

    def work() -> None:
        results.append(model.activations(images)["out"])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for result in results:
        np.testing.assert_allclose(result, expected, rtol=1e-6)


# ------------------------------------------------------------------ the user's own model
def test_own_rgb_functional_model_with_other_names(rng):
    inputs = keras.Input((32, 32, 3), name="rgb")
    x = keras.layers.Conv2D(4, 5, strides=2, padding="same", activation="relu", name="stem")(inputs)
    x = keras.layers.AveragePooling2D(2, name="blur")(x)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="features")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(5, activation="softmax", name="classes")(x)
    net = keras.Model(inputs, outputs)
    model = CNNModel(net, mean=(0.5, 0.4, 0.3), std=(0.2, 0.2, 0.25),
                     class_names=["a", "b", "c", "d", "e"])
    table = {row.name: row for row in model.layers_table()}
    assert list(table) == ["stem", "blur", "features", "gap", "classes"]
    assert table["stem"].output_shape == (16, 16, 4)
    assert table["stem"].params == 5 * 5 * 3 * 4 + 4
    # stem: 5 px, jump 2; blur: 5 + 1*2 = 7, jump 4; features: 7 + 2*4 = 15, jump 4.
    assert [table[n].receptive_field for n in ("stem", "blur", "features")] == [(5, 5), (7, 7), (15, 15)]
    assert table["gap"].receptive_field == (32, 32) and not table["gap"].is_spatial
    images = rng.random((2, 32, 32, 3)).astype(np.float32)
    assert model.predict(images).shape == (2, 5)
    maps = model.activations(images[0])
    assert maps["features"].shape == (1, 6, 6, 8)
    assert model.spatial_layers == ["stem", "blur", "features"]


def test_model_without_conv_layer_is_refused():
    net = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="2-D convolution"):
        CNNModel(net)


def test_not_a_keras_model_is_refused():
    with pytest.raises(TypeError, match="keras.Model"):
        CNNModel("model.keras")  # type: ignore[arg-type]


def test_unbuilt_model_gets_a_clear_error():
    net = keras.Sequential([keras.layers.Conv2D(2, 3), keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        CNNModel(net)


def test_bad_standardisation_is_refused(tiny_keras):
    with pytest.raises(ValueError, match="std must be > 0"):
        CNNModel(tiny_keras, std=0)
    with pytest.raises(ValueError, match="one per channel"):
        CNNModel(tiny_keras, mean=(0.1, 0.2))


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "images, error, message",
    [
        (np.zeros((8,)), ValueError, "rank 1"),
        (np.zeros((1, 1, 8, 8, 1)), ValueError, "rank 5"),
        (np.zeros((9, 9)), ValueError, "8×8 images; got 9×9"),
        (np.zeros((2, 8, 8, 3)), ValueError, r"grey images \(8×8×1\); got an RGB batch of shape \(2, 8, 8, 3\)"),
        (np.zeros((8, 8, 3)), ValueError, r"grey images \(8×8×1\); got an RGB image of shape \(8, 8, 3\)"),
        (np.zeros((8, 8, 4), np.uint8), ValueError, "RGBA image"),
        (np.zeros((2, 8, 8, 2)), ValueError, r"1-channel images \(8×8×1\); got 2 channels"),
        (np.full((8, 8), 1e300), ValueError, r"\[0, 1\].*1e\+300"),
        ([[0.0] * 8] * 7 + [[0.0] * 7], TypeError, "ragged"),
        (np.zeros((8, 8), complex), TypeError, "numeric"),
        (np.zeros((0, 8, 8)), ValueError, "empty"),
        (np.full((8, 8), np.nan), ValueError, "NaN or infinite"),
        (np.full((8, 8), np.inf), ValueError, "NaN or infinite"),
        (np.full((8, 8), 255.0), ValueError, r"\[0, 1\].*uint8"),
        (np.zeros((8, 8), dtype=np.int64), TypeError, "uint8"),
        (np.array([["a"] * 8] * 8), TypeError, "numeric"),
    ],
)
def test_bad_images_get_clear_errors(tiny_keras, images, error, message):
    model = CNNModel(tiny_keras)
    with pytest.raises(error, match=message):
        model.predict(images)
    with pytest.raises(error, match=message):
        model.activations(images)


def test_unknown_layer_lists_the_valid_ones(tiny_keras):
    model = CNNModel(tiny_keras)
    with pytest.raises(ValueError, match="unknown layer 'conv9'.*conv, pool, flat, out"):
        model.activations(np.zeros((8, 8)), ["conv", "conv9"])
    with pytest.raises(ValueError, match="no layers requested"):
        model.activations(np.zeros((8, 8)), [])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"layers": 5}, TypeError, "layers must be a layer name, a list of names or None; got int.*conv, pool"),
        ({"layers": ["conv", 5]}, ValueError, "unknown layer 5"),
        ({"batch_size": 0}, ValueError, "batch_size must be a whole number ≥ 1; got 0"),
        ({"batch_size": -3}, ValueError, "batch_size must be a whole number ≥ 1; got -3"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be a whole number"),
        ({"batch_size": True}, TypeError, "batch_size must be a whole number"),
    ],
)
def test_bad_activation_arguments_get_clear_errors(tiny_keras, kwargs, error, message):
    model = CNNModel(tiny_keras)
    with pytest.raises(error, match=message):
        model.activations(np.zeros((8, 8)), **kwargs)


def test_repeated_layer_names_are_computed_once(tiny_keras, rng):
    model = CNNModel(tiny_keras)
    image = rng.random((8, 8)).astype(np.float32)
    values = model.activations(image, ["pool", "conv", "pool"])
    assert list(values) == ["pool", "conv"]
    np.testing.assert_array_equal(values["pool"], model.activations(image, "pool")["pool"])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"class_names": "abc"}, TypeError, "class_names must be a list of 3 strings; got str"),
        ({"class_names": [1, 2, 3]}, TypeError, "class_names must be strings; got 1"),
        ({"class_names": ["a", "b"]}, ValueError, "2 names for 3 classes"),
        ({"mean": "grey"}, TypeError, "mean must be a number or one number per channel"),
        ({"std": [[0.1], "x"]}, TypeError, "std must be a number"),
        ({"std": float("nan")}, ValueError, "std must be finite"),
        ({"metadata": [1, 2]}, TypeError, "metadata must be a dict; got list"),
    ],
)
def test_bad_constructor_arguments_get_clear_errors(tiny_keras, kwargs, error, message):
    with pytest.raises(error, match=message):
        CNNModel(tiny_keras, **kwargs)


@pytest.mark.parametrize(
    "meta, message",
    [
        ({"class_names": "xyz"}, "toy.json: class_names must be a list of 3 strings"),
        ({"class_names": [0, 1, 2]}, "toy.json: class_names must be strings"),
        ({"standardization": [0.5, 0.2]}, "'standardization' must be an object"),
        ({"standardization": {"mean": "a lot", "std": 1}}, "toy.json: mean must be a number"),
        ({"standardization": {"mean": 0, "std": -1}}, "toy.json: std must be > 0"),
        ({"standardization": {"mean": [0, 0], "std": 1}}, "toy.json: mean must be one number or one per channel"),
    ],
)
def test_metadata_with_wrong_types_names_the_file(tmp_path, tiny_keras, meta, message):
    tiny_keras.save(tmp_path / "toy.keras")
    (tmp_path / "toy.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=message):
        CNNModel.load(tmp_path / "toy.keras")


def test_save_refuses_paths_it_cannot_write_before_writing(tmp_path, tiny_keras):
    model = CNNModel(tiny_keras)
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ValueError, match="a_file is a file, not a folder"):
        model.save(tmp_path / "a_file" / "sub" / "m.keras")
    (tmp_path / "folder.keras").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        model.save(tmp_path / "folder.keras")
    with pytest.raises(ValueError, match="must end in '.keras'.*'.h5'"):
        model.save(tmp_path / "m.h5")
    with pytest.raises(TypeError, match="must be a file path"):
        model.save(5)
    with pytest.raises(TypeError, match="path must be a file path"):
        CNNModel.load(None)
    model.metadata["accuracy"] = np.float32(0.5)  # not JSON: refused before anything is written
    with pytest.raises(ValueError, match="JSON values.*float32"):
        model.save(tmp_path / "m.keras")
    model.metadata["accuracy"] = float("nan")
    with pytest.raises(ValueError, match="JSON values"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists() and not (tmp_path / "m.json").exists()


def test_evaluate_refuses_labels_that_are_not_class_indices(tiny_keras):
    model = CNNModel(tiny_keras)
    with pytest.raises(TypeError, match="integer class indices; got float64"):
        model.evaluate(np.zeros((2, 8, 8)), [0.5, 1.0])
    with pytest.raises(ValueError, match="2 images but 3 labels"):
        model.evaluate(np.zeros((2, 8, 8)), [0, 1, 2])


def test_wrong_channels_for_rgb_model(rng):
    model = CNNModel(make_tiny_cnn(channels=3))
    with pytest.raises(ValueError, match="do not fit this model"):
        model.predict(rng.random((4, 8, 8)))
    assert model.predict(rng.random((8, 8, 3))).shape == (1, 3)


# ------------------------------------------------------------------ save / load
def test_save_and_load_round_trip(tmp_path, tiny_keras, rng):
    model = CNNModel(tiny_keras, mean=0.2, std=0.4, class_names=["x", "y", "z"],
                     metadata={"dataset": "toy", "test_accuracy": 0.5})
    path = model.save(tmp_path / "toy.keras")
    assert (tmp_path / "toy.json").is_file()
    loaded = CNNModel.load(path)
    images = rng.random((3, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(images), model.predict(images), rtol=1e-6)
    assert loaded.class_names == ["x", "y", "z"]
    assert loaded.metadata["dataset"] == "toy"
    np.testing.assert_allclose(loaded.mean, [0.2])
    np.testing.assert_allclose(loaded.std, [0.4])


def test_saved_file_holds_no_optimizer_state(tmp_path, rng):
    model = CNNModel(make_tiny_cnn())
    model.train(rng.random((16, 8, 8)).astype(np.float32), rng.integers(0, 3, 16), epochs=1,
                batch_size=8)
    path = model.save(tmp_path / "trained.keras")
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        archive.extract("model.weights.h5", tmp_path)
    assert not config.get("compile_config")
    with h5py.File(tmp_path / "model.weights.h5") as weights:
        assert "optimizer" not in weights
        assert "layers" in weights


def test_load_without_metadata_takes_pixels_as_they_are(tmp_path, tiny_keras):
    tiny_keras.save(tmp_path / "bare.keras")
    model = CNNModel.load(tmp_path / "bare.keras")
    np.testing.assert_array_equal(model.mean, [0])
    np.testing.assert_array_equal(model.std, [1])


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_or_truncated_weights_file(tmp_path, tiny_keras, damage):
    path = CNNModel(tiny_keras).save(tmp_path / "m.keras")
    data = path.read_bytes()
    path.write_bytes(b"not a model at all" * 10 if damage == "garbage" else data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"m\.keras"):
        CNNModel.load(path)


def test_load_refuses_other_formats_and_missing_files(tmp_path):
    with pytest.raises(ValueError, match="'.keras'"):
        CNNModel.load(tmp_path / "weights.h5")
    with pytest.raises(FileNotFoundError):
        CNNModel.load(tmp_path / "absent.keras")


def test_load_uses_safe_mode(tmp_path):
    """A Lambda layer carries Python bytecode: safe mode must refuse it."""
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(1, 3)(inputs)
    x = keras.layers.Lambda(lambda t: t * 2.0)(x)
    net = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    net.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="could not load"):
        CNNModel.load(tmp_path / "lambda.keras")


def test_corrupt_metadata_is_reported(tmp_path, tiny_keras):
    path = CNNModel(tiny_keras).save(tmp_path / "m.keras")
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        CNNModel.load(path)


# ------------------------------------------------------------------ training
def test_training_learns_and_reports_progress(rng):
    images, labels = stripes(256, rng)
    model = CNNModel(make_tiny_cnn(filters=4))
    before = model.evaluate(images, labels)
    reports: list[TrainingProgress] = []
    history = model.train(images, labels, epochs=6, batch_size=32, learning_rate=0.1, shift=1,
                          standardize=True, progress=reports.append)
    assert model.evaluate(images, labels) > max(before, 0.9)
    assert len(history["loss"]) == 6 and history["loss"][-1] < history["loss"][0]
    assert [r.epoch for r in reports if r.epoch_done] == [1, 2, 3, 4, 5, 6]
    assert reports[0].steps == 8 and reports[0].step == 1
    assert model.metadata["training"]["epochs_done"] == 6
    assert 0.0 < float(model.mean[0]) < 1.0


def test_training_can_be_cancelled(rng):
    images, labels = stripes(256, rng)
    model = CNNModel(make_tiny_cnn())
    cancel = threading.Event()
    seen: list[TrainingProgress] = []

    def progress(report: TrainingProgress) -> None:
        seen.append(report)
        if report.step == 3:
            cancel.set()

    history = model.train(images, labels, epochs=5, batch_size=16, progress=progress, cancel=cancel)
    assert len(history["loss"]) <= 1
    assert max(r.step for r in seen) < 16


def test_shifted_batches_are_deterministic_and_shift_the_content():
    from cnn_widgets.model.fitting import _ShiftedBatches

    x = np.zeros((10, 6, 6, 1), np.float32)
    x[:, 2:4, 2:4] = 1.0
    y = np.arange(10)
    first = _ShiftedBatches(x, y, 4, 1, seed=7, background=np.zeros(1, np.float32))
    second = _ShiftedBatches(x, y, 4, 1, seed=7, background=np.zeros(1, np.float32))
    for index in (2, 0, 1):  # any order of requests gives the same batches
        a, b = first[index], second[index]
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    batch, labels = first[0]
    assert np.all(batch.sum(axis=(1, 2, 3)) == 4)  # shifted, never cropped
    assert len({tuple(np.argwhere(img[..., 0])[0]) for img in first[0][0]}) > 1
    assert sorted(np.concatenate([first[i][1] for i in range(len(first))])) == list(range(10))


def test_training_rejects_bad_labels(tiny_keras, rng):
    model = CNNModel(tiny_keras)
    with pytest.raises(ValueError, match="labels must be integers in 0..2"):
        model.train(rng.random((4, 8, 8)), [0, 1, 2, 3])
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        model.train(rng.random((4, 8, 8)), [0, 1, 2])


# ------------------------------------------------------------------ the embedded model
def test_default_model_is_the_seed_network():
    model = CNNModel.default()
    table = model.layers_table()
    assert [r.name for r in table] == ["conv1", "pool1", "conv2", "pool2", "conv3", "flatten",
                                       "dense", "output"]
    assert [r.output_shape for r in table[:5]] == [(26, 26, 32), (13, 13, 32), (11, 11, 64),
                                                   (5, 5, 64), (3, 3, 128)]
    assert table[2].params == 18_496
    assert [r.receptive_field[0] for r in table[:5]] == [3, 4, 8, 10, 18]
    assert model.metadata["dataset"] == "MNIST"
    assert model.metadata["test_accuracy"] >= 0.992
    assert 0.05 < float(model.mean[0]) < 0.25 and 0.2 < float(model.std[0]) < 0.45


def test_default_model_accuracy_on_the_real_test_set():
    from cnn_widgets.data.mnist import mnist_test_split

    x_test, y_test = mnist_test_split()  # the real MNIST test split, shipped
    assert CNNModel.default().evaluate(x_test, y_test) >= 0.992


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"seed": -1}, ValueError, "seed must be a whole number ≥ 0 or None; got -1"),
        ({"hidden": 0}, ValueError, "hidden must be ≥ 1; got 0"),
        ({"classes": 1}, ValueError, "classes must be ≥ 2; got 1"),
        ({"classes": 2.5}, TypeError, "classes must be a whole number"),
        ({"input_shape": (12, 12, 1)}, ValueError, "height and width ≥ 18"),
        ({"input_shape": (28, 28)}, TypeError, r"\(height, width, channels\)"),
    ],
)
def test_the_seed_network_refuses_bad_settings(kwargs, error, message):
    with pytest.raises(error, match=message):
        mnist_cnn(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(seed=-1), ValueError, "seed must be a whole number ≥ 0; got -1"),
        (dict(validation=("x",)), TypeError, "validation must be a pair"),
        (dict(progress=5), TypeError, "progress must be a function"),
        (dict(cancel="yes"), TypeError, "cancel must be a threading.Event"),
        (dict(pause=1), TypeError, "pause must be a threading.Event"),
        (dict(standardize="no"), TypeError, "standardize must be True or False"),
        (dict(validation=(np.zeros((4, 8, 8)), [0, 1])), ValueError, "4 images but 2 validation labels"),
        (dict(validation=(np.zeros((2, 8, 8)), [0.5, 1])), TypeError, "validation labels must be integer"),
    ],
)
def test_training_refuses_bad_settings_before_any_step(tiny_keras, rng, kwargs, error, message):
    model = CNNModel(tiny_keras)
    version = model.version
    with pytest.raises(error, match=message):
        model.train(rng.random((4, 8, 8)), [0, 1, 2, 0], epochs=1, **kwargs)
    assert model.version == version  # nothing trained


def test_a_missing_model_file_is_also_a_value_error(tmp_path):
    for path in (tmp_path / "absent.keras", tmp_path / "folder.keras"):
        with pytest.raises(ValueError, match="no model file at"):
            CNNModel.load(path)
    (tmp_path / "real_folder.keras").mkdir()
    with pytest.raises(ValueError, match="it is a folder"):
        CNNModel.load(tmp_path / "real_folder.keras")


def test_training_that_diverges_is_an_error_and_keeps_the_weights(tiny_keras, rng):
    model = CNNModel(tiny_keras)
    images = rng.random((16, 8, 8)).astype(np.float32)
    weights = [w.copy() for w in model.keras_model.get_weights()]
    before = model.predict(images)
    with pytest.raises(ValueError, match="training diverged: the loss stopped being a finite number"):
        model.train(images, rng.integers(0, 3, 16), epochs=2, batch_size=4, learning_rate=1e30, shift=0)
    for kept, old in zip(model.keras_model.get_weights(), weights):
        np.testing.assert_array_equal(kept, old)
    np.testing.assert_allclose(model.predict(images), before, rtol=1e-6)  # still answers, no NaN


def test_a_single_step_that_overflows_the_weights_is_caught_too(tiny_keras, rng):
    model = CNNModel(tiny_keras)
    images = rng.random((8, 8, 8)).astype(np.float32)
    before = model.predict(images)
    with pytest.raises(ValueError, match="training diverged"):  # one step: its loss is finite, its update is not
        model.train(images, rng.integers(0, 3, 8), epochs=1, batch_size=8, learning_rate=1e38, shift=0)
    np.testing.assert_allclose(model.predict(images), before, rtol=1e-6)


def test_labels_out_of_range_seeds_shifts_and_jit_flags_are_refused(tiny_keras, rng):
    model = CNNModel(tiny_keras)
    images = rng.random((4, 8, 8)).astype(np.float32)
    with pytest.raises(ValueError, match=r"labels must be class indices in 0..2; got 3..3"):
        model.evaluate(images, [3, 3, 3, 3])  # was an accuracy of 0
    with pytest.raises(ValueError, match="seed must be a whole number ≥ 0; got -1"):
        model.logit_gradient(images[:1], 0, 1, seed=-1)
    with pytest.raises(ValueError, match=r"shift must be at most 4 pixels \(half the image side\); got 100"):
        model.train(images, [0, 1, 2, 0], epochs=1, shift=100)
    with pytest.raises(TypeError, match="jit_compile must be True or False"):
        CNNModel(tiny_keras, jit_compile="yes")
    assert 0 <= model.evaluate(images, [0, 1, 2, 0]) <= 1
