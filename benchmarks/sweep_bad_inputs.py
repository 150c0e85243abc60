"""Bad-input sweep (issue 14): every case is a bad input; print what happened to each.

A measurement, not a test. Each case is classified as

- ``clear``: a ValueError/TypeError (a TraitError for a trait set from Python) whose
  message names what was wrong (the case's keyword) and is no library internals;
- ``unclear``: such an error whose message does not;
- ``crash``: any other exception escaped, an exception was swallowed by a widget
  callback (logged "Exception in callback"), or the widget was left broken (a later
  good input fails, a picker out of step with its trait, a drawing lost);
- ``silent``: accepted, but the result is NaN, black or wrong;
- ``accepted``: accepted correctly (e.g. a pointer on a margin dropped quietly, or the
  refusal shown in the widget's status line).

Run: ``.venv/bin/python benchmarks/sweep_bad_inputs.py [--only WORD] [--quiet]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import math
import os
import sys
import tempfile
import traceback
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

INTERNALS = ("unpack", "numpy.", "tf.function", "Data cardinality", "Traceback", "object of type", "has no attribute",
             "index out of bounds", "could not broadcast", "operands could not", "cannot reshape",
             "invalid literal", "not subscriptable", "not iterable", "unsupported operand", "cannot be interpreted as",
             "tuple index", "list index", "Graph execution", "Exception encountered", "float() argument")

RESULTS: list[tuple[str, str, str, str]] = []  # (group, case, outcome, message)
RESET: list[Callable[[], Any] | None] = [None]  # clears the status line of the widget under test
ONLY: str | None = None


class _Swallowed(logging.Handler):
    """ipywidgets' CallbackDispatcher logs (and swallows) exceptions of callbacks."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            self.errors.append(f"{type(error).__name__}: {error}")
            if os.environ.get("SWEEP_TRACE"):
                traceback.print_exception(*record.exc_info, file=sys.__stderr__)
        elif "Exception in" in record.getMessage():
            self.errors.append(record.getMessage())


SWALLOWED = _Swallowed()


def _clear(message: str, words: tuple[str, ...]) -> bool:
    if len(message) < 12 or any(w.lower() in message.lower() for w in INTERNALS):
        return False
    return not words or any(w.lower() in message.lower() for w in words)


def record(group: str, name: str, outcome: str, message: str) -> None:
    RESULTS.append((group, name, outcome, " ".join(str(message).split())[:150]))
    if os.environ.get("SWEEP_TRACE"):
        print(f"{group}: {name}: {outcome}", file=sys.__stderr__, flush=True)


def case(group: str, name: str, call: Callable[[], Any], *, words: tuple[str, ...] = (),
         check: Callable[[Any], str | None] | None = None, after: Callable[[], str | None] | None = None,
         traits: bool = False, status: Callable[[], str] | None = None, must_say: bool = False,
         reset: Callable[[], Any] | None = None) -> None:
    """Run one bad input.

    Args:
        words: what a clear message names (any of them, case-insensitively).
        check: for an accepted input: a problem of its result (→ silent) or None.
        after: a later good input / a state check: a problem (→ crash, broken state) or None.
        traits: a TraitError counts as a refusal (a trait set from Python).
        status: for widget events: the status line; an error message there is a clear refusal.
        must_say: a refusal must show a message in ``status`` (a NaN pointer dropped without one is unclear).
        reset: clears the status line before the case (so a repeated message counts).
    """
    if ONLY and ONLY not in f"{group} {name}":
        return
    if os.environ.get("SWEEP_TRACE"):
        print(f"start {group}: {name}", file=sys.__stderr__, flush=True)
    allowed: tuple[type[BaseException], ...] = (ValueError, TypeError)
    if traits:
        import traitlets

        allowed += (traitlets.TraitError,)
    SWALLOWED.errors.clear()
    reset = reset or RESET[0]
    if status is not None and reset is not None:
        reset()
    before = status() if status else ""
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            result = call()
    except SystemExit as error:
        outcome, message = "crash", f"SystemExit {error.code}"
    except allowed as error:
        message = f"{type(error).__name__}: {error}"
        outcome = "clear" if _clear(str(error), words) else "unclear"
    except Exception as error:  # noqa: BLE001 - a crash is what we measure
        outcome, message = "crash", f"{type(error).__name__}: {error}"
    else:
        if SWALLOWED.errors:
            outcome, message = "crash", "swallowed in a callback: " + SWALLOWED.errors[0]
        else:
            problem = check(result) if check else None
            if problem:
                outcome, message = "silent", problem
            elif status is not None and status() != before and status():
                shown = status()
                outcome = "clear" if _clear(shown, words) else "unclear"
                message = "status: " + shown
            elif must_say:
                outcome, message = "unclear", "refused without a message"
            else:
                outcome, message = "accepted", "" if status is None else "(no message)"
    if after is not None and outcome != "crash":
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                problem = after()
        except Exception as error:  # noqa: BLE001
            problem = f"{type(error).__name__}: {error}"
        if SWALLOWED.errors and not problem:
            problem = "swallowed in a callback: " + SWALLOWED.errors[0]
        if problem:
            outcome, message = "crash", f"broken afterwards: {problem} (first: {message})"
    record(group, name, outcome, message)


# ---------------------------------------------------------------------- result checks
def finite(value: Any) -> str | None:
    array = np.asarray(value, dtype=float) if not isinstance(value, dict) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if not np.all(np.isfinite(np.asarray(item, dtype=float))):
                return f"non-finite values in {key}"
        return None
    if not np.all(np.isfinite(array)):
        return "NaN or inf in the result"
    return None


def not_black(value: Any) -> str | None:
    problem = finite(value)
    if problem:
        return problem
    array = np.asarray(value, dtype=float)
    if array.size and float(array.max()) == float(array.min()):
        return f"a flat picture (all {float(array.max()):g})"
    return None


def png_ok(data: Any) -> str | None:
    from PIL import Image

    try:
        picture = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=float)
    except Exception as error:  # noqa: BLE001
        return f"not a PNG: {error}"
    if picture.max() == picture.min():
        return "a flat PNG"
    return None


def accepted(_: Any) -> None:
    return None


# ---------------------------------------------------------------------- the API
BAD_IMAGES: dict[str, Any] = {
    "None": None, "string": "digit", "empty list": [], "0-d": np.float32(0.5), "1-d 784": np.zeros(784),
    "(27,28)": np.zeros((27, 28)), "(28,28,3) RGB": np.zeros((28, 28, 3)), "(2,28,28,3)": np.zeros((2, 28, 28, 3)),
    "(0,28,28)": np.zeros((0, 28, 28)), "5-d": np.zeros((1, 1, 28, 28, 1)), "NaN pixels": np.full((28, 28), np.nan),
    "inf pixels": np.full((28, 28), np.inf), "complex": np.zeros((28, 28), complex), "object array": np.array(
        [[None] * 28] * 28, dtype=object), "strings array": np.full((28, 28), "a"), "ragged list": [[0.0] * 28, [0.0]],
    "(28,28,2)": np.zeros((28, 28, 2)), "huge values 1e39": np.full((28, 28), 1e39),
}


def sweep_model(model: Any, data: Any) -> None:
    from cnn_widgets import CNNModel

    g = "model"
    keras = model.keras_model if hasattr(model, "keras_model") else None
    for label, value in {"None": None, "'model.keras'": "model.keras", "42": 42}.items():
        case(g, f"CNNModel({label})", lambda v=value: CNNModel(v), words=("keras.Model",))
    if keras is not None:
        for name, value in {"NaN": float("nan"), "inf": float("inf"), "'a'": "a", "[1,2] for 1 channel": [1, 2],
                            "None": None}.items():
            case(g, f"CNNModel(mean={name})", lambda v=value: CNNModel(keras, mean=v), words=("mean",))
        for name, value in {"0": 0.0, "-1": -1.0, "NaN": float("nan"), "inf": float("inf")}.items():
            case(g, f"CNNModel(std={name})", lambda v=value: CNNModel(keras, std=v), words=("std",))
        for name, value in {"3 names for 10 classes": ["a", "b", "c"], "'abc' string": "abcdefghij",
                            "numbers": list(range(10)), "duplicates": ["a"] * 10, "empty names": [""] * 10}.items():
            case(g, f"CNNModel(class_names={name})", lambda v=value: CNNModel(keras, class_names=v),
                 words=("class",))
        case(g, "CNNModel(metadata='x')", lambda: CNNModel(keras, metadata="x"), words=("metadata",))
        case(g, "CNNModel(jit_compile='yes')", lambda: CNNModel(keras, jit_compile="yes"), words=("jit",))
    tmp = Path(tempfile.mkdtemp())
    (tmp / "not_a_model.keras").write_bytes(b"garbage")
    (tmp / "empty.keras").write_bytes(b"")
    with zipfile.ZipFile(tmp / "zip_no_config.keras", "w") as z:
        z.writestr("hello.txt", "hi")
    case(g, "load(missing file)", lambda: CNNModel.load(tmp / "missing.keras"), words=("missing",))
    case(g, "load(garbage .keras)", lambda: CNNModel.load(tmp / "not_a_model.keras"), words=("not_a_model",))
    case(g, "load(empty .keras)", lambda: CNNModel.load(tmp / "empty.keras"), words=("empty",))
    case(g, "load(zip without config)", lambda: CNNModel.load(tmp / "zip_no_config.keras"), words=("zip_no_config",))
    case(g, "load(folder)", lambda: CNNModel.load(tmp), words=(str(tmp.name),))
    case(g, "load(None)", lambda: CNNModel.load(None), words=("file path",))
    case(g, "load(.h5)", lambda: CNNModel.load(tmp / "m.h5"), words=(".keras",))
    good = tmp / "good.keras"
    model.save(good)
    meta = next(iter(tmp.glob("good*.json")), None)
    if meta is not None:
        for label, text in {"not JSON": "{", "a list": "[1, 2]", "mean a string": json.dumps({"standardization": {"mean": "x"}}),
                            "class_names a number": json.dumps({"class_names": 5}),
                            "std zero": json.dumps({"standardization": {"std": 0}}),
                            "standardization a list": json.dumps({"standardization": [1, 2]})}.items():
            bad = tmp / f"meta_{label.replace(' ', '_')}.keras"
            bad.write_bytes(good.read_bytes())
            (tmp / (bad.stem + meta.name[len("good"):])).write_text(text)
            case(g, f"load(metadata {label})", lambda p=bad: CNNModel.load(p), words=("metadata",))
    case(g, "save('/dev/null/x.keras')", lambda: model.save("/dev/null/x.keras"), words=("/dev/null",))
    case(g, "save('x.h5')", lambda: model.save(tmp / "x.h5"), words=(".keras",))
    case(g, "save(folder)", lambda: model.save(tmp), words=("folder", ".keras"))
    case(g, "save(None)", lambda: model.save(None), words=("file path",))

    for label, value in BAD_IMAGES.items():
        check = finite if label in ("huge values 1e39",) else None
        case(g, f"prepare({label})", lambda v=value: model.prepare(v), words=("image", "pixel", "grey", "finite"),
             check=check)
    for label, value in list(BAD_IMAGES.items())[:8]:
        case(g, f"predict({label})", lambda v=value: model.predict(v), words=("image", "pixel", "grey", "finite"))
    one = np.zeros((1, 28, 28), np.float32)
    for label, value in {"5": 5, "'nope'": "nope", "['conv1', 'nope']": ["conv1", "nope"], "[]": [],
                         "None in list": [None]}.items():
        case(g, f"activations(layers={label})", lambda v=value: model.activations(one, v), words=("layer",))
    for label, value in {"0": 0, "-1": -1, "2.5": 2.5, "'8'": "8", "True": True, "None": None}.items():
        case(g, f"activations(batch_size={label})", lambda v=value: model.activations(one, batch_size=v),
             words=("batch_size",))
        case(g, f"predict(batch_size={label})", lambda v=value: model.predict(one, batch_size=v),
             words=("batch_size",))
    images, labels = data.images[:64], data.labels[:64]
    for label, value in {"wrong length": labels[:10], "11": np.full(64, 11), "-1": np.full(64, -1),
                         "floats 0.5": np.full(64, 0.5), "None": None, "strings": np.full(64, "a"),
                         "NaN": np.full(64, np.nan), "2-d one-hot wrong width": np.zeros((64, 3))}.items():
        case(g, f"evaluate(labels={label})", lambda v=value: model.evaluate(images, v), words=("label",))
    case(g, "evaluate(batch_size=0)", lambda: model.evaluate(images, labels, batch_size=0), words=("batch_size",))
    case(g, "layer('nope')", lambda: model.layer("nope"), words=("nope",))
    case(g, "layer(5)", lambda: model.layer(5), words=("layer",))
    case(g, "layer_parameters('nope')", lambda: model.layer_parameters("nope"), words=("nope",))
    for label, (a, b) in {"10": (10, 0), "-1": (-1, 0), "'4'": ("4", 9), "4.5": (4.5, 9), "None": (None, 9)}.items():
        case(g, f"logit_gradient(class_a={label})", lambda a=a, b=b: model.logit_gradient(one, a, b), words=("class",))
    for label, kwargs in {"samples=0": {"samples": 0}, "noise=-1": {"noise": -1.0}, "noise=NaN": {"noise": math.nan},
                          "seed=-1": {"seed": -1}}.items():
        word = label.split("=")[0]
        case(g, f"logit_gradient({label})", lambda k=kwargs: model.logit_gradient(one, 4, 9, **k), words=(word,))

    from cnn_widgets.model import mnist_cnn

    target = mnist_cnn(seed=0)  # a model of its own: the embedded one stays as it is
    small_x, small_y = data.images[:32], data.labels[:32]
    for label, kwargs in {
        "epochs=0": {"epochs": 0}, "epochs=1.5": {"epochs": 1.5}, "epochs='2'": {"epochs": "2"},
        "batch_size=0": {"batch_size": 0}, "learning_rate=NaN": {"learning_rate": math.nan},
        "learning_rate=-0.1": {"learning_rate": -0.1}, "learning_rate=0": {"learning_rate": 0.0},
        "learning_rate=inf": {"learning_rate": math.inf}, "lr_decay=0": {"lr_decay": 0.0},
        "lr_decay=2": {"lr_decay": 2.0}, "momentum=1": {"momentum": 1.0}, "momentum=-0.5": {"momentum": -0.5},
        "l2=-1": {"l2": -1.0}, "l2=NaN": {"l2": math.nan}, "shift=-1": {"shift": -1}, "shift=100": {"shift": 100},
        "shift=1.5": {"shift": 1.5}, "seed=-1": {"seed": -1}, "seed='a'": {"seed": "a"},
        "validation=(x,)": {"validation": (small_x,)}, "validation=bad labels": {"validation": (small_x, small_y[:3])},
        "progress=5": {"progress": 5}, "cancel='yes'": {"cancel": "yes"}, "standardize='no'": {"standardize": "no"},
    }.items():
        word = label.split("=")[0]
        case(g, f"train({label})", lambda k=kwargs: target.train(small_x, small_y, **k), words=(word,))
    def diverging() -> Any:
        target.train(small_x, small_y, epochs=1, learning_rate=1e10, shift=0)
        return target.predict(small_x[:4])
    case(g, "train(learning_rate=1e10) diverges", diverging, words=("learning_rate",), check=finite)
    case(g, "train(l2=1e10) diverges", lambda: (target.train(small_x, small_y, epochs=1, l2=1e10, shift=0),
                                               target.predict(small_x[:4]))[1], words=("l2",), check=finite)
    case(g, "train(labels wrong length)", lambda: target.train(small_x, small_y[:5], epochs=1), words=("label",))
    case(g, "train(labels 12)", lambda: target.train(small_x, np.full(32, 12), epochs=1), words=("label",))
    case(g, "train(images RGB)", lambda: target.train(np.zeros((32, 28, 28, 3)), small_y, epochs=1),
         words=("image",))
    case(g, "train(0 images)", lambda: target.train(small_x[:0], small_y[:0], epochs=1), words=("image",))


def sweep_mnist_cnn() -> None:
    from cnn_widgets.model import mnist_cnn

    g = "mnist_cnn"
    for label, kwargs in {"input_shape=(28,28)": {"input_shape": (28, 28)}, "input_shape=(2,2,1)": {"input_shape": (2, 2, 1)},
                          "input_shape=(28,28,0)": {"input_shape": (28, 28, 0)}, "classes=1": {"classes": 1},
                          "classes=0": {"classes": 0}, "classes=2.5": {"classes": 2.5}, "hidden=0": {"hidden": 0},
                          "hidden=-3": {"hidden": -3}, "seed=-1": {"seed": -1}, "seed='x'": {"seed": "x"}}.items():
        word = label.split("=")[0]
        case(g, f"mnist_cnn({label})", lambda k=kwargs: mnist_cnn(**k), words=(word,))


def sweep_data() -> None:
    from cnn_widgets.data import mnist as dataio

    g = "data"
    tmp = Path(tempfile.mkdtemp())
    files: dict[str, Path] = {}

    def npz(name: str, **arrays: Any) -> Path:
        path = tmp / f"{name}.npz"
        np.savez(path, **arrays)
        files[name] = path
        return path

    x, y = np.zeros((5, 28, 28), np.uint8), np.zeros(5, np.uint8)
    npz("missing_members", a=x)
    npz("wrong_shapes", x_train=np.zeros((5, 3)), y_train=y, x_test=x, y_test=y)
    npz("length_mismatch", x_train=x, y_train=y[:2], x_test=x, y_test=y)
    npz("labels_float", x_train=x, y_train=np.full(5, 0.5), x_test=x, y_test=y)
    npz("labels_10", x_train=x, y_train=np.full(5, 10), x_test=x, y_test=y)
    npz("pixels_300", x_train=np.full((5, 28, 28), 300.0), y_train=y, x_test=x, y_test=y)
    npz("pixels_nan", x_train=np.full((5, 28, 28), np.nan), y_train=y, x_test=x, y_test=y)
    npz("empty", x_train=x[:0], y_train=y[:0], x_test=x[:0], y_test=y[:0])
    (tmp / "garbage.npz").write_bytes(b"not a zip")
    files["garbage"] = tmp / "garbage.npz"
    with zipfile.ZipFile(tmp / "text_members.npz", "w") as z:
        for member in ("x_train", "y_train", "x_test", "y_test"):
            z.writestr(member + ".npy", "hello")
    files["text_members"] = tmp / "text_members.npz"
    object_path = tmp / "objects.npz"
    np.savez(object_path, x_train=np.array([None] * 5, dtype=object), y_train=y, x_test=x, y_test=y)
    files["object_members (pickle)"] = object_path
    files["missing file"] = tmp / "nope.npz"
    files["folder"] = tmp
    for loader in (dataio.load_mnist, dataio.load_fashion_mnist):
        for label, path in files.items():
            case(g, f"{loader.__name__}({label})", lambda p=path, f=loader: f(p), words=(Path(path).name,))
        case(g, f"{loader.__name__}(path=5)", lambda f=loader: f(5), words=("path",))
        case(g, f"{loader.__name__}(timeout=-1)", lambda f=loader: f(files["missing file"], timeout=-1),
             words=("timeout",))


def sweep_oip(model: Any, data: Any) -> None:
    from cnn_widgets.methods import oip
    from cnn_widgets.methods.statistics import layer_statistics

    g = "oip"
    quick = {"steps": 3, "frame_every": 1}
    for label, kwargs in {
        "layer='nope'": {"layer": "nope"}, "layer='dense'": {"layer": "dense"}, "layer=5": {"layer": 5},
        "maps=999": {"maps": 999}, "maps=-1": {"maps": -1}, "maps=[0,0.5]": {"maps": [0, 0.5]}, "maps=[]": {"maps": []},
        "maps='0'": {"maps": "0"}, "steps=0": {"steps": 0}, "steps=-5": {"steps": -5}, "steps=2.5": {"steps": 2.5},
        "step_size=NaN": {"step_size": math.nan}, "step_size=-1": {"step_size": -1.0}, "step_size=0": {"step_size": 0.0},
        "wavelength=0": {"wavelength": 0.0}, "wavelength=NaN": {"wavelength": math.nan},
        "wavelength=-3": {"wavelength": -3.0}, "wavelength=inf": {"wavelength": math.inf},
        "octaves=0": {"octaves": 0}, "octaves=1.5": {"octaves": 1.5}, "seed=-1": {"seed": -1}, "seed=2.5": {"seed": 2.5},
        "node=(99,99)": {"node": (99, 99)}, "node=(1.5,2)": {"node": (1.5, 2)}, "node=(1,)": {"node": (1,)},
        "node=(-1,0)": {"node": (-1, 0)}, "node='a'": {"node": "a"}, "frame_every=0": {"frame_every": 0},
        "blur_every=-1": {"blur_every": -1}, "blur_sigma=0 (blur on)": {"blur_sigma": 0.0, "blur_every": 1},
        "blur_sigma=NaN": {"blur_sigma": math.nan, "blur_every": 1}, "rescue_tries=-1": {"rescue_tries": -1},
        "step_size=3.4e38": {"step_size": 3.4e38}, "blur_sigma=1e38": {"blur_sigma": 1e38, "blur_every": 1},
        "callbacks=5": {"callbacks": 5}, "cancel='x'": {"cancel": "x"}, "images=strings": {"images": "abc"},
        "images=RGB": {"images": np.zeros((4, 28, 28, 3))}, "data=digits (renamed images=)": {"data": data.images[:4]},
        "settings=5": {"settings": 5}, "setps=5 misspelt": {"setps": 5},
    }.items():
        arguments = {"layer": "conv1", "maps": [0], **quick, **kwargs}
        layer = arguments.pop("layer")
        word = label.split("=")[0]
        case(g, f"optimize({label})", lambda l=layer, a=arguments: oip.optimize(model, l, **a),
             words=(word, word.rstrip("s"), "grey", "map", "node", "seed"),
             check=lambda r: not_black(r.images))
    for label, kwargs in {"seeds=0": {"seeds": 0}, "seeds=[]": {"seeds": []}, "seeds=[-1]": {"seeds": [-1]},
                          "wavelengths=[]": {"wavelengths": []}, "wavelengths=[0]": {"wavelengths": [0.0]},
                          "wavelengths=[nan]": {"wavelengths": [math.nan]}, "wavelengths=5": {"wavelengths": 5},
                          "map_index=999": {"map_index": 999}, "map_index=1.5": {"map_index": 1.5}}.items():
        arguments = {"map_index": 0, "seeds": 2, "wavelengths": (4.0,), "baseline": False, **quick, **kwargs}
        index = arguments.pop("map_index")
        word = label.split("=")[0]
        case(g, f"series({label})", lambda i=index, a=arguments: oip.series(model, "conv1", i, **a),
             words=(word, word.rstrip("s"), "map"))
    for label, kwargs in {"positions=[]": {"positions": []}, "positions=[(99,0)]": {"positions": [(99, 0)]},
                          "positions=[(0.5,0)]": {"positions": [(0.5, 0)]}, "positions=[(1,)]": {"positions": [(1,)]},
                          "positions=5": {"positions": 5}, "map_index=-1": {"map_index": -1}}.items():
        arguments = {"map_index": 0, "positions": [(0, 0)], **quick, **kwargs}
        index = arguments.pop("map_index")
        word = label.split("=")[0]
        case(g, f"node_sweep({label})", lambda i=index, a=arguments: oip.node_sweep(model, "conv1", i, **a),
             words=(word, "node", "map"))
    result = oip.optimize(model, "conv1", maps=[0, 1], **quick)
    tmp = Path(tempfile.mkdtemp())
    for label, call, word in [
        ("save_gif('/dev/null/x.gif')", lambda: result.save_gif("/dev/null/x.gif"), "/dev/null"),
        ("save_gif('x.png')", lambda: result.save_gif(tmp / "x.png"), ".gif"),
        ("save_gif(folder)", lambda: result.save_gif(tmp), ".gif"),
        ("save_gif(None)", lambda: result.save_gif(None), "file path"),
        ("save_png('x.gif')", lambda: result.save_png(tmp / "x.gif"), ".png"),
        ("save_png('/dev/null/x.png')", lambda: result.save_png("/dev/null/x.png"), "/dev/null"),
        ("save_png(no suffix)", lambda: result.save_png(tmp / "picture"), ".png"),
        ("png_bytes(zoom=10**4)", lambda: result.png_bytes(zoom=10 ** 4), "zoom"),
        ("png_bytes(zoom=0)", lambda: result.png_bytes(zoom=0), "zoom"),
        ("png_bytes(zoom=-2)", lambda: result.png_bytes(zoom=-2), "zoom"),
        ("png_bytes(zoom=2.5)", lambda: result.png_bytes(zoom=2.5), "zoom"),
        ("png_bytes(map_index=5)", lambda: result.png_bytes(5), "map"),
        ("png_bytes(map_index=-3)", lambda: result.png_bytes(-3), "map"),
        ("png_bytes(map_index=0.5)", lambda: result.png_bytes(0.5), "map"),
        ("png_bytes(contrast=NaN)", lambda: result.png_bytes(contrast=math.nan), "contrast"),
        ("png_bytes(contrast=-1)", lambda: result.png_bytes(contrast=-1.0), "contrast"),
        ("png_bytes(contrast=inf)", lambda: result.png_bytes(contrast=math.inf), "contrast"),
        ("png_bytes(columns=0)", lambda: result.png_bytes(columns=0), "columns"),
        ("png_bytes(columns=-1)", lambda: result.png_bytes(columns=-1), "columns"),
        ("gif_bytes(duration_ms=0)", lambda: result.gif_bytes(duration_ms=0), "duration"),
        ("gif_bytes(duration_ms=-5)", lambda: result.gif_bytes(duration_ms=-5), "duration"),
        ("gif_bytes(hold_ms=NaN)", lambda: result.gif_bytes(hold_ms=math.nan), "hold"),
        ("gif_bytes(zoom=10**4)", lambda: result.gif_bytes(zoom=10 ** 4), "zoom"),
        ("picture(frame=99)", lambda: result.picture(frame=99), "frame"),
        ("picture(frame=1.5)", lambda: result.picture(frame=1.5), "frame"),
    ]:
        case(g, f"OIPResult.{label}", call, words=(word,))
    series = oip.series(model, "conv1", 0, seeds=2, wavelengths=(4.0,), baseline=False, **quick)
    case(g, "OIPSeries.save_png('x.gif')", lambda: series.save_png(tmp / "s.gif"), words=(".png",))
    case(g, "OIPSeries.png_bytes(zoom=10**4)", lambda: series.png_bytes(zoom=10 ** 4), words=("zoom",))
    case(g, "OIPSeries.png_bytes(contrast=NaN)", lambda: series.png_bytes(contrast=math.nan), words=("contrast",))
    sweep = oip.node_sweep(model, "conv1", 0, positions=[(0, 0), (1, 1)], **quick)
    case(g, "NodeSweep.save_png('/dev/null/x.png')", lambda: sweep.save_png("/dev/null/x.png"), words=("/dev/null",))
    case(g, "NodeSweep.png_bytes(zoom=0)", lambda: sweep.png_bytes(zoom=0), words=("zoom",))
    case(g, "pattern_picture(NaN images)", lambda: oip.pattern_picture(np.full((2, 28, 28, 1), np.nan)),
         words=("finite",))
    case(g, "pattern_picture(3-d)", lambda: oip.pattern_picture(np.zeros((2, 28, 28))), words=("images",))
    case(g, "pattern_picture(contrast=1e308)", lambda: oip.pattern_picture(data.images[:1, ..., None] / 255, 1e308),
         words=("contrast",), check=not_black)
    case(g, "layer_statistics(no images)", lambda: layer_statistics(model, "conv1", data.images[:0]),
         words=("image",))
    case(g, "layer_statistics(None)", lambda: layer_statistics(model, "conv1", None), words=("images",))
    case(g, "pattern_picture(1-d)", lambda: oip.pattern_picture(np.zeros(5)), words=("image",))
    case(g, "consistency(one image)", lambda: oip.consistency(np.zeros((1, 28, 28))), words=("image",),
         check=finite)
    case(g, "wavelength_noise(wavelength=0)",
         lambda: oip.wavelength_noise((1, 28, 28), 0.0, rng=np.random.default_rng()), words=("wavelength",))


def sweep_render() -> None:
    from cnn_widgets import render

    g = "render"
    image = np.linspace(0, 1, 64).reshape(8, 8)
    for label, value in {"NaN": math.nan, "-1": -1.0, "inf": math.inf, "'x'": "x", "None": None}.items():
        case(g, f"contrast(contrast={label})", lambda v=value: render.stretch(image, v), words=("contrast",),
             check=not_black)
    case(g, "contrast(contrast=1e308)", lambda: render.stretch(image, 1e308), words=("contrast",), check=not_black)
    case(g, "contrast(NaN image)", lambda: render.stretch(np.full((8, 8), np.nan)), words=("finite",), check=not_black)
    case(g, "contrast(strings)", lambda: render.stretch(np.full((8, 8), "a")), words=("image",))
    maps = np.random.default_rng(0).random((4, 5, 5))
    for label, kwargs in {"normalize='x'": {"normalize": "x"}, "columns=0": {"columns": 0}, "columns=2.5": {"columns": 2.5},
                          "gap=-1": {"gap": -1}, "value_range=(1,0)": {"value_range": (1.0, 0.0)},
                          "value_range=(nan,1)": {"value_range": (math.nan, 1.0)}, "value_range=5": {"value_range": 5}}.items():
        word = label.split("=")[0]
        case(g, f"mosaic({label})", lambda k=kwargs: render.mosaic(maps, **k), words=(word,))
    case(g, "mosaic(gap=10**6)", lambda: render.mosaic(maps, gap=10 ** 6), words=("gap",))
    case(g, "mosaic(columns=10**6)", lambda: render.mosaic(maps, columns=10 ** 6), words=("columns",),
         check=lambda t: None if t.indices.shape[1] < 100 else f"a picture {t.indices.shape[1]} px wide for 5 maps")
    case(g, "mosaic(NaN maps)", lambda: render.mosaic(np.full((4, 5, 5), np.nan)), words=("finite",))
    case(g, "mosaic(2-d)", lambda: render.mosaic(np.zeros((5, 5))), words=("maps",))
    case(g, "to_png(colormap='rainbowz')", lambda: render.to_png(np.zeros((4, 4), np.uint8), "rainbowz"),
         words=("rainbowz",))
    case(g, "to_png(float indices)", lambda: render.to_png(np.full((4, 4), 0.5)), words=("indices",))
    case(g, "to_png(3-d)", lambda: render.to_png(np.zeros((4, 4, 3), np.uint8)), words=("indices",))
    case(g, "to_png(gap_colour='nocolour')", lambda: render.to_png(np.zeros((4, 4), np.uint8), gap_colour="nocolour"),
         words=("colour",))
    case(g, "scale(low=high)", lambda: render.scale(image, 1.0, 1.0), words=("low",), check=finite)
    case(g, "scale(low=NaN)", lambda: render.scale(image, math.nan, 1.0), words=("low",), check=finite)
    tiles = render.mosaic(maps)
    for label, (x, y) in {"NaN": (math.nan, 0.0), "inf": (math.inf, 0.0), "None": (None, 0), "-5": (-5.0, 0.0),
                          "1e300": (1e300, 0.0)}.items():
        case(g, f"Mosaic.locate({label})", lambda x=x, y=y: tiles.locate(x, y), words=("x",))
    case(g, "Mosaic.origin(99)", lambda: tiles.origin(99), words=("index",))


def sweep_fcp_decode(model: Any, data: Any) -> None:
    from cnn_widgets.methods import decode, fcp

    g = "fcp"
    x, y = data.images[:400], data.labels[:400]
    for label, kwargs in {"classes=(4,4)": {"classes": (4, 4)}, "classes=(4,11)": {"classes": (4, 11)},
                          "classes=(4,)": {"classes": (4,)}, "classes=(4.5,9)": {"classes": (4.5, 9)},
                          "classes='49'": {"classes": "49"}, "layer='nope'": {"layer": "nope"},
                          "layer='output'": {"layer": model.layer_names[-1]}, "batch_size=0": {"batch_size": 0}}.items():
        word = label.split("=")[0]
        case(g, f"compare_classes({label})", lambda k=kwargs: fcp.compare_classes(model, x, y, **k), words=(word,))
    case(g, "compare_classes(labels wrong length)", lambda: fcp.compare_classes(model, x, y[:5]), words=("label",))
    case(g, "compare_classes(no image of class 9)", lambda: fcp.compare_classes(model, x[y != 9], y[y != 9]), words=("9",))
    case(g, "compare_classes(NaN images)", lambda: fcp.compare_classes(model, np.full((20, 28, 28), np.nan), np.r_[[4] * 10, [9] * 10]),
         words=("finite",), check=lambda r: finite(r.map_scores))
    case(g, "class_patterns(classes=[])", lambda: fcp.class_patterns(model, x, y, classes=[]), words=("classes",))
    case(g, "class_patterns(progress=5)", lambda: fcp.class_patterns(model, x, y, progress=5), words=("progress",))
    comparison = fcp.compare_classes(model, x, y)
    case(g, "node_ranking(top=0)", lambda: comparison.node_ranking(top=0), words=("top",))
    case(g, "node_ranking(top=-1)", lambda: comparison.node_ranking(top=-1), words=("top",))
    case(g, "position(wrong shape)", lambda: comparison.position(np.zeros((3, 3))), words=("shape",))
    case(g, "position(NaN)", lambda: comparison.position(np.full(fcp.pattern_shape(model, "conv3"), np.nan)),
         words=("finite",), check=finite)
    case(g, "pattern_shape(layer='nope')", lambda: fcp.pattern_shape(model, "nope"), words=("nope",))

    g = "decode"
    for label, kwargs in {"layer='nope'": {"layer": "nope"}, "layer='dense'": {"layer": "dense"},
                          "unpool='cubic'": {"unpool": "cubic"}, "maps=[999]": {"maps": [999]}, "maps=[0.5]": {"maps": [0.5]},
                          "maps=[]": {"maps": []}, "maps=5": {"maps": 5}}.items():
        arguments = {"layer": "conv2", **kwargs}
        word = label.split("=")[0]
        case(g, f"decode_filters({label})", lambda a=arguments: decode.decode_filters(model, **a),
             words=(word, word.rstrip("s"), "map"))
    decoded = decode.decode_filters(model, "conv2", maps=[1, 3])
    case(g, "DecodedFilters.filter(map not decoded)", lambda: decoded.filter(0), words=("0",))
    case(g, "DecodedFilters.thresholded(NaN)", lambda: decoded.thresholded(math.nan), words=("fraction",))
    case(g, "DecodedFilters.thresholded(2)", lambda: decoded.thresholded(2.0), words=("fraction",))
    case(g, "place(map not decoded)", lambda: decode.place(model, decoded, 0), words=("0",))
    case(g, "place(row=999)", lambda: decode.place(model, decoded, 1, row=999), words=("row", "outside"))
    case(g, "place(row=1.5)", lambda: decode.place(model, decoded, 1, row=1.5), words=("whole",))
    case(g, "top_images(k=0)", lambda: decode.top_images(model, "conv2", 0, x, k=0), words=("k",))
    case(g, "top_images(k=10**6)", lambda: decode.top_images(model, "conv2", 0, x, k=10 ** 6), words=("k",))
    case(g, "top_images(map_index=999)", lambda: decode.top_images(model, "conv2", 999, x), words=("map",))
    case(g, "top_images(images=None)", lambda: decode.top_images(model, "conv2", 0, None), words=("image",))
    case(g, "top_images(no images)", lambda: decode.top_images(model, "conv2", 0, x[:0]), words=("image",))
    case(g, "raw_kernels(channel=5)", lambda: decode.raw_kernels(model, "conv1", channel=5), words=("channel",))
    case(g, "raw_kernels(layer='pool1')", lambda: decode.raw_kernels(model, "pool1"), words=("pool1",))
    case(g, "responses(RGB image)", lambda: decode.responses(model, "conv2", np.zeros((28, 28, 3))), words=("image",))
    case(g, "responses(decoded of another layer)",
         lambda: decode.responses(model, "conv3", x[0], decoded=decoded), words=("conv2",))
    case(g, "response_error(decoded=subset)", lambda: decode.response_error(model, "conv2", x[:20], decoded=decoded),
         words=("map",), check=lambda r: finite([r.mean, r.std]))
    case(g, "response_error(images=[])", lambda: decode.response_error(model, "conv2", x[:0]), words=("image",))


def sweep_session(model: Any, data: Any) -> None:
    from cnn_widgets.data import DataProvider, DataSet
    from cnn_widgets.session import Session, Worker

    g = "session"
    x, y = data.images[:50], data.labels[:50]
    case(g, "Session(model=42)", lambda: Session(42), words=("model",))
    case(g, "Session(model='m.keras' missing)", lambda: Session("m.keras"), words=("model",))
    case(g, "Session(live=5)", lambda: Session(model, live=5), words=("live",))
    for label, value in {"(x,)": (x,), "(x, y[:3])": (x, y[:3]), "(x, labels 12)": (x, np.full(50, 12)),
                         "(RGB, y)": (np.zeros((50, 28, 28, 3)), y), "(NaN x, y)": (np.full((50, 28, 28), np.nan), y),
                         "'data.npz' missing": "nope.npz", "5": 5, "(x, float labels)": (x, np.full(50, 0.5)),
                         "(strings, y)": (np.full((50, 28, 28), "a"), y)}.items():
        def provider(v=value) -> str | None:
            session = Session(model, data=v)
            try:
                found = session.data.test_set
                if found is not None:
                    return f"accepted bad data: {found.source}"
                raise ValueError(session.data.message)
            finally:
                session.close()
        case(g, f"Session(data={label}) test_set", provider, words=("data", "image", "label"))
        def provided(v=value) -> Any:
            provider = DataProvider(model, v)
            if provider.test_set is None:
                raise ValueError(provider.message)
            return provider.test_set
        case(g, f"DataProvider(data={label})", provided, words=("data", "image", "label"),
             check=lambda r: f"accepted bad data: {r.source}")
    case(g, "DataSet.of_class(11)", lambda: DataSet(x, y, "t").of_class(11), words=("11",))
    case(g, "DataSet.of_class('4')", lambda: DataSet(x, y, "t").of_class("4"), words=("label",))
    worker = Worker()
    case(g, "Worker.submit(work=5)", lambda: worker.submit(5, name="x"), words=("work",))
    case(g, "Worker.submit(name=None)", lambda: worker.submit(lambda j: 1, name=None), words=("name",))
    case(g, "Worker.submit(on_done=5)", lambda: worker.submit(lambda j: 1, name="x", on_done=5), words=("on_done",))
    case(g, "Worker(on_change=5)", lambda: Worker(on_change=5), words=("on_change",))

    def bad_report() -> str | None:
        job = worker.submit(lambda j: j.report(math.nan, "x"), name="nan progress")
        job.wait()
        if job.state != "failed":
            return None
        raise ValueError(str(job.error) if hasattr(job, "error") else "failed")
    case(g, "Job.report(progress=NaN)", bad_report, words=("progress",))
    worker.close()
    session = Session(model)
    case(g, "Session.say(5)", lambda: session.say(5), words=("message",))
    case(g, "Session.watch(5, handler)", lambda: session.watch(5, lambda c: None), words=("owner",))
    case(g, "Session.watch(live, handler=5)", lambda: session.watch(session.live, 5), words=("handler",))
    case(g, "Session.of(42)", lambda: Session.of(42), words=("session",))
    session.close()


def sweep_preprocess_ink() -> None:
    from cnn_widgets.drawing.ink import Ink
    from cnn_widgets.drawing.preprocess import to_mnist

    g = "preprocess"
    for label, value in {"None": None, "1-d": np.zeros(10), "3-d": np.zeros((5, 5, 3)), "(0,0)": np.zeros((0, 0)),
                         "NaN": np.full((5, 5), np.nan), "inf": np.full((5, 5), np.inf), "strings": np.full((5, 5), "a"),
                         "negative": np.full((5, 5), -1.0), "1e39 finite": np.full((5, 5), 1e39),
                         "complex": np.zeros((5, 5), complex)}.items():
        case(g, f"to_mnist({label})", lambda v=value: to_mnist(v), words=("ink",), check=finite)
    g = "ink"
    for label, args in {"Ink(0, 5)": (0, 5), "Ink(-1, 5)": (-1, 5), "Ink(2.5, 5)": (2.5, 5), "Ink('5', 5)": ("5", 5),
                        "Ink(10**6, 10**6)": (10 ** 6, 10 ** 6)}.items():
        case(g, label, lambda a=args: Ink(*a), words=("height",))
    for label, args in {"begin(nan,5,6)": (math.nan, 5, 6), "begin(5,5,inf)": (5, 5, math.inf),
                        "begin(5,5,0)": (5, 5, 0), "begin(5,5,-3)": (5, 5, -3), "begin(None,5,6)": (None, 5, 6),
                        "begin(1e300,5,6)": (1e300, 5, 6)}.items():
        def begin(a=args) -> str | None:
            ink = Ink(28, 28)
            ink.begin(*a)
            return None
        case(g, label, begin, words=("x",) if "nan" in label or "None" in label or "1e300" in label else ("width",))
    for label, point in {"extend(nan,5)": (math.nan, 5), "extend(inf,5)": (math.inf, 5), "extend(None,5)": (None, 5)}.items():
        def extend(p=point) -> str | None:
            ink = Ink(28, 28)
            ink.begin(5, 5, 3)
            try:
                ink.extend(*p)
            finally:
                if not np.all(np.isfinite(ink.raster)):
                    raise RuntimeError("NaN written into the raster")
            return None
        case(g, label, extend, words=("x",), after=lambda: None)
    def load_nan() -> Any:
        ink = Ink(28, 28)
        ink.load(np.full((28, 28), np.nan))
        return ink.raster
    case(g, "load(NaN picture)", load_nan, words=("picture", "finite"), check=finite)
    case(g, "load(wrong shape)", lambda: Ink(28, 28).load(np.zeros((3, 3, 3))), words=("picture",))
    case(g, "extend_many([(1, nan)])", lambda: _ink_many([(1.0, math.nan)]), words=("point", "x", "y"))


def _ink_many(points: list) -> None:
    from cnn_widgets.drawing.ink import Ink

    ink = Ink(28, 28)
    ink.begin(5, 5, 3)
    ink.extend_many(points)
    if not np.all(np.isfinite(ink.raster)):
        raise RuntimeError("NaN written into the raster")


# ---------------------------------------------------------------------- widgets
def frontend_click(button: Any) -> None:
    button._handle_button_msg(None, {"event": "click"}, [])


def pointer(canvas: Any, event: str, x: Any, y: Any) -> None:
    canvas._handle_frontend_event(canvas, {"event": event, "x": x, "y": y}, [])


def element_click(mark: Any, data: Any) -> None:
    mark._handle_custom_msgs(mark, {"event": "element_click", "data": data}, [])


COORDS = {"x=None": (None, 10), "y=None": (10, None), "x=NaN": (math.nan, 10), "y=inf": (10, math.inf),
          "x=-inf": (-math.inf, 10), "x=1e300": (1e300, 10), "x=-5": (-5, 10), "x='3'": ("3", 10),
          "x=True": (True, 10), "x=[1]": ([1], 10)}


def picture_events(g: str, view: Any, picture: Any, events: tuple[str, ...], status: Callable[[], str],
                   after: Callable[[], str | None]) -> None:
    for event in events:
        for label, (x, y) in COORDS.items():
            quiet = label in ("x=1e300", "x=-5")  # off the picture: dropped quietly
            case(g, f"{picture}.{event}({label})", lambda e=event, x=x, y=y: pointer(_attr(view, picture).overlay, e, x, y),
                 words=() if quiet else ("position",), status=status, after=after, must_say=not quiet)


def _attr(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


def dropdown_state(g: str, name: str, dropdown: Any, owner: Any, trait: str, after: Callable[[], str | None]) -> None:
    def in_step() -> str | None:
        picked = dropdown.value
        if getattr(owner, trait) != picked:
            return f"picker shows {picked!r}, trait is {getattr(owner, trait)!r}"
        return after()

    for label, state in {"index=99": {"index": 99}, "index=-2": {"index": -2}, "index=None": {"index": None},
                         "index='a'": {"index": "a"}, "index=1.5": {"index": 1.5}}.items():
        case(g, f"{name}.set_state({label})", lambda s=state: dropdown.set_state(s),
             words=("choose", "expected"), traits=True,
             after=in_step)


def trait_cases(g: str, view: Any, values: dict[str, Any], after: Callable[[], str | None],
                pickers: dict[str, Any] | None = None) -> None:
    for label, (trait, value) in values.items():
        def in_step(t=trait) -> str | None:
            picker = (pickers or {}).get(t)
            if picker is not None and picker.value != getattr(view, t):
                return f"{t}: picker shows {picker.value!r}, trait is {getattr(view, t)!r}"
            return after()
        case(g, f"{type(view).__name__}.{label}", lambda t=trait, v=value: setattr(view, t, v),
             words=(trait, trait.split("_")[-1], repr(value), str(value)),
             traits=True, after=in_step)


def sweep_widgets(model: Any, data: Any) -> None:
    import cnn_widgets.widgets as w
    from cnn_widgets.session import Session

    session = Session(model, data=(data.images[:300], data.labels[:300]))
    pad = w.DigitPad(session)

    def draw_good() -> None:
        pad.set_strokes([(20, [(80, 60), (200, 60), (200, 220)])])
        pad.wait()

    draw_good()
    session.live.image = pad.image

    # DigitPad --------------------------------------------------------------
    g = "DigitPad"
    RESET[0] = lambda: pad._say("")

    def pad_status() -> str:
        return pad.status

    def pad_ok() -> str | None:
        strokes = len(pad.drawing.ink.strokes) if hasattr(pad.drawing.ink, "strokes") else None
        pad.canvas._handle_custom_msg({"type": "stroke", "id": "good-1", "width": 20, "start": True, "end": True,
                                       "points": [100, 100, 150, 150]}, [])
        pad.wait()
        if not np.all(np.isfinite(pad.image)):
            return "image not finite"
        if strokes is not None and len(pad.drawing.ink.strokes) != strokes + 1:
            return "the good stroke was not added"
        pad.canvas._handle_custom_msg({"type": "undo"}, [])
        pad.wait()
        if strokes is not None and len(pad.drawing.ink.strokes) != strokes:
            return "undo did not remove the good stroke"
        return None

    stroke = {"type": "stroke", "id": "s", "width": 20, "start": True, "end": True, "points": [10, 10, 50, 50]}
    for label, change in {"points [nan]": {"points": [math.nan, 10, 20, 20]}, "points [None]": {"points": [None, 10]},
                          "points odd": {"points": [1, 2, 3]}, "points 'abc'": {"points": "abc"},
                          "points [inf]": {"points": [math.inf, 1, 2, 2]}, "points 1e300": {"points": [1e300, 0]},
                          "points -1e9": {"points": [-1e9, 0, 2, 2]}, "points nested": {"points": [[1, 2], [3, 4]]},
                          "points 10^6 long": {"points": [1.0] * 2_000_002},
                          "width 0": {"width": 0}, "width NaN": {"width": math.nan}, "width None": {"width": None},
                          "width 10^6": {"width": 10 ** 6}, "width '20'": {"width": "20"},
                          "id None": {"id": None}, "id 5": {"id": 5}, "id ''": {"id": ""}, "id 1000 chars": {"id": "x" * 1000},
                          "points True": {"points": [True, 1]}}.items():
        case(g, f"stroke({label})", lambda c=change: pad.canvas._handle_custom_msg({**stroke, **c}, []),
             words=(label.split()[0],), status=pad_status, after=pad_ok)
    for label, content in {"type None": {"type": None}, "type 'erase'": {"type": "erase"}, "no type": {},
                           "a list": [1, 2], "None": None, "brush 0": {"type": "brush", "value": 0},
                           "brush NaN": {"type": "brush", "value": math.nan}, "brush 'big'": {"type": "brush", "value": "big"},
                           "brush 10^6": {"type": "brush", "value": 10 ** 6}}.items():
        word = "brush" if "brush" in label else "message"
        case(g, f"message({label})", lambda c=content: pad.canvas._handle_custom_msg(c, []), words=(word,),
             status=pad_status, after=pad_ok)
    for label, value in {"brush=0": 0, "brush=-5": -5, "brush=10**6": 10 ** 6, "brush=2.5": 2.5, "brush='x'": "x"}.items():
        case(g, f"DigitPad.{label}", lambda v=value: setattr(pad, "brush", v), words=("brush",), traits=True,
             after=pad_ok)
        case(g, f"DigitPad({label})", lambda v=value: w.DigitPad(session, brush=v), words=("brush",))
    for label, kwargs in {"size=0": {"size": 0}, "size=10**5": {"size": 10 ** 5}, "rate=0": {"rate": 0},
                          "rate=NaN": {"rate": math.nan}}.items():
        case(g, f"DigitPad({label})", lambda k=kwargs: w.DigitPad(session, **k), words=(label.split("=")[0],))
    case(g, "canvas.brush = 0 (synced trait)", lambda: pad.canvas.set_state({"brush": 0}), words=("brush",), traits=True,
         after=pad_ok)
    for label, value in {"NaN": np.full((28, 28), np.nan), "RGB": np.zeros((28, 28, 3)), "None": None,
                         "1-d": np.zeros(5), "strings": np.full((5, 5), "a")}.items():
        case(g, f"load_picture({label})", lambda v=value: pad.load_picture(v), words=("picture",), after=pad_ok)
    for label, value in {"NaN point": [(20, [(1, math.nan)])], "width 0": [(0, [(1, 1)])], "no points": [(20, [])],
                         "not a pair": [5], "string": "abc"}.items():
        case(g, f"set_strokes({label})", lambda v=value: pad.set_strokes(v), words=("stroke", "brush"), after=pad_ok)
    for label, value in {"11": 11, "-1": -1, "'a'": "a", "None": None}.items():
        case(g, f"load_sample({label})", lambda v=value: pad.load_sample(v), words=("class",),
             status=pad_status, after=pad_ok)
    dropdown_state(g, "sample_class", pad.sample_class, pad.sample_class, "value", pad_ok)
    draw_good()

    # MapGrid ----------------------------------------------------------------
    g = "MapGrid"
    grid = w.MapGrid(session, "conv1")
    RESET[0] = grid._leave

    def grid_ok() -> str | None:
        grid.map_index = 0
        grid.layer = "conv2"
        grid.layer = "conv1"
        if grid.layer_picker.value != grid.layer:
            return "layer picker out of step"
        if grid.colormap_picker.value != grid.colormap:
            return "colour map picker out of step"
        return None

    picture_events(g, grid, "picture", ("mouse_down", "mouse_move"), lambda: grid.hover_label.value, grid_ok)
    case(g, "picture.mouse_out(None)", lambda: pointer(grid.picture.overlay, "mouse_out", None, None),
         status=lambda: grid.hovered, after=grid_ok)
    trait_cases(g, grid, {"layer='dense'": ("layer", "dense"), "layer='nope'": ("layer", "nope"), "layer=5": ("layer", 5),
                          "colormap='rainbowz'": ("colormap", "rainbowz"), "normalize='x'": ("normalize", "x"),
                          "map_index=999": ("map_index", 999), "map_index=-5": ("map_index", -5),
                          "map_index=1.5": ("map_index", 1.5), "cell=(99,99)": ("cell", (99, 99)),
                          "cell=(1.5,1)": ("cell", (1.5, 1)), "cell=(1,)": ("cell", (1,))},
                grid_ok, {"layer": grid.layer_picker, "colormap": grid.colormap_picker, "normalize": grid.normalize_picker})
    dropdown_state(g, "layer_picker", grid.layer_picker, grid, "layer", grid_ok)
    dropdown_state(g, "colormap_picker", grid.colormap_picker, grid, "colormap", grid_ok)
    case(g, "MapGrid(layer='dense')", lambda: w.MapGrid(session, "dense"), words=("dense",))
    case(g, "MapGrid(colormap='x')", lambda: w.MapGrid(session, colormap="xx"), words=("xx",))
    case(g, "MapGrid(normalize='x')", lambda: w.MapGrid(session, normalize="xx"), words=("normalize",), traits=True)
    case(g, "MapGrid(session=42)", lambda: w.MapGrid(42), words=("session",))
    case(g, "MapGrid(colourmap='grey') misspelt", lambda: w.MapGrid(session, colourmap="grey"), words=("colourmap",))
    case(g, "MapGrid(layer=['conv1'])", lambda: w.MapGrid(session, ["conv1"]), words=("layer",))

    # DenseView, ProbabilityBars ---------------------------------------------------
    g = "DenseView"
    dense = w.DenseView(session)
    RESET[0] = dense._leave

    first_layer = dense.layer

    def dense_ok() -> str | None:
        dense.layer = first_layer
        return None

    picture_events(g, dense, "picture", ("mouse_move",), lambda: dense.hover_label.value, dense_ok)
    trait_cases(g, dense, {"layer='conv1'": ("layer", "conv1"), "layer='nope'": ("layer", "nope"),
                           "layer=None": ("layer", None)}, dense_ok)
    trait_cases(g, dense, {"hovered=5": ("hovered", 5)}, dense_ok)
    case(g, "DenseView(columns=0)", lambda: w.DenseView(session, columns=0), words=("columns",))
    case(g, "DenseView(layer='conv1')", lambda: w.DenseView(session, "conv1"), words=("conv1",))
    g = "ProbabilityBars"
    bars = w.ProbabilityBars(session)
    marks = [m for m in bars.children if hasattr(m, "marks")]
    if marks:
        mark = marks[0].marks[0]
        for label, data_ in {"index=99": {"index": 99}, "index=None": {"index": None}, "no index": {}, "data=None": None}.items():
            case(g, f"bars.element_click({label})", lambda d=data_: element_click(mark, d), after=lambda: None)
    case(g, "ProbabilityBars(session='x')", lambda: w.ProbabilityBars("x"), words=("session",))

    # FCPCompare ---------------------------------------------------------------
    g = "FCPCompare"
    fcp = w.FCPCompare(session)
    session.worker.wait()
    RESET[0] = lambda: fcp._say("")

    def fcp_ok() -> str | None:
        fcp.class_a, fcp.class_b = 3, 8
        fcp.layer = "conv2"
        session.worker.wait()
        fcp.class_a, fcp.class_b = 4, 9
        session.worker.wait()
        if fcp.comparison is None:
            return f"no comparison after a good change ({fcp.status})"
        for name, picker in (("class_a", fcp.a_picker), ("class_b", fcp.b_picker), ("layer", fcp.layer_picker)):
            if picker.value != getattr(fcp, name):
                return f"{name} picker out of step"
        return None

    trait_cases(g, fcp, {"class_a=11": ("class_a", 11), "class_a=-1": ("class_a", -1), "class_b=class_a": ("class_b", 4),
                         "class_a=4.5": ("class_a", 4.5), "layer='dense'": ("layer", "dense"), "layer='nope'": ("layer", "nope"),
                         "map_index=999": ("map_index", 999), "map_index=-7": ("map_index", -7)}, fcp_ok,
                {"class_a": fcp.a_picker, "class_b": fcp.b_picker, "layer": fcp.layer_picker})
    dropdown_state(g, "a_picker", fcp.a_picker, fcp, "class_a", fcp_ok)
    dropdown_state(g, "layer_picker", fcp.layer_picker, fcp, "layer", fcp_ok)
    fcp_marks = [fcp.bars] if hasattr(fcp.bars, "_handle_custom_msgs") else []
    for mark in fcp_marks:
        for label, data_ in {"index=999": {"index": 999}, "index=-1": {"index": -1}, "index=None": {"index": None},
                             "index=1.5": {"index": 1.5}, "index='a'": {"index": "a"}, "no index": {}}.items():
            case(g, f"bars.element_click({label})", lambda m=mark, d=data_: element_click(m, d), words=("bar",),
                 status=lambda: fcp.status, after=fcp_ok)
    for number in range(len(fcp.pictures)):  # the mosaics that listen to clicks
        picture_events(g, fcp.pictures, str(number), ("mouse_down",), lambda: fcp.status, fcp_ok)

    def add_bad(picture: Any) -> None:
        session.live.image = picture

    for label, image in {"NaN drawing": np.full((28, 28), np.nan, np.float32), "blank drawing": np.zeros((28, 28), np.float32)}.items():
        def add(i=image) -> str | None:
            with contextlib.suppress(Exception):
                session.live.image = i
            fcp.add_drawing(4)
            session.worker.wait()
            return None

        def removable() -> str | None:
            fcp.remove_drawings()
            session.worker.wait()
            session.live.image = pad.image
            return fcp_ok()
        case(g, f"add_drawing({label})", add, words=("drawing",), status=lambda: fcp.status, after=removable)
    case(g, "add_drawing(11)", lambda: fcp.add_drawing(11), words=("class",), status=lambda: fcp.status, after=fcp_ok)
    case(g, "FCPCompare(classes=(4,4))", lambda: w.FCPCompare(session, classes=(4, 4), lazy=True), words=("classes",))
    case(g, "FCPCompare(classes=(4,))", lambda: w.FCPCompare(session, classes=(4,), lazy=True), words=("classes",))
    case(g, "FCPCompare(classes=5)", lambda: w.FCPCompare(session, classes=5, lazy=True), words=("classes",))
    case(g, "FCPCompare(layer='nope')", lambda: w.FCPCompare(session, layer="nope", lazy=True), words=("nope",))
    case(g, "FCPCompare(data=(x, y[:3]))", lambda: w.FCPCompare(model, data=(data.images[:30], data.labels[:3]), lazy=True),
         words=("label",))

    # FilterGallery, ReceptiveField --------------------------------------------------------
    g = "FilterGallery"
    gallery = w.FilterGallery(session)
    session.worker.wait()
    RESET[0] = lambda: gallery._say("")

    def gallery_ok() -> str | None:
        gallery.layer = "conv2"
        gallery.map_index = 0
        session.worker.wait()
        for name, picker in (("layer", gallery.layer_picker), ("kernel_layer", gallery.kernel_layer_picker),
                             ("unpool", gallery.unpool_picker), ("view", gallery.view_picker)):
            if picker.value != getattr(gallery, name):
                return f"{name} picker out of step: {picker.value!r} vs {getattr(gallery, name)!r}"
        return None

    trait_cases(g, gallery, {"layer='dense'": ("layer", "dense"), "layer='nope'": ("layer", "nope"),
                             "unpool='cubic'": ("unpool", "cubic"), "view='x'": ("view", "x"),
                             "kernel_layer='pool1'": ("kernel_layer", "pool1"), "kernel_channel=99": ("kernel_channel", 99),
                             "kernel_channel=-1": ("kernel_channel", -1), "map_index=999": ("map_index", 999),
                             "map_index=1.5": ("map_index", 1.5)}, gallery_ok,
                {"layer": gallery.layer_picker, "kernel_layer": gallery.kernel_layer_picker, "unpool": gallery.unpool_picker,
                 "view": gallery.view_picker})
    dropdown_state(g, "layer_picker", gallery.layer_picker, gallery, "layer", gallery_ok)
    picture_events(g, gallery, "decoded_picture", ("mouse_down",), lambda: gallery.status, gallery_ok)
    case(g, "FilterGallery(images=RGB)", lambda: w.FilterGallery(session, images=np.zeros((5, 28, 28, 3))), words=("image",))
    case(g, "FilterGallery(layer='dense')", lambda: w.FilterGallery(session, "dense"), words=("dense",))
    case(g, "FilterGallery(images=5)", lambda: w.FilterGallery(session, images=5), words=("images",))
    g = "ReceptiveField"
    field = w.ReceptiveField(session)
    for label, args in {"row=999": ("conv2", 999, 0), "layer='nope'": ("nope", 0, 0), "row=1.5": ("conv2", 1.5, 0),
                        "row=NaN": ("conv2", math.nan, 0), "layer='dense'": ("dense", 0, 0)}.items():
        case(g, f"show_cell({label})", lambda a=args: field.show_cell(*a), words=(label.split("=")[0], "cell", "layer"),
             status=lambda: field.label.value, reset=lambda: setattr(field.label, "value", ""), must_say=True,
             after=lambda: field.show_cell("conv2", 1, 1))

    # OIPExplorer -----------------------------------------------------------------------
    g = "OIPExplorer"
    explorer = w.OIPExplorer(session, "conv1")
    explorer.steps.value = 5

    def oip_ok() -> str | None:
        explorer.layer = "conv1"
        explorer.map_index = 0
        explorer.result = None
        explorer.run(wait=True)
        session.worker.wait()
        if explorer.result is None:
            return f"a good run gives no result ({explorer.status})"
        if explorer.layer_picker.value != explorer.layer:
            return "layer picker out of step"
        if explorer.map_picker.value != explorer.map_index:
            return "map picker out of step"
        return None

    trait_cases(g, explorer, {"layer='dense'": ("layer", "dense"), "layer='nope'": ("layer", "nope"),
                              "map_index=999": ("map_index", 999), "map_index=-1": ("map_index", -1),
                              "map_index=1.5": ("map_index", 1.5), "mode='x'": ("mode", "x")}, oip_ok,
                {"layer": explorer.layer_picker, "map_index": explorer.map_picker, "mode": explorer.mode_picker})
    dropdown_state(g, "layer_picker", explorer.layer_picker, explorer, "layer", oip_ok)
    for label, state in {"map_picker value=999": (explorer.map_picker, {"value": 999}),
                         "map_picker value=None": (explorer.map_picker, {"value": None}),
                         "steps value=0": (explorer.steps, {"value": 0}),
                         "wavelength value=NaN": (explorer.wavelength, {"value": math.nan}),
                         "seed value=-1": (explorer.seed, {"value": -1}),
                         "contrast value=NaN": (explorer.contrast, {"value": math.nan}),
                         "blur_sigma value=0": (explorer.blur_sigma, {"value": 0.0}),
                         "node_row value=99": (explorer.node_row, {"value": 99}),
                         "frame value=99": (explorer.frame, {"value": 99})}.items():
        case(g, f"{label} (set_state)", lambda p=state[0], s=state[1]: p.set_state(s), words=("value", "expected"),
             traits=True,
             after=oip_ok)
    case(g, "Run clicked twice", lambda: (frontend_click(explorer.run_button), frontend_click(explorer.run_button),
                                          session.worker.wait()), after=oip_ok)
    case(g, "Cancel clicked when idle", lambda: frontend_click(explorer.cancel_button), after=oip_ok)
    case(g, "GIF clicked before any run", lambda: (w.OIPExplorer(session, "conv1").gif_button._handle_button_msg(
        None, {"event": "click"}, [])), after=oip_ok)
    case(g, "OIPExplorer(layer='dense')", lambda: w.OIPExplorer(session, "dense"), words=("dense",))
    case(g, "OIPExplorer(setps=5) misspelt", lambda: w.OIPExplorer(session, setps=5), words=("setps",))

    sweep_other_widgets(session, pad)

    # Explorer ------------------------------------------------------------------------
    g = "Explorer"
    from cnn_widgets.widgets.explorer import Explorer

    case(g, "Explorer(keras model)", lambda: Explorer(model.keras_model), words=("CNNModel",))
    app = Explorer(session)

    def app_ok() -> str | None:
        app.tabs.set_state({"selected_index": 0})
        if app.tabs.selected_index != 0:
            return "the tabs do not follow a good choice"
        return None

    for label, state in {"selected_index=99": {"selected_index": 99}, "selected_index=-3": {"selected_index": -3},
                         "selected_index=None": {"selected_index": None}, "selected_index='a'": {"selected_index": "a"}}.items():
        case(g, f"tabs.set_state({label})", lambda s=state: app.tabs.set_state(s), words=("index", "expected", "tab"),
             traits=True, after=app_ok)
    case(g, "Explorer(42)", lambda: Explorer(42), words=("model",))
    case(g, "Explorer(bogus=1)", lambda: Explorer(session, bogus=1), words=("bogus",))
    case(g, "Explorer(data=(x,))", lambda: Explorer(model, data=(data.images[:10],)), words=("data",))

    # LiveModel with an image the model cannot take
    g = "LiveModel"
    live = session.live

    def live_bad(value: Any) -> str | None:
        live.image = value
        if not live.error:
            return "no error for a bad image"
        raise ValueError(live.error)

    for label, value in {"RGB": np.zeros((28, 28, 3), np.float32), "(10,10)": np.zeros((10, 10), np.float32),
                         "NaN": np.full((28, 28), np.nan, np.float32)}.items():
        case(g, f"live.image = {label}", lambda v=value: live_bad(v), words=("image", "finite", "grey"), traits=True,
             after=lambda: (setattr(live, "image", pad.image), None)[1] if not live.error or True else None)
    session.close()

    # After the session closed: the frontend may still send events; nothing may fail or compute
    g = "closed session"
    case(g, "pad stroke", lambda: pad.canvas._handle_custom_msg(dict(stroke, id="late"), []))
    case(g, "grid click", lambda: pointer(grid.picture.overlay, "mouse_down", 5, 5))
    case(g, "grid layer_picker.set_state(index=1)", lambda: grid.layer_picker.set_state({"index": 1}))
    case(g, "OIP Run clicked", lambda: frontend_click(explorer.run_button))
    case(g, "FCP add drawing clicked", lambda: frontend_click(fcp.add_a))
    case(g, "FCP bar clicked", lambda: element_click(fcp.bars, {"index": 0}))
    case(g, "gallery click", lambda: pointer(gallery.decoded_picture.overlay, "mouse_down", 5, 5))
    case(g, "tabs.set_state(selected_index=1)", lambda: app.tabs.set_state({"selected_index": 1}))
    case(g, "pad load sample clicked", lambda: frontend_click(pad.sample_button))
    case(g, "Session.of(closed)", lambda: Session.of(session), words=("closed",))


def sweep_other_widgets(session: Any, pad: Any) -> None:
    """The views other helpers are finishing: every trait of their own set to bad values,
    every picker sent an empty or out-of-range choice, every picture a pointer without a position."""
    import ipywidgets

    import cnn_widgets.widgets as w

    bad_values = {"None": None, "-1": -1, "10**6": 10 ** 6, "NaN": math.nan, "2.5": 2.5, "'x'": "x", "(99, 99, 99)": (99, 99, 99)}
    for name in ("CellInspector", "ConfusionBrowser", "SaliencyView", "TrainingLab", "FiltersTakeShape",
                 "TrainingHistory"):
        g = name
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                view = getattr(w, name)(session, **({"lazy": True} if name == "ConfusionBrowser" else {}))
                session.worker.wait()
        except Exception as error:  # noqa: BLE001
            record(g, f"{name}(session)", "crash", f"{type(error).__name__}: {error}")
            continue
        own = [t for t in type(view).class_own_traits() if not t.startswith("_")]
        own = [t for t in own if not type(view).class_traits()[t].read_only]
        status = (lambda v=view: str(getattr(v, "status", "")))
        for trait in own:
            kind = type(type(view).class_traits()[trait]).__name__
            if kind in ("Instance", "Bool"):
                continue
            for label, value in bad_values.items():
                before = getattr(view, trait)

                def kept(t=trait, b=before) -> str | None:
                    now = getattr(view, t)
                    same = now is b or (isinstance(now, float) and isinstance(b, float) and math.isnan(now) and math.isnan(b))
                    try:
                        same = same or bool(now == b)
                    except Exception:  # noqa: BLE001
                        pass
                    return None if same else f"{t} changed from {b!r:.30} to {now!r:.30}"

                def setting(t=trait, v=value) -> Any:
                    setattr(view, t, v)
                    session.worker.wait()
                    return getattr(view, t)

                def suspicious(result: Any, t=trait, v=value) -> str | None:
                    if isinstance(result, float) and math.isnan(result):
                        return f"{t} took NaN"
                    return None

                case(g, f"{name}.{trait}={label}", setting, traits=True,
                     words=(trait, trait.split("_")[-1], repr(value), str(value)),
                     check=suspicious)
                with contextlib.suppress(Exception):
                    setattr(view, trait, before)
        for child_name, child in vars(view).items():
            if isinstance(child, (ipywidgets.Dropdown, ipywidgets.ToggleButtons)) and child.options:
                for label, state in {"index=None": {"index": None}, "index=99": {"index": 99}}.items():
                    def in_step(c=child, first=child.index) -> str | None:
                        problem = f"{child_name} shows nothing" if c.value is None else None
                        with contextlib.suppress(Exception):
                            c.index = first  # the next case starts in step
                        return problem
                    case(g, f"{child_name}.set_state({label})", lambda c=child, s=state: c.set_state(s),
                         traits=True, words=("choose", "expected"), after=in_step)
            if hasattr(child, "overlay") and hasattr(child.overlay, "_handle_frontend_event"):
                for label, (x, y) in {"x=None": (None, 3), "x=NaN": (math.nan, 3), "y=inf": (3, math.inf)}.items():
                    for event in ("mouse_down", "mouse_move"):
                        case(g, f"{child_name}.{event}({label})",
                             lambda c=child, e=event, x=x, y=y: pointer(c.overlay, e, x, y),
                             status=status, must_say=True, words=("position",), reset=lambda v=view: None)
        with contextlib.suppress(Exception):
            view.close()


# ---------------------------------------------------------------------- CLI
def sweep_cli() -> None:
    from cnn_widgets.delivery import cli

    g = "cli"
    tmp = Path(tempfile.mkdtemp())
    (tmp / "afile").write_text("x")
    (tmp / "bad.keras").write_bytes(b"garbage")
    (tmp / "bad.npz").write_bytes(b"garbage")

    def run(argv: list[str]) -> Any:
        stderr = io.StringIO()
        code = 0
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = cli.main(argv)
            except SystemExit as error:
                code = error.code if isinstance(error.code, int) else 1
        text = stderr.getvalue().strip()
        if code == 0:
            return ("accepted", text)
        if code != 2 or "Traceback" in text or len(text.splitlines()) != 1:
            raise RuntimeError(f"exit {code}, {len(text.splitlines())} lines: {text[-200:]}")
        raise ValueError(text)

    bad = {
        "no command": [], "unknown command": ["paint"],
        "oip no --out": ["oip", "--map", "0"], "oip --map -1": ["oip", "--map", "-1", "--out", str(tmp / "a.png")],
        "oip --map 999": ["oip", "--map", "999", "--layer", "conv1", "--out", str(tmp / "a.png")],
        "oip --map x": ["oip", "--map", "x", "--out", str(tmp / "a.png")],
        "oip --layer nope": ["oip", "--map", "0", "--layer", "nope", "--out", str(tmp / "a.png")],
        "oip --layer dense": ["oip", "--map", "0", "--layer", "dense", "--out", str(tmp / "a.png")],
        "oip --out a.jpg": ["oip", "--map", "0", "--out", str(tmp / "a.jpg")],
        "oip --out under a file": ["oip", "--map", "0", "--out", str(tmp / "afile" / "a.png")],
        "oip --out folder": ["oip", "--map", "0", "--out", str(tmp)],
        "oip --steps 0": ["oip", "--map", "0", "--steps", "0", "--out", str(tmp / "a.png")],
        "oip --steps -3": ["oip", "--map", "0", "--steps", "-3", "--out", str(tmp / "a.png")],
        "oip --step-size nan": ["oip", "--map", "0", "--step-size", "nan", "--out", str(tmp / "a.png")],
        "oip --wavelength 0": ["oip", "--map", "0", "--wavelength", "0", "--out", str(tmp / "a.png")],
        "oip --wavelength inf": ["oip", "--map", "0", "--wavelength", "inf", "--out", str(tmp / "a.png")],
        "oip --octaves 0": ["oip", "--map", "0", "--octaves", "0", "--out", str(tmp / "a.png")],
        "oip --seed -1": ["oip", "--map", "0", "--seed", "-1", "--out", str(tmp / "a.png")],
        "oip --blur-sigma 0": ["oip", "--map", "0", "--blur-sigma", "0", "--out", str(tmp / "a.png")],
        "oip --contrast nan": ["oip", "--map", "0", "--contrast", "nan", "--out", str(tmp / "a.png")],
        "oip --contrast -1": ["oip", "--map", "0", "--contrast", "-1", "--out", str(tmp / "a.png")],
        "oip --zoom -1": ["oip", "--map", "0", "--zoom", "-1", "--out", str(tmp / "a.png")],
        "oip --zoom 100000": ["oip", "--map", "0", "--zoom", "100000", "--out", str(tmp / "a.png")],
        "oip --node 99 99": ["oip", "--map", "0", "--layer", "conv1", "--node", "99", "99", "--out", str(tmp / "a.png")],
        "oip --node 1": ["oip", "--map", "0", "--node", "1", "--out", str(tmp / "a.png")],
        "oip --series --seeds 0": ["oip", "--map", "0", "--series", "--seeds", "0", "--out", str(tmp / "a.png")],
        "oip --wavelengths 0": ["oip", "--map", "0", "--series", "--wavelengths", "0", "--out", str(tmp / "a.png")],
        "oip --series --nodes": ["oip", "--map", "0", "--series", "--nodes", "--out", str(tmp / "a.png")],
        "oip --series --node": ["oip", "--map", "0", "--series", "--node", "1", "1", "--out", str(tmp / "a.png")],
        "oip --model missing": ["oip", "--map", "0", "--model", str(tmp / "no.keras"), "--out", str(tmp / "a.png")],
        "oip --model garbage": ["oip", "--map", "0", "--model", str(tmp / "bad.keras"), "--out", str(tmp / "a.png")],
        "oip --model folder": ["oip", "--map", "0", "--model", str(tmp), "--out", str(tmp / "a.png")],
        "atlas --out a.txt": ["atlas", "--out", str(tmp / "a.txt")],
        "atlas --layer nope": ["atlas", "--layer", "nope", "--out", str(tmp / "a.png")],
        "atlas --out /dev/null/a.png": ["atlas", "--out", "/dev/null/a.png"],
        "train --out m.h5": ["train", "--out", str(tmp / "m.h5"), "--data", str(tmp / "bad.npz")],
        "train --out under a file": ["train", "--out", str(tmp / "afile" / "m.keras")],
        "train --epochs 0": ["train", "--epochs", "0", "--out", str(tmp / "m.keras")],
        "train --epochs 1.5": ["train", "--epochs", "1.5", "--out", str(tmp / "m.keras")],
        "train --batch-size 0": ["train", "--batch-size", "0", "--out", str(tmp / "m.keras")],
        "train --learning-rate nan": ["train", "--learning-rate", "nan", "--out", str(tmp / "m.keras")],
        "train --learning-rate -1": ["train", "--learning-rate", "-1", "--out", str(tmp / "m.keras")],
        "train --lr-decay 0": ["train", "--lr-decay", "0", "--out", str(tmp / "m.keras")],
        "train --momentum 1": ["train", "--momentum", "1", "--out", str(tmp / "m.keras")],
        "train --l2 -1": ["train", "--l2", "-1", "--out", str(tmp / "m.keras")],
        "train --shift -1": ["train", "--shift", "-1", "--out", str(tmp / "m.keras")],
        "train --shift 100": ["train", "--shift", "100", "--out", str(tmp / "m.keras"), "--data", str(tmp / "bad.npz")],
        "train --hidden 0": ["train", "--hidden", "0", "--out", str(tmp / "m.keras")],
        "train --seed -1": ["train", "--seed", "-1", "--out", str(tmp / "m.keras")],
        "train --data missing": ["train", "--data", str(tmp / "no.npz"), "--out", str(tmp / "m.keras")],
        "train --data garbage": ["train", "--data", str(tmp / "bad.npz"), "--out", str(tmp / "m.keras")],
        "train --data folder": ["train", "--data", str(tmp), "--out", str(tmp / "m.keras")],
        "info --model missing": ["info", "--model", str(tmp / "no.keras")],
        "info --model garbage": ["info", "--model", str(tmp / "bad.keras")],
        "info --model a.h5": ["info", "--model", str(tmp / "a.h5")],
        "serve --port -1": ["serve", "--port", "-1", "--no-browser"],
        "serve --port 70000": ["serve", "--port", "70000", "--no-browser"],
        "serve --port x": ["serve", "--port", "x", "--no-browser"],
        "slides --out deck.pdf": ["slides", "--out", str(tmp / "deck.pdf")],
        "slides --out under a file": ["slides", "--out", str(tmp / "afile" / "deck.html")],
        "slides --notebook missing": ["slides", "--out", str(tmp / "deck.html"), "--notebook", str(tmp / "no.ipynb")],
        "slides --notebook garbage": ["slides", "--out", str(tmp / "deck.html"), "--notebook", str(tmp / "afile")],
        "slides --timeout 0": ["slides", "--out", str(tmp / "deck.html"), "--timeout", "0"],
        "slides --timeout nan": ["slides", "--out", str(tmp / "deck.html"), "--timeout", "nan"],
        "info --bogus-flag": ["info", "--bogus-flag"],
    }
    for label, argv in bad.items():
        case(g, label, lambda a=argv: run(a))

    def process(argv: list[str]) -> Any:
        """The installed command as a user runs it: its own process."""
        import subprocess

        done = subprocess.run([sys.executable, "-m", "cnn_widgets.delivery.cli", *argv], capture_output=True, text=True,
                              timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        text = done.stderr.strip()
        if done.returncode == 0:
            return ("accepted", text)
        if done.returncode != 2 or "Traceback" in text or len(text.splitlines()) != 1:
            raise RuntimeError(f"exit {done.returncode}, {len(text.splitlines())} lines: {text[-200:]}")
        raise ValueError(text)

    for label in ("oip --out a.jpg", "train --learning-rate nan", "info --model garbage", "oip --layer dense"):
        case(g, f"{label} (own process)", lambda a=bad[label]: process(a))


# ---------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    global ONLY
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the cases whose group or name contains this")
    parser.add_argument("--quiet", action="store_true", help="print only the cases that are not clear")
    args = parser.parse_args(argv)
    ONLY = args.only
    import resource

    # An unbounded allocation (e.g. a zoom of 10,000) is a MemoryError here, not the OOM killer.
    limit = 12 * 2 ** 30
    resource.setrlimit(resource.RLIMIT_DATA, (limit, resource.getrlimit(resource.RLIMIT_DATA)[1]))
    logging.getLogger().addHandler(SWALLOWED)
    from traitlets.log import get_logger

    get_logger().addHandler(SWALLOWED)
    from cnn_widgets import CNNModel
    from cnn_widgets.data import DataProvider

    model = CNNModel.default()
    data = DataProvider(model).test_set
    from sweep_own_models import sweep_own_models  # issue 21: own models and files, budgets, labels

    def sweep_issue_21(model: Any, data: Any) -> None:
        sweep_own_models(case, model, data)

    groups = [sweep_model, sweep_mnist_cnn, sweep_data, sweep_oip, sweep_render, sweep_fcp_decode, sweep_session,
              sweep_preprocess_ink, sweep_widgets, sweep_cli, sweep_issue_21]
    for group in groups:
        try:
            arguments = {"sweep_model": (model, data), "sweep_oip": (model, data), "sweep_fcp_decode": (model, data),
                         "sweep_session": (model, data), "sweep_widgets": (model, data),
                         "sweep_issue_21": (model, data)}.get(group.__name__, ())
            group(*arguments)
        except Exception:  # noqa: BLE001 - the sweep itself failed: say where
            record(group.__name__, "(sweep setup)", "crash", traceback.format_exc().strip().splitlines()[-1])
    width = max(len(f"{g}: {n}") for g, n, _, _ in RESULTS)
    for g, name, outcome, message in RESULTS:
        if args.quiet and outcome in ("clear", "accepted"):
            continue
        print(f"{g + ': ' + name:<{width}}  {outcome:<8}  {message}")
    kinds = ("crash", "silent", "unclear", "clear", "accepted")
    print(f"\n{'group':<18}" + "".join(f"{k:>9}" for k in kinds))
    for group in dict.fromkeys(r[0] for r in RESULTS):
        rows = [r for r in RESULTS if r[0] == group]
        print(f"{group:<18}" + "".join(f"{sum(1 for r in rows if r[2] == k):>9}" for k in kinds))
    counts = {k: sum(1 for r in RESULTS if r[2] == k) for k in kinds}
    print(f"\n{len(RESULTS)} cases: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
