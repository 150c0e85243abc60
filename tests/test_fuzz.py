"""Property tests of the core public API with arbitrary input (hypothesis).

Each property: a call either gives a correct result (finite, of the documented shape
and range) or raises ValueError/TypeError with a message. Any other exception, a
NaN in a result or a silent wrong shape is a failure. Models are tiny (8×8) and
run without XLA, so the whole file takes seconds.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .conftest import make_tiny_cnn

#: ``FUZZ_EXAMPLES=1000`` for a longer hunt; the default keeps the file to seconds.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLEAR = (ValueError, TypeError)


def clear_error(error: BaseException) -> None:
    """A refusal must be a ValueError/TypeError that says something."""
    assert isinstance(error, CLEAR), f"{type(error).__name__}: {error}"
    assert len(str(error)) > 10, f"no message: {error!r}"
    if currently_in_test_context():  # --hypothesis-show-statistics: how much got through
        event(f"refused with {type(error).__name__}")


@lru_cache(maxsize=None)
def tiny_model():
    from cnn_widgets import CNNModel

    return CNNModel(make_tiny_cnn(), class_names=["a", "b", "c"], jit_compile=False)


# ---------------------------------------------------------------------- arrays
DTYPES = st.sampled_from([np.uint8, np.int64, np.bool_, np.float16, np.float32, np.float64, np.complex64])
NEAR_SHAPES = st.sampled_from([(8, 8), (2, 8, 8), (8, 8, 1), (3, 8, 8, 1), (8, 8, 3), (2, 8, 8, 3), (9, 9),
                               (0, 8, 8), (8,), (), (1, 1, 8, 8, 1), (8, 0), (2, 8, 8, 2), (4, 8, 8, 4)])
SHAPES = st.one_of(NEAR_SHAPES, hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=9))
PIXELS = st.one_of(st.floats(0.0, 1.0, width=32), st.floats(allow_nan=True, allow_infinity=True, width=32),
                   st.floats(-1e6, 1e6, width=32))


@st.composite
def images(draw):
    """Mostly arrays the tiny model takes (so results get checked too), the rest anything."""
    if draw(st.booleans()):
        shape = draw(st.sampled_from([(8, 8), (8, 8, 1), (1, 8, 8), (3, 8, 8, 1), (5, 8, 8)]))
        if draw(st.booleans()):
            return draw(hnp.arrays(np.uint8, shape))
        return draw(hnp.arrays(st.sampled_from([np.float32, np.float64]), shape,
                               elements=st.floats(0.0, 1.0, width=32)))
    dtype = np.dtype(draw(DTYPES))
    shape = draw(SHAPES)
    if dtype.kind == "f":
        elements = PIXELS if dtype.itemsize >= 4 else st.floats(0.0, 1.0, width=16)
        return draw(hnp.arrays(dtype, shape, elements=elements))
    return draw(hnp.arrays(dtype, shape))


@FAST
@given(images())
def test_prepare_gives_a_valid_batch_or_a_clear_error(array):
    model = tiny_model()
    try:
        batch = model.prepare(array)
    except Exception as error:  # noqa: BLE001 - the property is about which
        clear_error(error)
        return
    event("accepted")
    assert batch.dtype == np.float32 and batch.ndim == 4 and batch.shape[1:] == (8, 8, 1)
    assert batch.shape[0] >= 1 and np.all(np.isfinite(batch))
    assert batch.min() >= 0.0 and batch.max() <= 1.0


LAYERS = st.one_of(st.none(), st.sampled_from(["conv", "pool", "flat", "out"]),
                   st.lists(st.sampled_from(["conv", "pool", "flat", "out"]), min_size=1, max_size=4), st.text(max_size=6),
                   st.integers(-2, 9), st.lists(st.sampled_from(["conv", "out", "nope"]), max_size=3),
                   st.lists(st.integers(), max_size=2), st.floats(allow_nan=True))
BATCH_SIZES = st.one_of(st.integers(1, 4), st.integers(-3, 300), st.floats(allow_nan=True), st.booleans(), st.none(), st.text(max_size=3))


@FAST
@given(images(), LAYERS, BATCH_SIZES)
def test_activations_and_predict_are_finite_or_refused(array, layers, batch_size):
    model = tiny_model()
    try:
        values = model.activations(array, layers, batch_size=batch_size)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
    else:
        event("accepted")
        count = model.prepare(array).shape[0]
        for name, value in values.items():
            assert value.shape == (count, *model.layer(name).output_shape)
            assert np.all(np.isfinite(value)), name
    try:
        probabilities = model.predict(array, batch_size=batch_size)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
    else:
        assert probabilities.shape == (model.prepare(array).shape[0], 3)
        assert np.all(np.isfinite(probabilities))
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@FAST
@given(st.one_of(st.integers(-1, 7), st.integers(), st.floats(allow_nan=True), st.text(max_size=4), st.none(),
                 st.booleans()),
       st.one_of(st.integers(-1, 7), st.integers(), st.floats(allow_nan=True), st.none()))
def test_layer_cells_take_whole_numbers_inside_the_map(row, col):
    info = tiny_model().layer("conv")
    try:
        top, left, bottom, right = info.input_region(row, col)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
        return
    event("accepted")
    assert isinstance(row, (int, np.integer)) and not isinstance(row, bool)
    assert 0 <= top < bottom <= 8 and 0 <= left < right <= 8 and bottom - top <= 3


# ---------------------------------------------------------------------- drawing
COORDINATES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-1e3, 1e3),
                        st.integers(-10**12, 10**12), st.none(), st.text(max_size=3))


@pytest.mark.parametrize("x, y", [(float("nan"), 5.0), (0.0, 7.5e36), (float("inf"), 5.0), (5.0, float("-inf"))])
def test_ink_refuses_a_pointer_that_names_no_pixel(x, y):
    from cnn_widgets.drawing.ink import Ink

    ink = Ink(56, 56)
    ink.begin(10, 10, 6)
    before = ink.raster.copy()
    try:
        ink.extend(x, y)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
        assert np.array_equal(ink.raster, before) and ink.strokes[-1][1] == [(10.0, 10.0)]  # nothing kept
    assert np.all(np.isfinite(ink.raster)) and 0 <= ink.raster.min() and ink.raster.max() <= 1


@FAST
@given(st.lists(st.tuples(COORDINATES, COORDINATES), min_size=1, max_size=6),
       st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(0.5, 40), st.integers(-3, 40)))
def test_ink_takes_any_pointer_coordinates_and_stays_usable(points, width):
    from cnn_widgets.drawing.ink import Ink
    from cnn_widgets.drawing.preprocess import to_mnist

    ink = Ink(56, 56)
    ink.begin(10, 10, 6)  # a good stroke first: bad events must not spoil it
    good = ink.raster.copy()
    for index, (x, y) in enumerate(points):
        try:
            if index == 0:
                ink.begin(x, y, width)
            else:
                ink.extend(x, y)
        except Exception as error:  # noqa: BLE001
            clear_error(error)
        assert np.all(np.isfinite(ink.raster)) and ink.raster.min() >= 0 and ink.raster.max() <= 1
    image = to_mnist(ink.raster)
    assert image.shape == (28, 28) and np.all(np.isfinite(image))
    while ink.undo():
        pass
    assert np.all(ink.raster == 0) and np.all(good >= 0)


@FAST
@given(st.one_of(hnp.arrays(st.sampled_from([np.float32, np.uint8]), hnp.array_shapes(min_dims=2, max_dims=2, max_side=60)),
                 hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, max_side=60), elements=st.floats(0, 1, width=32)),
                 hnp.arrays(st.sampled_from([np.float32, np.float64, np.uint8, np.int32, np.bool_]),
                            hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=40))))
def test_to_mnist_gives_a_28_by_28_image_or_a_clear_error(ink):
    from cnn_widgets.drawing.preprocess import to_mnist

    try:
        image = to_mnist(ink)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
        return
    event("accepted")
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert np.all(np.isfinite(image)) and image.min() >= 0 and image.max() <= 1


# ---------------------------------------------------------------------- pictures
VALUES = st.one_of(
    hnp.arrays(st.sampled_from([np.float32, np.float64]), hnp.array_shapes(min_dims=2, max_dims=3, max_side=6),
               elements=st.floats(-1e4, 1e4, width=32)),
    hnp.arrays(st.sampled_from([np.float32, np.float64]), hnp.array_shapes(min_dims=0, max_dims=4, max_side=6),
               elements=st.floats(allow_nan=True, allow_infinity=True, width=32)))
NUMBERS = st.one_of(st.floats(-10, 10), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True), st.none(),
                    st.text(max_size=2))


@FAST
@given(VALUES, NUMBERS, NUMBERS)
def test_scale_gives_palette_indices_or_a_clear_error(values, low, high):
    from cnn_widgets.render import scale

    try:
        levels = scale(values, low, high)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
        return
    event("accepted")
    assert levels.dtype == np.uint8 and levels.shape == np.shape(values) and np.all(levels <= 254)


@FAST
@given(VALUES, st.sampled_from(["layer", "map", "other"]),
       st.one_of(st.none(), st.tuples(NUMBERS, NUMBERS), st.just((0.0, 0.0))),
       st.one_of(st.none(), st.integers(-2, 7)), st.one_of(st.integers(-1, 3), st.floats(allow_nan=True)))
def test_mosaic_and_png_or_a_clear_error(maps, normalize, value_range, columns, gap):
    from cnn_widgets.render import mosaic, to_png

    try:
        tiles = mosaic(maps, normalize=normalize, value_range=value_range, columns=columns, gap=gap)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
        return
    event("accepted")
    h, w, count = maps.shape
    assert tiles.count == count and tiles.tile == (h, w)
    png = to_png(tiles.indices, "jet")
    assert png.startswith(b"\x89PNG")
    x, y = tiles.origin(count - 1)
    assert tiles.locate(x, y) == (count - 1, 0, 0)


@FAST
@given(COORDINATES, COORDINATES)
def test_locating_a_pointer_never_fails_unclearly(x, y):
    from cnn_widgets.render import mosaic

    tiles = mosaic(np.ones((3, 3, 5), np.float32), columns=3)
    try:
        where = tiles.locate(x, y)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
        assert x is None or y is None or isinstance(x, str) or isinstance(y, str) or not (
            math.isfinite(x) and math.isfinite(y))
        return
    event("accepted")
    assert where is None or (0 <= where[0] < 5 and 0 <= where[1] < 3 and 0 <= where[2] < 3)


@FAST
@given(VALUES, NUMBERS)
def test_contrast_is_a_grey_picture_or_a_clear_error(image, contrast):
    from cnn_widgets.render import stretch

    try:
        grey = stretch(image, contrast)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
        return
    event("accepted")
    assert grey.shape == np.shape(image) and np.all(np.isfinite(grey))
    assert grey.min() >= 0 and grey.max() <= 1


@FAST
@given(st.one_of(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=2, max_dims=2, max_side=9)),
                 hnp.arrays(st.sampled_from([np.uint8, np.int64, np.float32, np.bool_]),
                            hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))),
       st.one_of(st.sampled_from(["grey", "jet", "diverging", "viridis"]), st.just("nope"), st.integers(), st.none()))
def test_to_png_encodes_palette_indices_or_a_clear_error(indices, colormap):
    from cnn_widgets.render import to_png

    try:
        png = to_png(indices, colormap)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
        return
    event("accepted")
    assert png.startswith(b"\x89PNG") and indices.ndim == 2


# ---------------------------------------------------------------------- data files
MEMBERS = st.sampled_from(["x_train", "y_train", "x_test", "y_test", "extra"])
MEMBER_ARRAYS = st.one_of(
    hnp.arrays(st.sampled_from([np.uint8, np.int64, np.float32, np.bool_]),
               st.sampled_from([(3, 28, 28), (3,), (0, 28, 28), (0,), (2, 28), (), (3, 28, 28, 1)])),
    st.binary(max_size=40),  # a member that is not an .npy array at all
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@st.composite
def npz_members(draw):
    """A good MNIST-like archive, then (mostly) one member spoiled, removed or added."""
    count = draw(st.integers(1, 3))
    members = {"x_train": draw(hnp.arrays(np.uint8, (count, 28, 28))),
               "y_train": draw(hnp.arrays(np.uint8, (count,), elements=st.integers(0, 9))),
               "x_test": draw(hnp.arrays(np.uint8, (count, 28, 28))),
               "y_test": draw(hnp.arrays(np.int64, (count,), elements=st.integers(0, 9)))}
    for _ in range(draw(st.integers(0, 2))):
        name = draw(MEMBERS)
        if draw(st.booleans()):
            members.pop(name, None)
        else:
            members[name] = draw(MEMBER_ARRAYS)
    return members


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.one_of(npz_members(), st.dictionaries(MEMBERS, MEMBER_ARRAYS, max_size=5)),
       as_npy_names=st.booleans(), truncate=st.booleans())
def test_data_loader_checks_any_npz(tmp_path, members, as_npy_names, truncate):
    from cnn_widgets.data.mnist import load_mnist

    path = tmp_path / "data.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in members.items():
            if isinstance(value, bytes):
                archive.writestr(name if as_npy_names else f"{name}.txt", value)
            else:
                buffer = io.BytesIO()
                np.save(buffer, value, allow_pickle=False)
                archive.writestr(f"{name}.npy", buffer.getvalue())
    if truncate and len(members) % 2:  # now and then a truncated archive
        path.write_bytes(path.read_bytes()[: max(len(path.read_bytes()) // 2, 1)])
    try:
        (x_train, y_train), (x_test, y_test) = load_mnist(path)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
        assert str(path) in str(error)
        return
    event("accepted")
    for x, y in ((x_train, y_train), (x_test, y_test)):
        assert x.dtype == np.uint8 and x.ndim == 3 and x.shape[1:] == (28, 28) and len(x) > 0
        assert y.shape == (len(x),) and y.max() <= 9


# ---------------------------------------------------------------------- analyses
ARGUMENT = st.one_of(st.integers(-3, 200), st.floats(allow_nan=True, allow_infinity=True), st.none(),
                     st.booleans(), st.text(max_size=3))


@st.composite
def all_good_but_one(draw, good: dict, bad: dict):
    """Good arguments, except (mostly) one of them drawn from anything: each refusal is
    then about that one argument, and a good set checks the result."""
    arguments = {name: draw(strategy) for name, strategy in good.items()}
    spoiled = draw(st.one_of(st.none(), st.sampled_from(sorted(bad))))
    if spoiled is not None:
        arguments[spoiled] = draw(bad[spoiled])
    return arguments


OIP_GOOD = {"layer": st.sampled_from(["conv", "pool"]),
            "maps": st.one_of(st.none(), st.integers(0, 1), st.lists(st.integers(0, 1), min_size=1, max_size=2)),
            "steps": st.integers(1, 4), "step_size": st.floats(0.001, 1.0), "wavelength": st.floats(0.5, 8.0),
            "seed": st.integers(0, 2**31), "node": st.one_of(st.none(), st.tuples(st.integers(0, 2), st.integers(0, 2))),
            "octaves": st.integers(1, 3), "blur_every": st.integers(0, 2), "blur_sigma": st.floats(0.1, 2.0),
            "frame_every": st.integers(1, 3)}
OIP_BAD = {"layer": st.one_of(st.sampled_from(["out", "flat", "nope"]), st.integers()),
           "maps": st.one_of(st.integers(-2, 5), st.lists(st.integers(-2, 5), max_size=3), st.floats(allow_nan=True),
                             st.text(max_size=2), st.just([])),
           "steps": st.one_of(st.integers(-2, 0), ARGUMENT), "step_size": ARGUMENT, "wavelength": ARGUMENT,
           "seed": ARGUMENT, "node": st.one_of(st.tuples(ARGUMENT, ARGUMENT), st.tuples(st.integers(-9, 9), st.integers(-9, 9)),
                                                ARGUMENT),
           "octaves": ARGUMENT, "blur_every": ARGUMENT, "blur_sigma": ARGUMENT, "frame_every": ARGUMENT}


@settings(max_examples=max(EXAMPLES // 2, 10), deadline=None)
@given(all_good_but_one(OIP_GOOD, OIP_BAD))
def test_oip_grows_finite_patterns_or_refuses(arguments):
    from cnn_widgets.methods.oip.run import optimize

    arguments = dict(arguments)
    layer, maps = arguments.pop("layer"), arguments.pop("maps")
    if isinstance(arguments["steps"], int) and not isinstance(arguments["steps"], bool):
        arguments["steps"] = min(arguments["steps"], 4)  # a few steps are enough to see a NaN
    try:
        result = optimize(tiny_model(), layer, maps, **arguments)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
        return
    event("accepted")
    assert np.all(np.isfinite(result.images)) and result.images.min() >= 0 and result.images.max() <= 1
    assert all(np.all(np.isfinite(h)) for h in result.history)


FCP_GOOD = {"labels": st.lists(st.integers(0, 2), min_size=4, max_size=12).filter(lambda v: len(set(v)) == 3),
            "classes": st.sampled_from([(0, 1), (1, 2), (2, 0)]), "layer": st.sampled_from(["conv", "pool", "flat", "out"]),
            "batch_size": st.integers(1, 8)}
FCP_BAD = {"labels": st.one_of(st.lists(st.integers(-1, 4), max_size=12), st.lists(st.floats(allow_nan=True), max_size=4),
                               st.just([[0, 1], [1, 0]])),
           "classes": st.one_of(st.tuples(st.integers(-1, 4), st.integers(-1, 4)), st.tuples(ARGUMENT, ARGUMENT),
                                ARGUMENT, st.lists(st.integers(0, 2), max_size=3)),
           "layer": st.one_of(st.text(max_size=3), st.integers()), "batch_size": ARGUMENT}


@settings(max_examples=max(EXAMPLES // 2, 10), deadline=None)
@given(all_good_but_one(FCP_GOOD, FCP_BAD))
def test_fcp_compares_two_classes_or_refuses(arguments):
    from cnn_widgets.methods.fcp import compare_classes

    labels = np.asarray(arguments["labels"])
    images = np.random.default_rng(0).random((max(len(labels), 1), 8, 8)).astype(np.float32)
    try:
        result = compare_classes(tiny_model(), images, labels, arguments["layer"], arguments["classes"],
                         batch_size=arguments["batch_size"])
    except Exception as error:  # noqa: BLE001
        clear_error(error)
        return
    event("accepted")
    assert np.all(np.isfinite(result.map_scores)) and np.all(np.isfinite(result.node_scores))
    assert math.isfinite(result.position(result.a.mean)) and math.isfinite(result.position(result.b.mean))
    assert result.position(result.a.mean, top=0) == pytest.approx(1.0) or np.all(result.difference == 0)


@FAST
@given(images())
def test_live_model_shows_an_error_and_keeps_its_last_good_state(array):
    from cnn_widgets.session import LiveModel

    live = LiveModel(tiny_model())
    live.image = np.full((8, 8), 0.5, np.float32)
    good = {name: value.copy() for name, value in live.activations.items()}
    assert live.error == ""
    try:
        live.image = array
    except Exception as error:  # noqa: BLE001 - traitlets refuses what is not an ndarray
        clear_error(error)
        return
    if live.error:
        for name, value in good.items():
            np.testing.assert_array_equal(live.activations[name], value)
    else:
        assert all(np.all(np.isfinite(value)) for value in live.activations.values())
        assert np.all(np.isfinite(live.probabilities))


@settings(max_examples=max(EXAMPLES // 2, 10), deadline=None)
@given(st.sampled_from(["conv", "pool", "flat", "out", "nope"]),
       st.one_of(st.sampled_from(["nearest", "bilinear"]), st.text(max_size=3)),
       st.one_of(st.integers(0, 1), ARGUMENT), st.one_of(st.integers(1, 6), ARGUMENT))
def test_filter_decoding_is_finite_or_refused(layer, unpool, map_index, k):
    from cnn_widgets.methods.decode import decode_filters, top_images

    model = tiny_model()
    try:
        decoded = decode_filters(model, layer, unpool)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
        return
    event("accepted")
    assert np.all(np.isfinite(decoded.filters))
    images = np.random.default_rng(1).random((6, 8, 8)).astype(np.float32)
    try:
        top = top_images(model, layer, map_index, images, k=k)
    except Exception as error:  # noqa: BLE001
        clear_error(error)
        return
    assert top is not None


# ---------------------------------------------------------------------- the command line
WORDS = st.sampled_from(["info", "train", "oip", "atlas", "slides", "serve", "bogus", "--out", "--model",
                         "--data", "--epochs", "--learning-rate", "--momentum", "--map", "--steps",
                         "--node", "--port", "--notebook", "--timeout", "--layer", "-1", "0", "nan",
                         "inf", "1e9", "x", "conv3", "m.h5", "m.keras", "d.html", "a.gif", "/dev/null/x.png",
                         "missing.keras", "missing.npz", "missing.ipynb"])


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """A working folder without notebooks, no MNIST file and no network."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CNN_WIDGETS_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    return tmp_path


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.lists(WORDS, max_size=7))
def test_command_line_fails_in_one_line_without_starting_work(nowhere, argv):
    from cnn_widgets.delivery.cli import main

    command = next((word for word in argv if not word.startswith("-")), None)
    # Only argument lists that must fail before any long work: never a data file, model or
    # notebook that exists, never an output that can be written for a long command.
    assume(not (argv and argv[0] == "serve"))
    long_work = argv[:1] in (["oip"], ["atlas"]) and any(w in argv for w in ("a.gif",)) or argv[:1] == ["info"]
    assume(not long_work)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(argv)
        except SystemExit as exit_:
            status = exit_.code
    lines = stderr.getvalue().strip().splitlines()
    assert status == 2, (argv, command, stderr.getvalue())
    assert len(lines) == 1 and lines[0].startswith("cnn-widgets") and "Traceback" not in lines[0], lines


def test_command_line_checks_the_output_before_training(tmp_path):
    """`train --out m.h5` fails at once, naming what is allowed (no data file is even read)."""
    from cnn_widgets.delivery.cli import main

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert main(["train", "--out", str(tmp_path / "m.h5"), "--data", str(tmp_path / "no.npz")]) == 2
    assert "must end in '.keras'" in stderr.getvalue()
    assert not list(Path(tmp_path).iterdir())


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
