"""The bad inputs of issue 21 for :mod:`sweep_bad_inputs`: own models, own files, budgets,
labels, curves, the pad's refusals, flat images. Each case is run through the sweep's
``case`` (the same classification: clear, unclear, crash, silent, accepted)."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np


def _forged(path: Path, key: str, shape: tuple[int, ...]) -> Path:
    """An MNIST-like .npz whose member ``key`` claims ``shape`` in its header."""
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), rng.integers(0, 10, 5).astype(np.uint8)
    np.savez(path, x_train=x, y_train=y, x_test=x, y_test=y)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": shape})
    members[f"{key}.npy"] = header.getvalue() + b"\0" * 64
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def sweep_own_models(case: Callable[..., None], model: Any, data: Any) -> None:
    """Run the issue-21 cases with the sweep's ``case``."""
    import keras

    from cnn_widgets import CNNModel
    from cnn_widgets.data import load_mnist, training_data
    from cnn_widgets.data.files import load_class_names, load_data, open_own
    from cnn_widgets.data.pictures import picture_for_model
    from cnn_widgets.methods.oip import node_sweep, optimize, series
    from cnn_widgets.methods.shapes import filters_take_shape

    tmp = Path(tempfile.mkdtemp(prefix="sweep21-"))
    g = "own files"
    case(g, "load_mnist(header claims 10^12 images)",
         lambda: load_mnist(_forged(tmp / "forged.npz", "x_train", (10 ** 12, 28, 28))), words=("claims",))
    case(g, "load_mnist(y_test header claims 10^12)",
         lambda: load_mnist(_forged(tmp / "forged_y.npz", "y_test", (10 ** 12,))), words=("claims",))
    np.savez(tmp / "keys.npz", a=np.zeros(2), b=np.zeros(2))
    case(g, "load_data(unknown keys)", lambda: load_data(tmp / "keys.npz"), words=("x_test",))
    np.savez(tmp / "count.npz", x=np.zeros((3, 8, 8), np.uint8), y=np.zeros(2))
    case(g, "load_data(3 images, 2 labels)", lambda: load_data(tmp / "count.npz"), words=("labels",))
    (tmp / "empty.txt").write_text("\n\n", encoding="utf-8")
    case(g, "load_class_names(empty)", lambda: load_class_names(tmp / "empty.txt"), words=("no names",))
    (tmp / "two.txt").write_text("a\nb\n", encoding="utf-8")
    case(g, "open_own(classes: 2 names, 10 classes)", lambda: open_own(None, None, tmp / "two.txt"),
         words=("names",))
    for label, raw in {"empty bytes": b"", "text": b"hello", "a GIF": b"GIF89a" + b"\0" * 30, "str": "x.png"}.items():
        case(g, f"picture_for_model({label})", lambda r=raw: picture_for_model(r, (28, 28, 1), "x.png"),
             words=("x.png", "picture", "bytes"))

    g = "labels"
    x = data.images[:20]
    for label, labels in {"fractional": np.full(20, 2.5), "NaN": np.r_[np.full(19, 1.0), np.nan],
                          "inf": np.r_[np.inf, np.full(19, 1.0)], "strings": np.full(20, "a")}.items():
        case(g, f"training_data(labels {label})", lambda v=labels: training_data(model, (x, v)),
             words=("labels", "nan", "inf", "whole"))
        case(g, f"Session data labels {label}", lambda v=labels: _session_refuses(model, x, v), words=("labels",))

    g = "budget"
    case(g, "series(seeds=10**6)", lambda: series(model, "conv3", 3, seeds=10 ** 6), words=("limit",))
    case(g, "series(seeds=10**9)", lambda: series(model, "conv3", 3, seeds=10 ** 9), words=("limit",))
    case(g, "node_sweep(20000 positions)", lambda: node_sweep(model, "conv1", 0, positions=[(1, 1)] * 20000),
         words=("limit",))
    case(g, "optimize(maps=[0]*5000)", lambda: optimize(model, "conv3", [0] * 5000), words=("limit",))

    g = "own models"
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 1))
    named = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(
        keras.layers.Conv2D(2, 3, name="conv 1")(inputs))))
    case(g, "Conv2D named 'conv 1'", lambda: CNNModel(named).activations(np.zeros((12, 12), np.float32)),
         check=lambda maps: None if "conv_1" in maps else "no maps of the renamed conv")
    inner = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(2, 3, name="nested_conv")])
    nested = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inner(inputs))))
    case(g, "conv nested in a sub-model", lambda: CNNModel(nested).spatial_layers,
         check=lambda layers: None if "nested_conv" in layers else f"not opened: {layers}")
    separable = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(
        keras.layers.SeparableConv2D(2, 3, name="sep")(inputs))))
    case(g, "Explorer(separable only): Filters tab", lambda: _filters_tab(CNNModel(separable)),
         check=lambda text: None if "does not apply" in text or "Filters" in text else f"placeholder: {text}")
    case(g, "Replay.curve('los')", lambda: _replay().curve("los"), words=("accuracy", "loss"))
    flat = filters_take_shape(np.full((8, 8), 0.5, np.float32), 1, filters=2, steps=2)
    case(g, "filters_take_shape(flat image) correlation", lambda: flat.similarity,
         check=lambda s: None if np.isnan(s).all() else f"reported as {float(np.nanmax(np.abs(s))):g}, not undefined")


def _session_refuses(model: Any, images: Any, labels: Any) -> Any:
    from cnn_widgets.session import Session

    session = Session(model, data=(images, labels))
    try:
        if session.data.test_set is None:
            raise ValueError(session.data.message)
        return session.data.test_set
    finally:
        session.close()


def _filters_tab(model: Any) -> str:
    from cnn_widgets.widgets.explorer import Explorer

    explorer = Explorer(model, data=False)
    try:
        explorer.tabs.set_state({"selected_index": explorer.titles.index("Filters")})
        panel = explorer.panel("Filters")
        return getattr(panel, "value", type(panel).__name__)
    finally:
        explorer.close()


def _replay() -> Any:
    from cnn_widgets.training.replay import Replay

    class Frame:
        epoch, accuracy, logs = 0.0, 0.5, {"loss": 1.0}

    return Replay([Frame()])


__all__ = ["sweep_own_models"]
