"""The dashboard on the CNNs people bring (issue 21): for each model of the zoo the Explorer opens,
every tab opens, and each panel works or says in one line why it does not apply; nothing fails
inside an observer. Driven the way the frontend drives the widgets."""

from __future__ import annotations

import logging

import keras
import numpy as np
import pytest

from cnn_widgets import CNNModel

from ..widgets.helpers import choose, click


class _Swallowed(logging.Handler):
    """ipywidgets logs (and swallows) exceptions raised in observers and callbacks."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}")


@pytest.fixture
def swallowed():
    handler = _Swallowed()
    logging.getLogger().addHandler(handler)
    yield handler.errors
    logging.getLogger().removeHandler(handler)


def _head(x, classes: int = 3):
    return keras.layers.Dense(classes, activation="softmax", name="out")(keras.layers.Flatten(name="flat")(x))


def zoo_model(name: str) -> CNNModel:
    """One CNN of each kind an engineer brings, tiny except MobileNetV2."""
    keras.utils.set_random_seed(0)
    layers = keras.layers
    if name == "embedded":
        return CNNModel.default()
    if name == "mobilenet":
        return CNNModel(keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), classes=5))
    shapes = {"rgb32": (32, 32, 3), "grey64": (64, 64, 1), "residual": (24, 24, 3)}
    inputs = keras.Input(shapes.get(name, (28, 28, 1)))
    if name == "rgb32":
        x = layers.Conv2D(8, 3, activation="relu", name="conv1")(inputs)
        x = layers.Conv2D(16, 3, activation="relu", name="conv2")(layers.MaxPooling2D(2, name="pool1")(x))
    elif name == "grey64":
        x = layers.Conv2D(8, 5, strides=2, activation="relu", name="conv1")(inputs)
        x = layers.Conv2D(16, 3, activation="relu", name="conv2")(x)
    elif name == "bn_dropout":
        x = layers.ReLU(name="relu1")(layers.BatchNormalization(name="bn1")(layers.Conv2D(8, 3, name="conv1")(inputs)))
        x = layers.MaxPooling2D(2, name="pool1")(layers.Dropout(0.3, name="drop")(x))
        x = layers.Conv2D(16, 3, name="conv2")(x)
    elif name == "two_branch":
        a = layers.Conv2D(4, 3, padding="same", name="a")(inputs)
        b = layers.Conv2D(4, 5, padding="same", name="b")(inputs)
        x = layers.MaxPooling2D(2, name="pool")(layers.Concatenate(name="cat")([a, b]))
    elif name == "separable":
        x = layers.SeparableConv2D(8, 3, activation="relu", name="sep1")(inputs)
        x = layers.MaxPooling2D(2, name="pool")(layers.DepthwiseConv2D(3, name="dw")(x))
    else:  # residual with Add
        x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
        x = layers.ReLU(name="relu")(layers.Add(name="add")([x, layers.Conv2D(8, 3, padding="same", name="conv2")(x)]))
    return CNNModel(keras.Model(inputs, _head(x)))


def _data(model: CNNModel, count: int = 40):
    height, width, channels = model.input_shape
    rng = np.random.default_rng(0)
    shape = (count, height, width) if channels == 1 else (count, height, width, channels)
    return rng.integers(0, 256, shape, dtype=np.uint8), rng.integers(0, model.classes, count)


#: Tabs that may decline a model, and what they must say then.
DECLINED = {("separable", "Filters"): "Filters does not apply to this model: the filter gallery needs a model with "
                                      "Conv2D layers"}


def _open_every_tab(name: str, swallowed: list[str]) -> None:
    from cnn_widgets.widgets.explorer import Explorer

    model = zoo_model(name)
    explorer = Explorer(model, data=None if name == "embedded" else _data(model))
    session = explorer.session
    try:
        # an image in front of the network, the way each model takes one
        if explorer.pad is not None:
            explorer.pad.load_test_image(3)
        else:
            assert explorer.source is not None  # the image source instead of the pad
            explorer.source.position_box.set_state({"value": 2})
            assert explorer.source.position == 2
        assert session.live.wait(120) and session.live.error == ""
        assert session.live.image.shape[:2] == model.input_shape[:2]
        for title in explorer.titles:
            explorer.tabs.set_state({"selected_index": explorer.titles.index(title)})
            assert session.worker.wait(300)
        explorer.oip.run(wait=True)
        assert session.worker.wait(300)
        for title in explorer.titles:
            panel = explorer.panel(title)
            declined = DECLINED.get((name, title))
            if declined is not None:
                assert type(panel).__name__ == "HTML" and declined in panel.value
            else:
                assert type(panel).__name__ != "HTML", f"{title}: {getattr(panel, 'value', '')}"
                status = getattr(panel, "status", "")
                assert "\n" not in status
        assert explorer.oip.result is not None or explorer.oip.status  # grown, or says why not
        assert not session.status_error, session.status
        assert swallowed == []
    finally:
        explorer.close()


@pytest.mark.parametrize("name", ["embedded", "rgb32", "grey64", "bn_dropout", "two_branch", "separable", "residual"])
def test_every_tab_of_the_explorer_works_or_says_why(name, swallowed):
    _open_every_tab(name, swallowed)


@pytest.mark.slow
def test_mobilenet_v2_at_96_opens_with_its_grids_a_block_at_a_time(swallowed):
    from cnn_widgets.widgets.explorer import Explorer

    model = zoo_model("mobilenet")
    explorer = Explorer(model, data=_data(model, 20))
    try:
        pages = explorer.pages
        assert pages is not None and len(model.spatial_layers) == 153
        assert pages.grids == explorer.grids and 0 < len(explorer.grids) <= 12
        click(pages.next_button)  # the next block: its grids replace the page's
        assert pages.block == 1 and all(grid.layer in pages.blocks[1][1] for grid in explorer.grids)
        explorer.source.position_box.set_state({"value": 1})
        assert explorer.session.live.wait(120)
        widest = max(explorer.grids, key=lambda grid: grid.live.activations[grid.layer].shape[-1])
        count = explorer.session.live.activations[widest.layer].shape[-1]
        if count > 32:
            assert f"first 32 of {count} maps" in widest.title.value
        choose(pages.block_picker, len(pages.blocks) - 1)
        assert explorer.grids[0].layer in pages.blocks[-1][1]
    finally:
        explorer.close()
    _open_every_tab("mobilenet", swallowed)
