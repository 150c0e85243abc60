"""OIPSettings is checked once; every bad argument of a run is refused before any work, with
its kind of error and a message that names it."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnn_widgets.methods.oip import OIPSettings, node_sweep, optimize, series


def test_settings_are_frozen_plain_values_with_the_documented_defaults():
    defaults = OIPSettings()
    assert defaults.as_dict() == dict(steps=100, step_size=0.05, wavelength=7.0, octaves=1, seed=0, frame_every=5,
                                      blur_every=0, blur_sigma=0.5, rescue_tries=6, restandardize=False)
    made = OIPSettings(steps=np.int64(20), wavelength=3, restandardize=np.bool_(True))
    assert type(made.steps) is int and type(made.wavelength) is float and made.restandardize is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.steps = 5
    assert made.replace(seed=4) == OIPSettings(steps=20, wavelength=3.0, restandardize=True, seed=4)
    assert made.replace() is made


@pytest.mark.parametrize(
    "changes, error, message",
    [
        (dict(steps=0), ValueError, "steps must be a whole number ≥ 1; got 0"),
        (dict(steps=2.5), TypeError, "steps must be a whole number ≥ 1; got 2.5"),
        (dict(steps=True), TypeError, "steps must be a whole number"),
        (dict(step_size=0), ValueError, "step_size must be a finite number > 0"),
        (dict(step_size=float("nan")), ValueError, "step_size must be a finite number > 0"),
        (dict(step_size=3.4e38), ValueError, r"step_size must be a finite number in \(0, 10\]"),
        (dict(wavelength=0), ValueError, "wavelength must be a finite number > 0"),
        (dict(wavelength="7"), TypeError, "wavelength must be a finite number > 0"),
        (dict(octaves=0), ValueError, "octaves must be a whole number in 1–8"),
        (dict(octaves=9), ValueError, "octaves must be a whole number in 1–8"),
        (dict(seed=-1), ValueError, "seed must be a whole number ≥ 0; got -1"),
        (dict(seed=1.5), TypeError, "seed must be a whole number ≥ 0"),
        (dict(frame_every=0), ValueError, "frame_every must be a whole number ≥ 1"),
        (dict(blur_every=-1), ValueError, "blur_every must be a whole number ≥ 0"),
        (dict(blur_sigma=0), ValueError, "blur_sigma must be a finite number > 0"),
        (dict(blur_sigma=float("inf")), ValueError, "blur_sigma must be a finite number > 0"),
        (dict(rescue_tries=21), ValueError, "rescue_tries must be a whole number in 0–20"),
        (dict(restandardize=1), TypeError, "restandardize must be True or False"),
        (dict(restandardize="yes"), TypeError, "restandardize must be True or False"),
    ],
)
def test_bad_settings_are_refused_when_made(changes, error, message):
    with pytest.raises(error, match=message):
        OIPSettings(**changes)
    with pytest.raises(error, match=message):
        OIPSettings().replace(**changes)


def test_unknown_settings_are_refused_by_name():
    with pytest.raises(TypeError, match="unknown OIP setting 'setps'; the settings are: steps, step_size"):
        OIPSettings().replace(setps=3)
    with pytest.raises(TypeError, match=r"unknown OIP setting 'data' \(the real images .* images=\)"):
        OIPSettings().replace(data=np.zeros((2, 12, 12)))


def test_settings_larger_than_the_image_are_refused_for_that_model(tiny):
    with pytest.raises(ValueError, match=r"wavelength must be > 0 and at most the image size \(12 px\)"):
        optimize(tiny, "conv", steps=2, wavelength=13)
    with pytest.raises(ValueError, match=r"blur_sigma must be > 0 and at most the image size \(12 px\)"):
        optimize(tiny, "conv", steps=2, settings=OIPSettings(blur_sigma=1e38, blur_every=1))
    assert OIPSettings(wavelength=13).wavelength == 13.0  # fine for a larger image


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(layer="nope"), ValueError, "unknown layer 'nope'"),
        (dict(layer="out"), ValueError, "has no maps"),
        (dict(maps=[4]), ValueError, r"map 4 is out of range: conv has 4 maps \(0–3\)"),
        (dict(maps=[-1]), ValueError, "map -1 is out of range"),
        (dict(maps=[]), ValueError, "maps must name at least one map"),
        (dict(maps=[1.0]), TypeError, "maps must be map indices"),
        (dict(maps=[True]), TypeError, "maps must be map indices"),
        (dict(maps="0"), TypeError, "maps must be map indices"),
        (dict(node=(10, 0)), ValueError, r"node \(10, 0\) is outside the 10×10 maps"),
        (dict(node=(1.5, 2)), TypeError, "node coordinates must be whole numbers"),
        (dict(node=(-1, 2)), ValueError, r"node \(-1, 2\) is outside"),
        (dict(node=5), TypeError, r"node must be \(row, col\)"),
        (dict(steps=0), ValueError, "steps must be a whole number ≥ 1"),
        (dict(steps=2.5), TypeError, "steps must be a whole number ≥ 1"),
        (dict(seed=1.5), TypeError, "seed must be a whole number ≥ 0"),
        (dict(images=np.zeros((2, 5, 5))), ValueError, "this model takes 12×12 images"),
        (dict(images="abc"), TypeError, "images must be a batch of images"),
        (dict(images=np.zeros((0, 12, 12))), ValueError, "images must be a batch of images"),
        (dict(data=np.zeros((2, 12, 12))), TypeError, "unknown OIP setting 'data'"),
        (dict(setps=5), TypeError, "unknown OIP setting 'setps'"),
        (dict(settings=5), TypeError, "settings must be an OIPSettings"),
        (dict(callbacks=5), TypeError, "callbacks must be OIPCallback objects"),
        (dict(cancel="yes"), TypeError, "cancel must be a threading.Event"),
    ],
)
def test_bad_arguments_get_clear_errors(tiny, kwargs, error, message):
    arguments = dict(layer="conv", maps=None, steps=3)
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        optimize(tiny, arguments.pop("layer"), arguments.pop("maps"), **arguments)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(seeds=[]), ValueError, "seeds must not be empty"),
        (dict(seeds=0), ValueError, r"seeds \(a count\) must be a whole number ≥ 1"),
        (dict(seeds=[-2]), ValueError, "each seed must be a whole number ≥ 0"),
        (dict(seeds="ab"), TypeError, "seeds must be a count"),
        (dict(wavelengths=[]), ValueError, "wavelengths must not be empty"),
        (dict(wavelengths=[3, float("nan")]), ValueError, "each wavelength must be a finite number"),
        (dict(wavelengths=[30]), ValueError, "at most the image size"),
        (dict(map_index=1.0), TypeError, "map_index must be a map index"),
        (dict(map_index=4), ValueError, "map 4 is out of range"),
        (dict(seed=3), TypeError, "series takes seeds= and wavelengths="),
        (dict(wavelength=3), TypeError, "series takes seeds= and wavelengths="),
    ],
)
def test_bad_series_arguments_get_clear_errors(tiny, kwargs, error, message):
    arguments = dict(map_index=1, steps=2)
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        series(tiny, "conv", arguments.pop("map_index"), **arguments)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(positions=5), TypeError, "positions must be a list of"),
        (dict(positions=[]), ValueError, "positions must not be empty"),
        (dict(positions=[(0.5, 1)]), TypeError, "node coordinates must be whole numbers"),
        (dict(positions=[(99, 0)]), ValueError, r"node \(99, 0\) is outside"),
        (dict(map_index=-1), ValueError, "map -1 is out of range"),
    ],
)
def test_bad_node_sweep_arguments_get_clear_errors(tiny, kwargs, error, message):
    arguments = dict(map_index=3, steps=2)
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        node_sweep(tiny, "conv", arguments.pop("map_index"), **arguments)


_ODD = st.one_of(st.none(), st.booleans(), st.integers(-(10 ** 6), 10 ** 6),
                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3),
                 st.tuples(st.integers(-3, 14), st.one_of(st.integers(-3, 14), st.floats(allow_nan=True))))

#: Per argument: is a value allowed (the documented range)? The test checks the run against it.
_ALLOWED = {
    "maps": lambda v: v is None or all(isinstance(m, int) and not isinstance(m, bool) and 0 <= m < 4
                                       for m in (v if isinstance(v, tuple) else [v])),
    "node": lambda v: v is None or (isinstance(v, tuple) and all(isinstance(c, int) and not isinstance(c, bool)
                                                                  and 0 <= c < 10 for c in v)),
    "seed": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "steps": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
    "frame_every": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
    "blur_every": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "octaves": lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 8,
    "rescue_tries": lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 20,
    "step_size": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 10,
    "wavelength": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 12,
    "blur_sigma": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 12,
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(_ALLOWED)), value=_ODD)
def test_fuzzed_arguments_run_when_allowed_and_are_refused_by_name_when_not(tiny, name, value):
    if name in ("steps", "frame_every") and isinstance(value, int) and not isinstance(value, bool) and value > 20:
        value = 20 + value % 7  # long runs are valid, only slow
    if name == "octaves" and isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 8:
        value = min(value, 3)
    arguments = dict(maps=[1], steps=2)
    arguments[name] = value
    maps = arguments.pop("maps")
    if name == "maps":
        maps = value
    if _ALLOWED[name](value):  # accepted: finite images in the pixel box, the objective reproduced
        result = optimize(tiny, "conv", maps, **arguments)
        assert np.all(np.isfinite(result.images)) and 0 <= result.images.min() and result.images.max() <= 1
        assert np.all(np.isfinite(result.history)) and len(result.history) == result.settings.steps + 1
    else:  # refused: TypeError for the wrong kind, ValueError out of range; the message names it
        with pytest.raises((TypeError, ValueError)) as refused:
            optimize(tiny, "conv", maps, **arguments)
        text = str(refused.value)
        named = "node" if name == "node" else "map" if name == "maps" else name
        assert named in text, text
        wrong_kind = isinstance(value, (bool, str, type(None), tuple)) or (
            isinstance(value, float) and name not in ("step_size", "wavelength", "blur_sigma"))
        if name not in ("maps", "node"):
            assert isinstance(refused.value, TypeError if wrong_kind else ValueError), (value, refused.value)


def test_a_good_settings_object_is_reused_across_the_three_runs(tiny):
    shared = OIPSettings(steps=4, seed=1, wavelength=3)
    atlas = optimize(tiny, "conv", settings=shared)
    grid = series(tiny, "conv", 1, seeds=[1], wavelengths=[3], baseline=False, settings=shared)
    nodes = node_sweep(tiny, "conv", 1, positions=[(2, 2)], settings=shared)
    assert atlas.settings == grid.result.settings == nodes.result.settings == shared
    np.testing.assert_allclose(grid.images[0, 0], atlas.images[1], atol=1e-5)
    assert math.isfinite(float(nodes.objectives[0]))
