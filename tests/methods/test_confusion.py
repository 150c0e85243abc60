"""The confusion matrix equals one counted with NumPy from predict, for MNIST and an RGB model."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import make_tiny_cnn


def _numpy_confusion(model, images, labels):
    predicted = np.argmax(model.predict(images), axis=1)
    counts = np.zeros((model.classes, model.classes), np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts, predicted


@pytest.fixture(scope="module")
def tiny_rgb():
    from cnn_widgets import CNNModel
    from cnn_widgets.data import DataSet

    model = CNNModel(make_tiny_cnn(channels=3, classes=3, seed=3), mean=0.5, std=0.25)
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, (300, 8, 8, 3), dtype=np.uint8)
    labels = rng.integers(0, 3, 300)
    return model, DataSet(images, labels, "300 random RGB images")


def test_counts_equal_numpy_from_predict_on_an_rgb_model(tiny_rgb):
    from cnn_widgets.methods.confusion import confusion_matrix

    model, data = tiny_rgb
    confusion = confusion_matrix(model, data)
    counts, predicted = _numpy_confusion(model, data.images, data.labels)
    np.testing.assert_array_equal(confusion.counts, counts)
    np.testing.assert_array_equal(confusion.predictions, predicted)
    assert confusion.total == 300 and confusion.source == "300 random RGB images"
    assert confusion.accuracy == pytest.approx(np.mean(predicted == data.labels))
    rates = confusion.rates
    np.testing.assert_allclose(rates.sum(axis=1), 1.0)
    np.testing.assert_allclose(rates, counts / counts.sum(axis=1, keepdims=True))


def test_indices_per_cell_most_confident_first(tiny_rgb):
    from cnn_widgets.methods.confusion import confusion_matrix

    model, data = tiny_rgb
    confusion = confusion_matrix(model, (data.images, data.labels))
    probabilities = model.predict(data.images)
    seen = []
    for true in range(3):
        for predicted in range(3):
            chosen = confusion.indices(true, predicted)
            assert len(chosen) == confusion.counts[true, predicted]
            assert np.all(data.labels[chosen] == true)
            assert np.all(np.argmax(probabilities[chosen], axis=1) == predicted)
            confidence = probabilities[chosen, predicted]
            assert np.all(np.diff(confidence) <= 1e-7)
            seen.extend(chosen.tolist())
    assert sorted(seen) == list(range(300))
    worst = confusion.most_confused(2)
    off = confusion.counts * (1 - np.eye(3, dtype=int))
    assert worst[0][2] == off.max() and all(t != p for t, p, _ in worst)


def test_embedded_model_on_the_mnist_test_split():
    from cnn_widgets import CNNModel
    from cnn_widgets.methods.confusion import confusion_matrix
    from cnn_widgets.data.mnist import mnist_test_split

    model = CNNModel.default()
    images, labels = mnist_test_split()
    images, labels = images[:1500], labels[:1500]
    fractions: list[float] = []
    confusion = confusion_matrix(model, (images, labels), progress=fractions.append)
    counts, _ = _numpy_confusion(model, images, labels)
    np.testing.assert_array_equal(confusion.counts, counts)
    assert confusion.accuracy > 0.95
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert confusion.class_names == tuple(model.class_names)
    assert confusion.version == model.version


def test_bad_inputs_name_what_is_allowed(tiny_rgb):
    from cnn_widgets.methods.confusion import confusion_from_predictions, confusion_matrix

    model, data = tiny_rgb
    confusion = confusion_matrix(model, data)
    with pytest.raises(ValueError, match="out of range: classes are 0–2"):
        confusion.indices(3, 0)
    with pytest.raises(TypeError, match="an int"):
        confusion.indices(float("nan"), 0)
    with pytest.raises(ValueError, match="300 images but 2 labels"):
        confusion_matrix(model, (data.images, data.labels[:2]))
    with pytest.raises(ValueError, match="empty"):
        confusion_matrix(model, (data.images[:0], data.labels[:0]))
    with pytest.raises(TypeError, match="DataSet or \\(images, labels\\)"):
        confusion_matrix(model, 42)
    with pytest.raises(ValueError, match="labels must lie in 0..2"):
        confusion_from_predictions([0, 5], [0, 1], 3)


def test_counts_rates_and_indices_for_any_labels():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from cnn_widgets.methods.confusion import confusion_from_predictions

    @settings(max_examples=60, deadline=None)
    @given(st.integers(1, 6).flatmap(lambda k: st.tuples(
        st.just(k), st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=1, max_size=80))))
    def check(case):
        classes, pairs = case
        labels, predicted = (np.array(v) for v in zip(*pairs))
        confusion = confusion_from_predictions(labels, predicted, classes,
                                               confidence=np.linspace(0, 1, len(labels)))
        expected = np.zeros((classes, classes), int)
        for t, p in pairs:
            expected[t, p] += 1
        np.testing.assert_array_equal(confusion.counts, expected)
        sizes = expected.sum(axis=1)
        for t in range(classes):
            assert confusion.rates[t].sum() == pytest.approx(1.0 if sizes[t] else 0.0)
            for p in range(classes):
                chosen = confusion.indices(t, p)
                assert sorted(chosen.tolist()) == [i for i, pair in enumerate(pairs) if pair == (t, p)]
                assert list(chosen) == sorted(chosen, reverse=True)  # confidence rises with the index
        assert confusion.accuracy == pytest.approx(np.trace(expected) / len(pairs))

    check()
