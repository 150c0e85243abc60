"""Property tests of the core public API with arbitrary input (hypothesis).

Every case a strategy draws carries its expected outcome (:class:`Expect`), as
tf-keras-vis's tests enumerate their valid and invalid cases:

- accepted: the call must succeed, and its result is checked against what the case
  says it must be (values, shapes, order);
- refused: the call must raise the named exception type with a message naming the
  field. When a case spoils more than one argument, a refusal of any one of them is
  right (the order of the checks is not part of the contract).

So a function that refuses everything with a clear message fails here, as does one
that accepts what it must refuse. Strategies mostly spoil one argument of a good set.
Models are tiny (8×8) and run without XLA, so the whole file takes seconds.
"""

from __future__ import annotations

import contextlib
import io
import math
import numbers
import os
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .conftest import make_tiny_cnn

#: ``FUZZ_EXAMPLES=1000`` for a longer hunt; the default keeps the file to seconds.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HALF = settings(max_examples=max(EXAMPLES // 2, 10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
F32_MAX = float(np.finfo(np.float32).max)


# ---------------------------------------------------------------------- expected outcomes
@dataclass(frozen=True)
class Refusal:
    """A refusal: the exception type and a pattern its message must contain (the field)."""

    error: type[BaseException]
    pattern: str

    def matches(self, error: BaseException) -> bool:
        return isinstance(error, self.error) and re.search(self.pattern, str(error)) is not None


@dataclass(frozen=True)
class Expect:
    """A case's expected outcome: accepted (no refusals) or one of ``refusals``."""

    refusals: tuple[Refusal, ...] = ()

    @property
    def accepted(self) -> bool:
        return not self.refusals

    def __and__(self, other: "Expect") -> "Expect":
        """Both arguments' outcomes: accepted when both are, else any of their refusals."""
        return Expect(self.refusals + other.refusals)

    def __repr__(self) -> str:
        return "accepted" if self.accepted else " or ".join(
            f"{r.error.__name__} /{r.pattern}/" for r in self.refusals)


OK = Expect()


def refused(error: type[BaseException], pattern: str) -> Expect:
    return Expect((Refusal(error, pattern),))


def all_of(*expects: Expect) -> Expect:
    total = OK
    for expect in expects:
        total = total & expect
    return total


def outcome(expect: Expect, call: Callable[[], Any]) -> Any:
    """Call ``call`` as ``expect`` says: its result when accepted (any exception fails the
    test); when refused, the exception must be one of the refusals (then None)."""
    if expect.accepted:
        result = call()
        event("accepted")
        return result
    with pytest.raises(tuple({r.error for r in expect.refusals})) as caught:
        call()
    error = caught.value
    assert any(r.matches(error) for r in expect.refusals), \
        f"refused with {type(error).__name__}: {error}; expected {expect!r}"
    if currently_in_test_context():  # --hypothesis-show-statistics: how much got through
        event(f"refused with {type(error).__name__}")
    return None


# Field checks as the API documents them (the oracle's side, not the code's).
def whole(value: Any, name: str, low: int | None = 0, high: int | None = None,
          bad_type: type[BaseException] = TypeError, bad_range: type[BaseException] = ValueError) -> Expect:
    """A whole number in [low, high]: booleans, floats, strings and None are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        return refused(bad_type, re.escape(name))
    if (low is not None and value < low) or (high is not None and value > high):
        return refused(bad_range, re.escape(name))
    return OK


def finite(value: Any, name: str, low: float | None = None, high: float | None = None, above: bool = False,
           bad_type: type[BaseException] = TypeError) -> Expect:
    """A finite real number in [low, high] (``above``: strictly more than low)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return refused(bad_type, re.escape(name))
    number = float(value)
    if not math.isfinite(number) or (low is not None and (number <= low if above else number < low)) or (
            high is not None and number > high):
        return refused(ValueError, re.escape(name))
    return OK


@st.composite
def one_spoiled(draw, good: dict[str, st.SearchStrategy], bad: dict[str, st.SearchStrategy]) -> dict[str, Any]:
    """Good arguments, except (mostly) one of them drawn from its bad strategy (whose
    values the test's oracle judges: a "bad" draw may still be a good value)."""
    arguments = {name: draw(strategy) for name, strategy in good.items()}
    spoiled = draw(st.one_of(st.none(), st.sampled_from(sorted(bad))))
    if spoiled is not None:
        arguments[spoiled] = draw(bad[spoiled])
    if currently_in_test_context():
        event(f"spoiled: {spoiled}")
    return arguments


@lru_cache(maxsize=None)
def tiny_model():
    """8×8 input → conv (3×3, 2 maps: 6×6) → pool 2 (3×3) → flat (18) → out (3, softmax)."""
    from cnn_widgets import CNNModel

    return CNNModel(make_tiny_cnn(), class_names=["a", "b", "c"], jit_compile=False)


LAYERS = ("conv", "pool", "flat", "out")
#: The tiny model's maps: layer → (rows, cols, maps); its receptive fields: layer → side.
GRIDS = {"conv": (6, 6, 2), "pool": (3, 3, 2)}
FIELDS = {"conv": 3, "pool": 4}


@lru_cache(maxsize=None)
def reference_net():
    """Keras itself, every layer of the tiny model out (no wrapper in between)."""
    import keras

    net = tiny_model().keras_model
    return keras.Model(net.inputs[0], {name: net.get_layer(name).output for name in LAYERS})


def reference(batch: np.ndarray) -> dict[str, np.ndarray]:
    return {name: np.asarray(value) for name, value in reference_net()(batch, training=False).items()}


# ---------------------------------------------------------------------- images
@dataclass(frozen=True)
class ImageCase:
    """Images for the tiny model and what ``prepare`` must make of them: accepted, the batch
    ``expected`` (N, 8, 8, 1) in [0, 1]; refused as ``expect`` says."""

    array: Any
    expect: Expect
    expected: np.ndarray | None = None

    def __repr__(self) -> str:
        shape = getattr(self.array, "shape", "?")
        return f"ImageCase({getattr(self.array, 'dtype', type(self.array).__name__)} {shape}: {self.expect!r})"


#: Shapes the tiny model takes → images in the batch.
GOOD_SHAPES = {(8, 8): 1, (8, 8, 1): 1, (1, 8, 8): 1, (3, 8, 8): 3, (1, 8, 8, 1): 1, (3, 8, 8, 1): 3, (5, 8, 8): 5}
UNIT = st.floats(0.0, 1.0, width=32)


def _good(draw) -> tuple[np.ndarray, np.ndarray]:
    shape = draw(st.sampled_from(sorted(GOOD_SHAPES)))
    if draw(st.booleans()):
        array = draw(hnp.arrays(np.uint8, shape))
        scaled = array.astype(np.float64) / 255.0
    else:
        dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
        array = draw(hnp.arrays(dtype, shape, elements=st.floats(0.0, 1.0, width=16 if dtype == np.float16 else 32)))
        scaled = array.astype(np.float64)
    return array, scaled.reshape(GOOD_SHAPES[shape], 8, 8, 1)


def _spoil_one_pixel(draw, value: float) -> np.ndarray:
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = draw(st.sampled_from(sorted(GOOD_SHAPES)))
    array = draw(hnp.arrays(dtype, shape, elements=UNIT))
    array.flat[draw(st.integers(0, array.size - 1))] = value
    return array


FAULTS = ("nan", "range", "integers", "complex", "ragged", "rank", "size", "colour", "channels", "empty")


@st.composite
def image_cases(draw, good_only: bool = False, faults: tuple[str, ...] = FAULTS) -> ImageCase:
    """Half good images (uint8, or floats in [0, 1], in every form the model takes), half one
    of the ``faults`` each, with the refusal it must get (``good_only``: good ones only)."""
    kind = "good" if good_only else draw(st.sampled_from(("good",) * len(faults) + faults))
    if kind == "good":
        array, expected = _good(draw)
        return ImageCase(array, OK, expected)
    if kind == "nan":
        bad = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
        return ImageCase(_spoil_one_pixel(draw, bad), refused(ValueError, r"images contain NaN or infinite pixels"))
    if kind == "range":
        bad = draw(st.one_of(st.floats(1.001, 1e6), st.floats(-1e6, -0.001)))  # out even as float32
        return ImageCase(_spoil_one_pixel(draw, bad), refused(ValueError, r"float pixels must lie in \[0, 1\]"))
    if kind == "integers":
        dtype = draw(st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint16, np.uint32, np.bool_]))
        array = draw(hnp.arrays(dtype, draw(st.sampled_from(sorted(GOOD_SHAPES)))))
        return ImageCase(array, refused(TypeError, r"integer pixels must be uint8"))
    if kind == "complex":
        array = np.zeros(draw(st.sampled_from(sorted(GOOD_SHAPES))), draw(st.sampled_from([np.complex64, np.str_])))
        return ImageCase(array, refused(TypeError, r"images must be a numeric array"))
    if kind == "ragged":
        return ImageCase([np.zeros((8, 8)), np.zeros((draw(st.integers(1, 7)), 8))],
                         refused(TypeError, r"images must be a numeric array .* ragged"))
    if kind == "rank":
        shape = draw(st.sampled_from([(), (8,), (0,), (1, 1, 8, 8, 1), (2, 3, 8, 8, 1)]))
        return ImageCase(np.zeros(shape, np.uint8), refused(ValueError, r"images must be one image or a batch"))
    if kind == "size":
        h, w = draw(st.tuples(st.integers(1, 12), st.integers(2, 12)).filter(lambda hw: hw != (8, 8)))
        n = draw(st.integers(1, 3))
        shape = draw(st.sampled_from([(h, w), (n, h, w), (n, h, w, 1)]))
        return ImageCase(draw(hnp.arrays(np.uint8, shape)), refused(ValueError, r"this model takes 8×8 images"))
    if kind == "colour":
        shape = draw(st.sampled_from([(8, 8, 3), (8, 8, 4), (2, 8, 8, 3), (1, 8, 8, 4)]))
        return ImageCase(np.zeros(shape, np.uint8), refused(ValueError, r"this model takes grey images"))
    if kind == "channels":
        shape = (draw(st.integers(1, 3)), 8, 8, draw(st.sampled_from([2, 5])))
        return ImageCase(np.zeros(shape, np.uint8), refused(ValueError, r"this model takes 1-channel images"))
    shape = draw(st.sampled_from([(0, 8, 8), (0, 8, 8, 1)]))  # empty
    return ImageCase(np.zeros(shape, draw(st.sampled_from([np.uint8, np.float32]))),
                     refused(ValueError, r"the batch of images is empty"))


@FAST
@given(image_cases())
def test_prepare_gives_the_batch_or_refuses_naming_the_images(case):
    batch = outcome(case.expect, lambda: tiny_model().prepare(case.array))
    if case.expect.accepted:
        assert batch.dtype == np.float32 and batch.shape == case.expected.shape
        np.testing.assert_allclose(batch, case.expected, rtol=1e-6, atol=1e-7)


def layer_cases() -> st.SearchStrategy:
    return st.one_of(st.none(), st.sampled_from(LAYERS), st.lists(st.sampled_from(LAYERS), min_size=1, max_size=4),
                     st.text(max_size=6), st.integers(-2, 9),
                     st.lists(st.sampled_from(["conv", "out", "nope"]), max_size=3),
                     st.lists(st.integers(), max_size=2), st.floats(allow_nan=True))


def layers_expect(layers: Any) -> tuple[Expect, tuple[str, ...]]:
    """What ``activations(images, layers)`` must do with ``layers``, and the layers it returns."""
    if layers is None:
        return OK, LAYERS
    names = [layers] if isinstance(layers, str) else layers
    if not isinstance(names, list):
        return refused(TypeError, r"layers must be a layer name, a list of names or None"), ()
    if not names:
        return refused(ValueError, r"no layers requested"), ()
    unknown = [name for name in names if name not in LAYERS]
    if unknown:
        return refused(ValueError, r"unknown layer"), ()
    return OK, tuple(dict.fromkeys(names))


BATCH_SIZES = st.one_of(st.integers(1, 300), st.integers(-3, 0), st.floats(allow_nan=True), st.booleans(), st.none(),
                        st.text(max_size=3))


@FAST
@given(one_spoiled({"case": image_cases(good_only=True), "layers": st.sampled_from(
           [None, "conv", ["out", "pool"], ["flat", "flat", "conv"]]), "batch_size": st.integers(1, 300)},
                   {"case": image_cases(), "layers": layer_cases(), "batch_size": BATCH_SIZES}))
def test_activations_and_predict_match_keras_or_refuse_naming_the_field(arguments):
    model, case = tiny_model(), arguments["case"]
    by_layers, names = layers_expect(arguments["layers"])
    by_batch = whole(arguments["batch_size"], "batch_size", 1)
    values = outcome(case.expect & by_layers & by_batch,
                     lambda: model.activations(case.array, arguments["layers"], batch_size=arguments["batch_size"]))
    if values is not None:
        truth = reference(case.expected.astype(np.float32))
        assert list(values) == list(names)
        for name in names:
            assert values[name].shape == truth[name].shape == (len(case.expected), *model.layer(name).output_shape)
            np.testing.assert_allclose(values[name], truth[name], rtol=1e-5, atol=1e-6, err_msg=name)
    probabilities = outcome(case.expect & by_batch,
                            lambda: model.predict(case.array, batch_size=arguments["batch_size"]))
    if probabilities is not None:
        np.testing.assert_allclose(probabilities, reference(case.expected.astype(np.float32))["out"],
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


CELL_INDICES = st.one_of(st.integers(-1, 7), st.integers(), st.floats(allow_nan=True), st.text(max_size=4), st.none(),
                         st.booleans(), st.integers(0, 5).map(np.int64))


@FAST
@given(st.sampled_from(["conv", "pool"]), CELL_INDICES, CELL_INDICES)
def test_a_cell_sees_its_receptive_field_or_is_refused_naming_row_or_col(layer, row, col):
    rows, cols, _ = GRIDS[layer]
    expect = whole(row, "cell row", low=None) & whole(col, "cell col", low=None)
    if expect.accepted and not (0 <= row < rows and 0 <= col < cols):
        expect = refused(ValueError, rf"cell \({row}, {col}\) is outside the {rows}×{cols} maps")
    region = outcome(expect, lambda: tiny_model().layer(layer).input_region(row, col))
    if region is not None:  # valid 3×3 conv: pixels row..row+2; 2×2 pooling on it: 2·row..2·row+3
        step, side = (1, 3) if layer == "conv" else (2, 4)
        assert region == (step * row, step * col, step * row + side, step * col + side)


# ---------------------------------------------------------------------- drawing
COORDINATES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-1e3, 1e3), st.floats(0, 56),
                        st.integers(-10**12, 10**12), st.integers(0, 55), st.none(), st.text(max_size=3))
#: Largest pointer coordinate and brush width the ink takes (cnn_widgets.drawing.ink.LIMIT, MAX_WIDTH).
LIMIT, MAX_WIDTH = 1e6, 1e4


def pointer_number(value: Any, name: str, limit: float) -> Expect:
    """A pointer coordinate or brush width: a real number (not a bool), finite, within ±limit."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return refused(TypeError, rf"^{name} must be a number")
    if not math.isfinite(float(value)) or abs(float(value)) > limit:
        return refused(ValueError, rf"^{name} must be a finite number within ±" + re.escape(f"{limit:g}"))
    return OK


def point_expect(x: Any, y: Any) -> Expect:
    return pointer_number(x, "x", LIMIT) & pointer_number(y, "y", LIMIT)


def width_expect(width: Any) -> Expect:
    expect = pointer_number(width, "brush width", MAX_WIDTH)
    if expect.accepted and not float(width) > 0:
        return refused(ValueError, r"^brush width must be > 0 pixels")
    return expect


@pytest.mark.parametrize("x, y, name", [(float("nan"), 5.0, "x"), (0.0, 7.5e36, "y"), (float("inf"), 5.0, "x"),
                                        (5.0, float("-inf"), "y"), (None, 5.0, "x"), (5.0, "7", "y")])
def test_ink_refuses_a_pointer_that_names_no_pixel_and_keeps_nothing(x, y, name):
    from cnn_widgets.drawing.ink import Ink

    ink = Ink(56, 56)
    ink.begin(10, 10, 6)
    before = ink.raster.copy()
    expect = point_expect(x, y)
    assert [r.pattern.startswith(f"^{name} ") for r in expect.refusals] == [True]  # the case is about `name`
    outcome(expect, lambda: ink.extend(x, y))
    np.testing.assert_array_equal(ink.raster, before)
    assert ink.strokes == [(6.0, [(10.0, 10.0)])]  # nothing kept


@FAST
@given(st.lists(st.tuples(COORDINATES, COORDINATES), min_size=1, max_size=6),
       st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(0.5, 40), st.integers(-3, 40)))
def test_ink_keeps_every_accepted_point_and_nothing_of_a_refused_one(points, width):
    from cnn_widgets.drawing.ink import Ink
    from cnn_widgets.drawing.preprocess import to_mnist

    ink = Ink(56, 56)
    ink.begin(10, 10, 6)  # a good stroke first: bad events must not spoil it
    for index, (x, y) in enumerate(points):
        strokes = [(w, list(path)) for w, path in ink.strokes]
        raster = ink.raster.copy()
        if index == 0:
            expect = width_expect(width) & point_expect(x, y)
            outcome(expect, lambda: ink.begin(x, y, width))
            accepted = expect.accepted
            if accepted:
                assert ink.strokes == [*strokes, (float(width), [(float(x), float(y))])]
        else:
            expect = point_expect(x, y)
            previous = outcome(expect, lambda: ink.extend(x, y))
            accepted = expect.accepted
            if accepted:
                assert previous == strokes[-1][1][-1]
                assert ink.strokes == [*strokes[:-1], (strokes[-1][0], [*strokes[-1][1], (float(x), float(y))])]
        if not accepted:  # refused: nothing kept
            assert ink.strokes == strokes
            np.testing.assert_array_equal(ink.raster, raster)
        else:  # the ink is where the pen is (a brush of at least a pixel)
            pen_width, path = ink.strokes[-1]
            px, py = path[-1]
            if pen_width >= 1 and 0 <= px < 56 and 0 <= py < 56:
                assert ink.raster[int(py), int(px)] > 0
            assert np.all(ink.raster >= raster)  # ink only adds
        assert np.all(np.isfinite(ink.raster)) and ink.raster.min() >= 0 and ink.raster.max() <= 1
    assert to_mnist(ink.raster).shape == (28, 28)
    while ink.undo():
        pass
    assert ink.strokes == [] and not ink.raster.any()


def to_mnist_expect(ink: np.ndarray) -> Expect:
    """``to_mnist``'s contract: a real numeric 2-D array, not empty, finite, within float32, ≥ 0
    (any of the faults a case has may be the one named)."""
    if not (np.issubdtype(ink.dtype, np.number) or ink.dtype == np.bool_) or \
            np.issubdtype(ink.dtype, np.complexfloating):
        return refused(TypeError, r"^ink must be a real numeric 2-D array")
    faults = []
    if ink.ndim != 2:
        faults.append(refused(ValueError, r"^ink must be a 2-D array"))
    if ink.size == 0:
        faults.append(refused(ValueError, r"^ink is an empty array"))
    if faults:
        return all_of(*faults)
    values = ink
    if np.issubdtype(ink.dtype, np.floating):
        values = ink[np.isfinite(ink)]
        if values.size < ink.size:
            faults.append(refused(ValueError, r"^ink contains NaN or infinite values"))
        if values.size and float(np.abs(values).max()) > F32_MAX:
            faults.append(refused(ValueError, r"^ink values are too large"))
    if values.size and values.min() < 0:
        faults.append(refused(ValueError, r"^ink must be ≥ 0"))
    return all_of(*faults)


@FAST
@given(st.one_of(hnp.arrays(st.sampled_from([np.float32, np.uint8]),
                            hnp.array_shapes(min_dims=2, max_dims=2, max_side=60)),
                 hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, max_side=60),
                            elements=st.floats(0, 1, width=32)),
                 hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=8),
                            elements=st.one_of(st.floats(0, 1), st.just(1e300), st.just(-0.5))),
                 hnp.arrays(st.sampled_from([np.float32, np.float64, np.uint8, np.int32, np.bool_, np.complex64]),
                            hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=40))))
def test_to_mnist_gives_a_28_by_28_image_of_the_ink_or_refuses_naming_the_ink(ink):
    from cnn_widgets.drawing.preprocess import to_mnist

    image = outcome(to_mnist_expect(ink), lambda: to_mnist(ink))
    if image is not None:
        assert image.shape == (28, 28) and image.dtype == np.float32
        assert np.all(np.isfinite(image)) and image.min() >= 0 and image.max() <= 1
        assert image.any() == bool(ink.astype(np.float32).max() > 0)  # ink in, ink out; none: a blank image


# ---------------------------------------------------------------------- pictures
VALUES = st.one_of(
    hnp.arrays(st.sampled_from([np.float32, np.float64]), hnp.array_shapes(min_dims=2, max_dims=3, max_side=6),
               elements=st.floats(-1e4, 1e4, width=32)),
    hnp.arrays(st.sampled_from([np.float32, np.float64]), hnp.array_shapes(min_dims=0, max_dims=4, max_side=6),
               elements=st.floats(allow_nan=True, allow_infinity=True, width=32)),
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4), elements=st.just(1e300)))
NUMBERS = st.one_of(st.floats(-10, 10), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True), st.none(),
                    st.text(max_size=2))
GAP = 255  #: the palette index of the lines between tiles


def numbers_expect(values: Any, name: str) -> Expect:
    """Numbers to draw (``finite_values``): numeric, finite and within float32's range."""
    if isinstance(values, (str, bytes)):
        return refused(TypeError, rf"^{name} must be numbers")
    try:
        wide = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return refused(TypeError, rf"^{name} must be numbers")
    if not np.all(np.isfinite(wide)):
        return refused(ValueError, rf"^{name} must be finite numbers")
    if wide.size and float(np.abs(wide).max()) > F32_MAX:
        return refused(ValueError, rf"^{name} must lie within")
    return OK


def levels(values: np.ndarray, low: Any, high: Any) -> np.ndarray:
    """Palette indices 0..254 of ``values`` between ``low`` and ``high`` (float32 inputs), clipped."""
    values, low, high = (np.asarray(v, np.float32).astype(np.float64) for v in (values, low, high))
    unit = np.clip((values - low) / np.maximum(high - low, 1e-12), 0.0, 1.0)
    return np.round(unit * 254).astype(np.uint8)


@FAST
@given(VALUES, NUMBERS, NUMBERS)
def test_scale_gives_the_palette_indices_or_refuses_naming_the_argument(values, low, high):
    from cnn_widgets.render import scale

    expect = numbers_expect(values, "values") & numbers_expect(low, "low") & numbers_expect(high, "high")
    if expect.accepted and np.float32(low) > np.float32(high):
        expect = refused(ValueError, r"^low must not exceed high")
    indices = outcome(expect, lambda: scale(values, low, high))
    if indices is not None:
        assert indices.dtype == np.uint8 and indices.shape == np.shape(values)
        np.testing.assert_array_equal(indices, levels(values, low, high))


def value_range_expect(value_range: Any) -> Expect:
    if value_range is None:
        return OK
    try:
        low, high = value_range
    except (TypeError, ValueError):
        return refused(ValueError, r"^value_range must be \(low, high\)")
    numbers_ok = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                     and math.isfinite(v) for v in (low, high))
    if not numbers_ok or low > high:
        return refused(ValueError, r"^value_range must be two finite numbers \(low, high\) with low ≤ high")
    return OK


MOSAIC_GOOD = {
    "maps": hnp.arrays(st.sampled_from([np.float32, np.float64]), st.tuples(*(st.integers(1, 6),) * 3),
                       elements=st.floats(-1e4, 1e4, width=32)),
    "normalize": st.sampled_from(["layer", "map"]),
    "value_range": st.one_of(st.none(), st.tuples(st.floats(-10, 0), st.floats(0, 10)), st.just((0.0, 0.0))),
    "columns": st.one_of(st.none(), st.integers(1, 7)),
    "gap": st.integers(0, 3),
}
MOSAIC_BAD = {
    "maps": VALUES,
    "normalize": st.one_of(st.sampled_from(["other", "", "Layer"]), st.none()),
    "value_range": st.one_of(st.tuples(NUMBERS, NUMBERS), NUMBERS, st.tuples(NUMBERS, NUMBERS, NUMBERS)),
    "columns": st.one_of(st.integers(-2, 0), st.floats(allow_nan=True), st.booleans()),
    "gap": st.one_of(st.integers(-3, -1), st.integers(65, 100), st.floats(allow_nan=True), st.booleans()),
}


def mosaic_expect(maps: Any, normalize: Any, value_range: Any, columns: Any, gap: Any) -> Expect:
    expect = numbers_expect(maps, "maps")
    if expect.accepted and (np.ndim(maps) != 3 or 0 in np.shape(maps)):
        expect = refused(ValueError, r"^maps must be a non-empty array \(height, width, count\)")
    if normalize not in ("layer", "map"):
        expect &= refused(ValueError, r"^normalize must be 'layer' or 'map'")
    expect &= whole(gap, "gap", 0, 64)
    if columns is not None:
        expect &= whole(columns, "columns", 1)
    return expect & value_range_expect(value_range)


@FAST
@given(one_spoiled(MOSAIC_GOOD, MOSAIC_BAD))
def test_mosaic_tiles_every_map_where_it_says_or_refuses_naming_the_argument(arguments):
    from cnn_widgets.render import mosaic, to_png

    maps = arguments["maps"]
    tiles = outcome(mosaic_expect(**arguments), lambda: mosaic(**arguments))
    if tiles is None:
        return
    h, w, count = maps.shape
    gap, columns = arguments["gap"], tiles.columns
    assert tiles.count == count and tiles.tile == (h, w) and tiles.gap == gap
    assert 1 <= columns <= count and (arguments["columns"] is None or columns == min(arguments["columns"], count))
    rows = math.ceil(count / columns)
    assert tiles.indices.shape == (rows * (h + gap) - gap, columns * (w + gap) - gap)
    values = np.asarray(maps, np.float32)
    if arguments["value_range"] is not None:
        low, high = (np.full(count, v) for v in arguments["value_range"])
    elif arguments["normalize"] == "layer":
        low, high = np.full(count, min(values.min(), 0.0)), np.full(count, values.max())
    else:
        low, high = np.minimum(values.min(axis=(0, 1)), 0.0), values.max(axis=(0, 1))
    covered = np.zeros(tiles.indices.shape, bool)
    for index in range(count):
        x, y = tiles.origin(index)
        assert (x, y) == ((index % columns) * (w + gap), (index // columns) * (h + gap))
        np.testing.assert_array_equal(tiles.indices[y:y + h, x:x + w],
                                      levels(values[..., index], low[index], high[index]))
        covered[y:y + h, x:x + w] = True
        assert tiles.locate(x, y) == (index, 0, 0) and tiles.locate(x + w - 0.5, y + h - 0.5) == (index, h - 1, w - 1)
    assert np.all(tiles.indices[~covered] == GAP)  # the rest is gap
    png = to_png(tiles.indices, "jet")
    from PIL import Image

    with Image.open(io.BytesIO(png)) as picture:
        np.testing.assert_array_equal(np.asarray(picture), tiles.indices)


POINTER = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-3, 15), st.integers(-10**12, 10**12),
                    st.integers(-2, 14), st.none(), st.text(max_size=3), st.booleans())


def pointer_expect(value: Any, name: str) -> Expect:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return refused(TypeError, rf"^pointer {name} must be a number")
    if not math.isfinite(value):
        return refused(ValueError, rf"^pointer {name} must be a finite number")
    return OK


@FAST
@given(POINTER, POINTER)
def test_locating_a_pointer_finds_the_map_under_it_or_refuses_naming_x_or_y(x, y):
    from cnn_widgets.render import mosaic

    tiles = mosaic(np.ones((3, 3, 5), np.float32), columns=3)  # 3×3 tiles, 1 px gaps: maps 0 1 2 / 3 4
    expect = pointer_expect(x, "x") & pointer_expect(y, "y")
    where = outcome(expect, lambda: tiles.locate(x, y))
    if expect.accepted:
        under = [(index, math.floor(y) - oy, math.floor(x) - ox) for index in range(5)
                 for ox, oy in [((index % 3) * 4, (index // 3) * 4)] if ox <= x < ox + 3 and oy <= y < oy + 3]
        assert where == (under[0] if under else None)


@FAST
@given(VALUES, NUMBERS)
def test_contrast_stretches_to_grey_levels_keeping_the_order_or_refuses(image, contrast):
    from cnn_widgets.render import stretch

    expect = numbers_expect(image, "image")
    if expect.accepted and np.size(image) == 0:
        expect = refused(ValueError, r"^the image is empty")
    expect &= finite(contrast, "contrast", 0, 20)
    grey = outcome(expect, lambda: stretch(image, contrast))
    if grey is None:
        return
    assert grey.shape == np.shape(image) and np.all(np.isfinite(grey)) and grey.min() >= 0 and grey.max() <= 1
    flat, shown = np.asarray(image, np.float32).ravel(), grey.ravel()
    if flat.max() > flat.min():  # darkest black, brightest white, the order of the values kept
        assert shown[flat.argmin()] == 0 and shown[flat.argmax()] == 1
        assert np.all(np.diff(shown[np.argsort(flat, kind="stable")]) >= 0)
    else:
        assert not shown.any()


COLORMAP_NAMES = ("grey", "jet", "diverging", "viridis")


def to_png_expect(indices: np.ndarray, colormap: Any) -> Expect:
    """Palette indices: integers (not booleans) 0–255 in a non-empty 2-D array; a colour map
    by name, one of :data:`COLORMAP_NAMES` (either fault may be named first)."""
    expect = OK
    if not isinstance(colormap, str):
        expect = refused(TypeError, r"^colormap and gap_colour must be names")
    elif colormap not in COLORMAP_NAMES:
        expect = refused(ValueError, r"^unknown colour map")
    if indices.dtype == np.bool_ or not np.issubdtype(indices.dtype, np.integer):
        return expect & refused(TypeError, r"^indices must be integer palette indices")
    if indices.ndim != 2 or 0 in indices.shape:
        return expect & refused(ValueError, r"^indices must be a non-empty 2-D array")
    if indices.dtype != np.uint8 and (indices.min() < 0 or indices.max() > 255):
        return expect & refused(ValueError, r"^palette indices must lie in 0–255")
    return expect


@FAST
@given(st.one_of(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=2, max_dims=2, max_side=9)),
                 hnp.arrays(np.int64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=5),
                            elements=st.integers(0, 255)),
                 hnp.arrays(st.sampled_from([np.uint8, np.int64, np.float32, np.bool_]),
                            hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))),
       st.one_of(st.sampled_from(COLORMAP_NAMES), st.just("nope"), st.integers(), st.none()))
def test_to_png_encodes_the_palette_indices_or_refuses_naming_the_argument(indices, colormap):
    from PIL import Image

    from cnn_widgets.render import to_png

    png = outcome(to_png_expect(indices, colormap), lambda: to_png(indices, colormap))
    if png is not None:
        with Image.open(io.BytesIO(png)) as picture:
            assert picture.format == "PNG" and picture.mode == "P"
            np.testing.assert_array_equal(np.asarray(picture), indices)


# ---------------------------------------------------------------------- data files
KEYS = ("x_train", "y_train", "x_test", "y_test")
MEMBERS = st.sampled_from([*KEYS, "extra"])
MEMBER_ARRAYS = st.one_of(
    hnp.arrays(st.sampled_from([np.uint8, np.int64, np.float32, np.bool_]),
               st.sampled_from([(3, 28, 28), (3,), (0, 28, 28), (0,), (2, 28), (), (3, 28, 28, 1)])),
    st.binary(max_size=40),  # a member that is not an .npy array at all
)


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


def archive_expect(path: Path, members: dict[str, Any], as_npy_names: bool, truncated: bool) -> Expect:
    """What ``load_mnist(path)`` must say of an archive of ``members`` (every message names the file)."""
    where = re.escape(str(path))
    if truncated:  # the zip's directory, at its end, is gone
        return refused(ValueError, rf"^{where} is not an \.npz archive")
    # a member that is no array is stored as NAME (seen as a member, not an .npy) or NAME.txt (not seen)
    present = [key for key in KEYS if key in members and (as_npy_names or not isinstance(members[key], bytes))]
    if len(present) < len(KEYS):
        return refused(ValueError, rf"^{where} lacks the arrays")
    if any(isinstance(members[key], bytes) for key in KEYS):
        return refused(ValueError, rf"^{where}: the members .* are not NumPy arrays")
    faults = []
    for split in ("train", "test"):
        x, y = members[f"x_{split}"], members[f"y_{split}"]
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
            faults.append(refused(ValueError, rf"^{where}: x_{split} must be uint8 images of shape \(N, 28, 28\)"))
            continue
        if not np.issubdtype(y.dtype, np.integer) or y.shape != (x.shape[0],):
            faults.append(refused(ValueError, rf"^{where}: y_{split} must be {x.shape[0]} integer labels"))
        elif x.shape[0] == 0:
            faults.append(refused(ValueError, rf"^{where}: the {split} split of MNIST is empty"))
        elif y.min() < 0 or y.max() > 9:
            faults.append(refused(ValueError, rf"^{where}: y_{split} labels must lie in 0\.\.9"))
    return all_of(*faults)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.one_of(npz_members(), st.dictionaries(MEMBERS, MEMBER_ARRAYS, max_size=5)),
       as_npy_names=st.booleans(), truncate=st.booleans())
def test_the_data_loader_reads_a_good_archive_and_names_the_file_and_member_of_a_bad_one(
        tmp_path, members, as_npy_names, truncate):
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
    truncated = truncate and len(members) % 2 == 1  # now and then a truncated archive
    if truncated:
        path.write_bytes(path.read_bytes()[: max(len(path.read_bytes()) // 2, 1)])
    loaded = outcome(archive_expect(path, members, as_npy_names, truncated), lambda: load_mnist(path))
    if loaded is not None:
        for (x, y), split in zip(loaded, ("train", "test")):
            np.testing.assert_array_equal(x, members[f"x_{split}"])
            assert y.dtype == np.uint8
            np.testing.assert_array_equal(y, members[f"y_{split}"])


# ---------------------------------------------------------------------- analyses
ARGUMENT = st.one_of(st.integers(-3, 200), st.floats(allow_nan=True, allow_infinity=True), st.none(),
                     st.booleans(), st.text(max_size=3))

OIP_GOOD = {"layer": st.sampled_from(["conv", "pool"]),
            "maps": st.one_of(st.none(), st.integers(0, 1), st.lists(st.integers(0, 1), min_size=1, max_size=2)),
            "steps": st.integers(1, 4), "step_size": st.floats(0.001, 1.0), "wavelength": st.floats(0.5, 8.0),
            "seed": st.integers(0, 2**31),
            "node": st.one_of(st.none(), st.tuples(st.integers(0, 2), st.integers(0, 2))),
            "octaves": st.integers(1, 3), "blur_every": st.integers(0, 2), "blur_sigma": st.floats(0.1, 2.0),
            "frame_every": st.integers(1, 3)}
OIP_BAD = {"layer": st.one_of(st.sampled_from(["out", "flat", "nope"]), st.integers()),
           "maps": st.one_of(st.integers(-2, 5), st.lists(st.integers(-2, 5), max_size=3), st.floats(allow_nan=True),
                             st.text(max_size=2), st.just([])),
           "steps": st.one_of(st.integers(-2, 0), ARGUMENT), "step_size": st.one_of(ARGUMENT, st.floats(9, 12)),
           "wavelength": st.one_of(ARGUMENT, st.floats(7, 9)),
           "seed": ARGUMENT,
           "node": st.one_of(st.tuples(ARGUMENT, ARGUMENT), st.tuples(st.integers(-9, 9), st.integers(-9, 9)),
                             ARGUMENT),
           "octaves": st.one_of(ARGUMENT, st.integers(7, 9)), "blur_every": ARGUMENT,
           "blur_sigma": st.one_of(ARGUMENT, st.floats(7, 9)), "frame_every": ARGUMENT}


def layer_expect(layer: Any, with_maps: bool = True) -> Expect:
    if not isinstance(layer, str) or layer not in LAYERS:
        return refused(ValueError, r"^unknown layer")
    if with_maps and layer not in GRIDS:
        return refused(ValueError, rf"^layer '{layer}' (\(\w+\) )?has no maps")
    return OK


def maps_expect(maps: Any, count: int) -> Expect:
    if maps is None:
        return OK
    values = [maps] if np.isscalar(maps) else maps
    if any(isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) for v in values):
        return refused(TypeError, r"^maps must be map indices")
    if not values:
        return refused(ValueError, r"^maps must name at least one map")
    if any(not 0 <= v < count for v in values):
        return refused(ValueError, r"^map -?\d+ is out of range")
    return OK


def node_expect(node: Any, layer: str) -> Expect:
    if node is None:
        return OK
    if isinstance(node, (str, bytes)) and len(node) == 2 or isinstance(node, tuple) and len(node) == 2:
        if any(isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) for v in node):
            return refused(TypeError, r"^node coordinates must be whole numbers")
        rows, cols, _ = GRIDS.get(layer, (0, 0, 0))
        if layer in GRIDS and not (0 <= node[0] < rows and 0 <= node[1] < cols):
            return refused(ValueError, rf"^node \({node[0]}, {node[1]}\) is outside the {rows}×{cols} maps")
        return OK
    return refused(TypeError, r"^node must be \(row, col\)")


def oip_expect(arguments: dict[str, Any]) -> Expect:
    """``optimize``'s settings as OIPSettings documents them; the tiny model's images are 8 px a side."""
    a = arguments
    expect = (layer_expect(a["layer"]) & whole(a["steps"], "steps", 1)
              & finite(a["step_size"], "step_size", 0.0, 10.0, above=True)
              & finite(a["wavelength"], "wavelength", 0.0, 8.0, above=True) & whole(a["octaves"], "octaves", 1, 8)
              & whole(a["seed"], "seed", 0) & whole(a["frame_every"], "frame_every", 1)
              & whole(a["blur_every"], "blur_every", 0) & finite(a["blur_sigma"], "blur_sigma", 0.0, 8.0, above=True))
    if a["layer"] in GRIDS:
        expect &= maps_expect(a["maps"], GRIDS[a["layer"]][2]) & node_expect(a["node"], a["layer"])
    return expect


@HALF
@given(one_spoiled(OIP_GOOD, OIP_BAD))
def test_oip_grows_one_pattern_per_map_or_refuses_naming_the_setting(arguments):
    from cnn_widgets.methods.oip.run import optimize

    arguments = dict(arguments)
    if isinstance(arguments["steps"], int) and not isinstance(arguments["steps"], bool):
        arguments["steps"] = min(arguments["steps"], 4)  # a few steps are enough to see a NaN
    expect = oip_expect(arguments)
    layer, maps = arguments.pop("layer"), arguments.pop("maps")
    result = outcome(expect, lambda: optimize(tiny_model(), layer, maps, **arguments))
    if result is None:
        return
    chosen = [0, 1] if maps is None else [maps] if np.isscalar(maps) else list(maps)
    assert result.layer == layer and result.maps.tolist() == chosen
    assert result.images.shape == (len(chosen), 8, 8, 1)
    assert np.all(np.isfinite(result.images)) and result.images.min() >= 0 and result.images.max() <= 1
    assert np.shape(result.history) == (arguments["steps"] + 1, len(chosen)) and np.all(np.isfinite(result.history))
    assert result.settings.steps == arguments["steps"] and result.settings.seed == arguments["seed"]
    node = arguments["node"]
    assert result.nodes.tolist() == [list(node) if node is not None else [-1, -1]] * len(chosen)


FCP_GOOD = {"labels": st.lists(st.integers(0, 2), min_size=4, max_size=12).filter(lambda v: len(set(v)) == 3),
            "classes": st.sampled_from([(0, 1), (1, 2), (2, 0)]), "layer": st.sampled_from(LAYERS),
            "batch_size": st.integers(1, 8)}
FCP_BAD = {"labels": st.one_of(st.lists(st.integers(-1, 4), max_size=12),
                               st.lists(st.floats(allow_nan=True), max_size=4), st.just([[0, 1], [1, 0]])),
           "classes": st.one_of(st.tuples(st.integers(-1, 4), st.integers(-1, 4)), st.tuples(ARGUMENT, ARGUMENT),
                                ARGUMENT, st.lists(st.integers(0, 2), max_size=3)),
           "layer": st.one_of(st.text(max_size=3), st.integers()), "batch_size": ARGUMENT}


def fcp_expect(arguments: dict[str, Any], count: int) -> Expect:
    """``compare_classes`` on ``count`` images: two different classes of the model, each
    with images, labels one class index per image, any layer, a whole batch size ≥ 1."""
    classes, labels = arguments["classes"], np.asarray(arguments["labels"])
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__len__") or len(classes) != 2 \
            or classes[0] == classes[1]:
        return refused(ValueError, r"^compare two different classes")
    expect = layer_expect(arguments["layer"], with_maps=False)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        expect &= refused(ValueError, r"^labels must be a 1-D array of class indices")
    elif labels.shape[0] != count:
        expect &= refused(ValueError, rf"^{count} images but {labels.shape[0]} labels")
    else:
        for label in classes:
            if isinstance(label, (bool, np.bool_)) or not isinstance(label, numbers.Integral) or not 0 <= label < 3:
                expect &= refused(ValueError, r"^unknown class")
            elif not np.any(labels == label):
                expect &= refused(ValueError, rf"^class {label} \(\w\) has no images here")
    batch_size = arguments["batch_size"]
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        expect &= refused(ValueError, r"^batch_size must be a whole number ≥ 1")
    return expect


@HALF
@given(one_spoiled(FCP_GOOD, FCP_BAD))
def test_fcp_compares_the_two_classes_means_or_refuses_naming_the_argument(arguments):
    from cnn_widgets.methods.fcp import compare_classes

    model, labels = tiny_model(), np.asarray(arguments["labels"])
    images = np.random.default_rng(0).random((max(len(labels), 1), 8, 8)).astype(np.float32)
    result = outcome(fcp_expect(arguments, len(images)),
                     lambda: compare_classes(model, images, arguments["labels"], arguments["layer"],
                                             arguments["classes"], batch_size=arguments["batch_size"]))
    if result is None:
        return
    values = reference(images[..., None])[arguments["layer"]]
    for pattern, label in ((result.a, arguments["classes"][0]), (result.b, arguments["classes"][1])):
        assert pattern.label == label and pattern.count == int(np.sum(labels == label))
        np.testing.assert_allclose(pattern.mean, values[labels == label].mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(result.difference, result.a.mean - result.b.mean, rtol=1e-6, atol=1e-7)
    assert np.all(np.isfinite(result.map_scores)) and np.all(np.isfinite(result.node_scores))


@FAST
@given(image_cases(faults=tuple(f for f in FAULTS if f != "ragged")))  # the image trait holds arrays
def test_the_live_model_follows_a_good_image_and_keeps_its_last_good_state_for_a_bad_one(case):
    from cnn_widgets.session import LiveModel

    live = LiveModel(tiny_model())
    live.image = np.full((8, 8), 0.5, np.float32)
    good = {name: value.copy() for name, value in live.activations.items()}
    assert live.error == "" and sorted(good) == sorted(LAYERS)
    live.image = case.array
    if case.expect.accepted:  # the first image of the batch is the one in front of the network
        assert live.error == ""
        truth = reference(case.expected[:1].astype(np.float32))
        for name in LAYERS:
            np.testing.assert_allclose(live.activations[name], truth[name][0], rtol=1e-5, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(live.probabilities, truth["out"][0], rtol=1e-5, atol=1e-6)
    else:  # the same message as the model's refusal, and the last good state stays
        assert any(re.search(r.pattern, live.error) for r in case.expect.refusals), live.error
        for name, value in good.items():
            np.testing.assert_array_equal(live.activations[name], value)


DECODE_GOOD = {"layer": st.sampled_from(["conv", "pool"]), "unpool": st.sampled_from(["nearest", "bilinear"]),
               "map_index": st.integers(0, 1), "k": st.integers(1, 8)}
DECODE_BAD = {"layer": st.sampled_from(["flat", "out", "nope"]), "unpool": st.text(max_size=3),
              "map_index": st.one_of(st.integers(-3, 5), ARGUMENT), "k": st.one_of(st.integers(-3, 0), ARGUMENT)}


@HALF
@given(one_spoiled(DECODE_GOOD, DECODE_BAD))
def test_filter_decoding_and_top_images_match_the_network_or_refuse_naming_the_argument(arguments):
    from cnn_widgets.methods.decode import decode_filters, top_images

    model, layer, map_index, k = tiny_model(), arguments["layer"], arguments["map_index"], arguments["k"]
    by_layer = layer_expect(layer)
    by_unpool = OK if arguments["unpool"] in ("nearest", "bilinear", "bicubic") else refused(
        ValueError, r"^unknown unpooling mode")
    decoded = outcome(by_layer & by_unpool, lambda: decode_filters(model, layer, arguments["unpool"]))
    if decoded is not None:
        side = FIELDS[layer]
        assert decoded.filters.shape == (2, side, side, 1) and np.all(np.isfinite(decoded.filters))
        if layer == "conv":  # one cell of a conv map stands for its kernel
            kernel = model.keras_model.get_layer("conv").kernel.numpy()
            np.testing.assert_allclose(decoded.filters[..., 0], np.moveaxis(kernel[:, :, 0, :], -1, 0), rtol=1e-6)
    images = np.random.default_rng(1).random((6, 8, 8)).astype(np.float32)
    by_map = OK if isinstance(map_index, numbers.Integral) and not isinstance(map_index, bool) and 0 <= map_index < 2 \
        else refused(ValueError, r"^map .* is out of range")
    by_k = OK if isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1 else refused(
        ValueError, r"^k must be a whole number ≥ 1")
    top = outcome(by_layer & by_map & by_k, lambda: top_images(model, layer, map_index, images, k=k))
    if top is not None:  # the k images whose strongest cell of the map is strongest, strongest first
        peaks = reference(images[..., None])[layer][..., map_index].max(axis=(1, 2))
        np.testing.assert_array_equal(top, np.argsort(-peaks, kind="stable")[:k])


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
