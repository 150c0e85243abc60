"""ImageSource and GridPages driven the way the frontend drives them (issue 21)."""

from __future__ import annotations

import io

import keras
import numpy as np
import pytest
from PIL import Image

from cnn_widgets import CNNModel
from cnn_widgets.session import Session

from ..helpers import choose, click


@pytest.fixture(scope="module")
def rgb_session():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    net = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x)))
    model = CNNModel(net, class_names=["cat", "dog", "cow"])
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 16, 16, 3), dtype=np.uint8)
    labels = np.arange(30) % 3
    session = Session(model, data=(images, labels))
    yield session
    session.close()


def _upload(widget, name: str, content: bytes) -> None:
    """A file chosen in the browser: FileUpload's value as the frontend deserialises it."""
    widget.set_state({"value": [{"name": name, "type": "image/png", "size": len(content),
                                 "content": memoryview(content), "last_modified": 0}]})


def test_the_data_set_by_class_by_position_and_mistakes_first(rgb_session):
    from cnn_widgets.widgets.live.image_source import ImageSource

    session = rgb_session
    source = ImageSource(session)
    try:
        assert session.live.wait(60) and session.live.source == "test image #0 (class cat)"
        assert source.status == "1 of 30: test image #0 (class cat)"
        choose(source.class_picker, 1)                       # class dog: images 1, 4, 7, …
        assert session.live.wait(60) and session.live.source == "test image #1 (class dog)"
        click(source.next_button)
        assert session.live.wait(60) and session.live.source == "test image #4 (class dog)"
        source.position_box.set_state({"value": 9})          # the last dog
        assert source.position == 9 and session.live.wait(60) and session.live.source == "test image #28 (class dog)"
        click(source.next_button)                            # wraps to the first
        assert source.position == 0
        choose(source.order_picker, "mistakes")
        assert session.worker.wait(60)
        predicted = np.argmax(session.model.predict(session.data.test_set.images), axis=1)
        dogs = np.flatnonzero(session.data.test_set.labels == 1)
        wrong = dogs[predicted[dogs] != 1]
        assert f"({len(wrong)} mistakes first, of the first 30 images)" in source.status
        if len(wrong):
            assert session.live.wait(60) and session.live.source == f"test image #{wrong[0]} (class dog)"
            assert "the model says" in source.status
        # a refused position: the trait keeps its value and says why
        with pytest.raises(Exception, match="position must be 0–9"):
            source.position = 10
        assert source.position == 0
    finally:
        source.close()


def test_a_picture_file_goes_in_front_of_the_network_as_it_sees_it(rgb_session):
    from cnn_widgets.widgets.live.image_source import ImageSource

    session = rgb_session
    source = ImageSource(session)
    try:
        buffer = io.BytesIO()
        Image.new("RGB", (64, 40), (255, 0, 0)).save(buffer, "PNG")
        _upload(source.upload, "red.png", buffer.getvalue())
        assert session.worker.wait(60) and session.live.wait(60)
        assert session.live.source == "red.png, 64×40 RGB → 16×16 RGB"
        np.testing.assert_allclose(session.live.image[..., 0], 1.0, atol=1e-6)
        np.testing.assert_allclose(session.live.image[..., 1:], 0.0, atol=1e-6)
        assert source.status == "picture file: red.png, 64×40 RGB → 16×16 RGB"
        assert source.seen.value == session.live.image_png()  # shown as the network sees it
        _upload(source.upload, "notes.png", b"not a picture at all")
        assert session.worker.wait(60)
        assert source.status == "Picture refused: notes.png is not a picture Pillow can read; give a PNG or JPEG file"
        assert source.status_line.error and session.live.source == "red.png, 64×40 RGB → 16×16 RGB"  # kept
    finally:
        source.close()


def test_a_grey_model_of_any_size_gets_the_pad_at_its_resolution_and_the_picture_on_it():
    from cnn_widgets.widgets.explorer import Explorer

    keras.utils.set_random_seed(0)
    inputs = keras.Input((40, 40, 1))
    x = keras.layers.Conv2D(2, 5, strides=2, name="conv")(inputs)
    model = CNNModel(keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(x))))
    explorer = Explorer(model, data=False)
    try:
        assert explorer.pad is not None and explorer.session.drawing.image_shape == (40, 40)
        explorer.pad.set_strokes([(20, [(60, 60), (200, 200)])])
        assert explorer.pad.wait(60) and explorer.session.live.image.shape == (40, 40)
        assert explorer.session.live.image.max() > 0.5
    finally:
        explorer.close()


def test_grid_pages_turn_a_block_at_a_time_and_close_the_grids_they_leave():
    from cnn_widgets.widgets.live.grid_pages import GridPages, layer_blocks

    assert layer_blocks(["Conv1", "bn_Conv1", "block_1_expand", "block_1_pad", "block_2_add", "out_relu"], 8) == [
        ("Conv1 – bn_Conv1", ["Conv1", "bn_Conv1"]), ("block_1", ["block_1_expand", "block_1_pad"]),
        ("block_2", ["block_2_add"]), ("out_relu", ["out_relu"])]
    assert [title for title, _ in layer_blocks([f"l{i}" for i in range(5)], 2)] == ["l0 – l1", "l2 – l3", "l4"]
    with pytest.raises(ValueError, match="size must be a whole number ≥ 1"):
        layer_blocks(["a"], 0)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 1))
    x = inputs
    for block in range(3):
        x = keras.layers.Conv2D(40, 3, padding="same", name=f"block_{block}_conv")(x)
        x = keras.layers.ReLU(name=f"block_{block}_relu")(x)
    model = CNNModel(keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x))))
    session = Session(model, data=False)
    wired = []
    pages = GridPages(session, max_maps=16, wire=wired.append)
    try:
        first = list(pages.grids)
        assert [grid.layer for grid in first] == ["block_0_conv", "block_0_relu"] and wired == []
        session.live.show(np.zeros((12, 12), np.float32))
        assert session.live.wait(60)
        assert "first 16 of 40 maps of 12×12" in first[0].title.value
        choose(pages.block_picker, 2)
        assert [grid.layer for grid in pages.grids] == ["block_2_conv", "block_2_relu"] == [g.layer for g in wired]
        assert all(grid.closed for grid in first)
        pages.grids[0].max_maps = 0
        assert "40 maps of 12×12" in pages.grids[0].title.value and "first" not in pages.grids[0].title.value
        with pytest.raises(Exception, match="block must be 0–2"):
            pages.block = 3
    finally:
        pages.close()
        session.close()
