"""OIPExplorer driven as the ipywidgets-8 frontend drives it: set_state and button messages."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnn_widgets import CNNModel
from cnn_widgets.methods.oip import optimize, series
from cnn_widgets.session import Job, Session

from cnn_widgets.widgets import MapGrid, OIPExplorer

from ...conftest import make_tiny_cnn
from ..helpers import canvas_event


def click(button) -> None:
    button._handle_button_msg(None, {"event": "click"}, [])


@pytest.fixture
def tiny():
    return CNNModel(make_tiny_cnn(size=12, filters=4, seed=3))


@pytest.fixture
def session(tiny):
    with Session(tiny) as shared:
        yield shared


def test_run_grows_a_pattern_and_animates_it(tiny, wire):
    oip = OIPExplorer(tiny)  # a model as the first argument: a session of its own
    assert oip.layer == "conv" and oip.map_picker.max == 3
    from cnn_widgets.render import png_text  # before the first run: a picture saying what to do, no broken image

    assert png_text(oip.plain.value)["Title"].startswith("No pattern yet") and oip.enhanced.value
    oip.map_picker.set_state({"value": 3})
    oip.steps.set_state({"value": 20})
    oip.wavelength.set_state({"value": 3.0})
    oip.seed.set_state({"value": 2})
    click(oip.run_button)
    oip.session.worker.wait()
    result = oip.result
    assert result is not None and result.maps.tolist() == [3] and oip.map_index == 3
    expected = optimize(tiny, "conv", [3], steps=20, wavelength=3.0, seed=2, frame_every=1)
    np.testing.assert_allclose(result.images, expected.images, atol=1e-5)
    assert oip.plain.value and oip.enhanced.value and oip.plain.value != oip.enhanced.value
    assert oip.frame.max == len(result.frames) - 1 == oip.play.max
    assert oip.pictures.step_label.value == "<small>step 20 of 20</small>"  # the frame shown, by its step
    oip.frame.set_state({"value": 5})
    assert oip.pictures.step_label.value == f"<small>step {result.frame_steps[5]} of 20</small>"
    assert list(oip.curve.y) == pytest.approx(list(result.history[:, 0]))
    assert "objective" in oip.status and not oip.running and oip.cancel_button.disabled
    last = oip.plain.value
    oip.frame.set_state({"value": 0})  # what the Play widget does, frame by frame
    assert oip.plain.value != last
    before = oip.enhanced.value
    oip.contrast.set_state({"value": 3.0})
    assert oip.enhanced.value != before
    oip.close()


def test_atlas_mode_grows_every_map(session):
    oip = OIPExplorer(session)
    oip.mode_picker.set_state({"index": 1})
    assert oip.mode == "atlas" and oip.map_picker.disabled
    oip.steps.set_state({"value": 10})
    oip.run(wait=True)
    assert oip.result.maps.tolist() == [0, 1, 2, 3]
    assert "mean objective of 4 images" in oip.chart.title
    assert "atlas: the patterns of every map" in oip.what.value


def test_series_mode_shows_the_grid_with_objectives_and_consistency(tiny, session):
    oip = OIPExplorer(session)
    oip.mode_picker.set_state({"index": 2})
    assert oip.mode == "series" and oip.series_box.layout.display == ""
    oip.map_picker.set_state({"value": 2})
    oip.seeds.set_state({"value": 3})
    oip.wavelengths.set_state({"value": "2, 5"})
    oip.steps.set_state({"value": 10})
    oip.seed.set_state({"value": 4})
    click(oip.run_button)
    session.worker.wait()
    found = oip.series_result
    assert found.seeds == [4, 5, 6] and found.wavelengths == [2.0, 5.0] and found.images.shape == (2, 3, 12, 12, 1)
    direct = series(tiny, "conv", 2, seeds=[4, 5, 6], wavelengths=[2, 5], steps=10, frame_every=1)
    np.testing.assert_allclose(found.images, direct.images, atol=1e-5)
    table = oip.series_table.value
    assert table.count("<tr>") == 3 and "λ 2" in table and "λ 5" in table and "consistency" in table
    assert f"{found.consistency[0]:.2f}" in table
    first = bytes(oip.plain.value)
    click(oip.run_button)  # same seeds: the same pictures
    session.worker.wait()
    np.testing.assert_array_equal(oip.series_result.images, found.images)
    assert bytes(oip.plain.value) == first
    click(oip.png_button)
    assert 'download="oip_conv_2_series.png"' in oip.downloads.value


def test_blur_changes_the_series(session):
    oip = OIPExplorer(session)
    oip.mode_picker.set_state({"index": 2})
    oip.seeds.set_state({"value": 2})
    oip.wavelengths.set_state({"value": "1"})
    oip.steps.set_state({"value": 20})
    oip.run(wait=True)
    sharp = oip.series_result.images
    oip.blur_every.set_state({"value": 1})
    oip.blur_sigma.set_state({"value": 1.0})
    oip.run(wait=True)
    smooth = oip.series_result.images
    assert oip.series_result.result.settings.blur_every == 1

    def roughness(images):
        return float(np.abs(np.diff(images, axis=2)).mean())

    assert roughness(smooth) < 0.8 * roughness(sharp)


def test_nodes_mode_grows_every_position(session):
    oip = OIPExplorer(session)
    oip.mode_picker.set_state({"index": 3})
    assert oip.node_box.layout.display == "none"
    oip.map_picker.set_state({"value": 1})
    oip.steps.set_state({"value": 5})
    oip.run(wait=True)
    assert oip.sweep.positions.shape == (100, 2) and oip.sweep.map_index == 1
    assert len(oip.result.maps) == 100
    click(oip.gif_button)
    assert 'download="oip_conv_1_nodes.gif"' in oip.downloads.value


def test_cancel_keeps_what_grew_so_far(session):
    oip = OIPExplorer(session)
    oip.mode_picker.set_state({"index": 1})
    oip.steps.set_state({"value": 500})
    steps_seen = []

    def on_progress(change):  # the first picture update: press Cancel as a user would
        steps_seen.append(change["new"])
        if len(steps_seen) == 1:
            click(oip.cancel_button)

    oip.progress.observe(on_progress, "value")
    job = oip.run()
    assert oip.running and not oip.cancel_button.disabled
    job.wait()
    session.worker.wait()
    assert oip.result.cancelled and "cancelled after" in oip.status
    assert oip.result.frame_steps[-1] < 500 and not oip.running


def test_a_new_run_replaces_the_previous_one(session):
    oip = OIPExplorer(session)
    oip.steps.set_state({"value": 500})
    first = oip.run()
    oip.steps.set_state({"value": 5})
    second = oip.run()
    session.worker.wait()
    assert first.state == "cancelled" and second.state == "done"
    assert oip.result.frame_steps[-1] == 5


def test_node_picker_and_exports(session):
    oip = OIPExplorer(session)
    assert (oip.node_row.max, oip.node_col.max) == (9, 9)
    oip.use_node.set_state({"value": True})
    oip.node_row.set_state({"value": 4})
    oip.node_col.set_state({"value": 5})
    oip.map_picker.set_state({"value": 3})
    oip.steps.set_state({"value": 10})
    oip.run(wait=True)
    assert oip.result.node == (4, 5)
    click(oip.gif_button)
    assert 'download="oip_conv_3.gif"' in oip.downloads.value and "data:image/gif;base64," in oip.downloads.value
    click(oip.png_button)
    assert "data:image/png;base64," in oip.downloads.value


def test_follows_the_map_clicked_in_a_grid_until_closed(session):
    session.live.image = np.random.default_rng(0).random((12, 12)).astype(np.float32)
    grid = MapGrid(session, "pool")
    oip = OIPExplorer(session)
    oip.follow(grid)
    x, y = grid._mosaic.origin(2)
    canvas_event(grid.picture.overlay, "mouse_down", (x + 1) * grid.picture.zoom, (y + 1) * grid.picture.zoom)
    assert (oip.layer, oip.map_index) == ("pool", 2) and oip.layer_picker.value == "pool"
    assert oip.node_row.max == 4
    oip.close()
    x, y = grid._mosaic.origin(3)
    canvas_event(grid.picture.overlay, "mouse_down", (x + 1) * grid.picture.zoom, (y + 1) * grid.picture.zoom)
    assert grid.map_index == 3 and oip.map_index == 2  # a closed view follows nothing
    assert oip.run() is None and not session.closed  # the shared session lives on


def test_bad_traits_never_land_and_the_pickers_stay_in_step(session):
    oip = OIPExplorer(session)
    for name, value, message in (
            ("layer", "out", "layer 'out' has no maps to grow patterns for; choose one of: conv, pool"),
            ("map_index", 4, r"map_index 4 is out of range: conv has 4 maps \(0–3\)"),
            ("map_index", -1, "map_index -1 is out of range"),
            ("map_index", 2.0, r"'map_index' trait .* expected a whole number \(a map index\), not the float 2.0"),
            ("mode", "all", r"'mode' trait .* expected any of \['map', 'atlas', 'series', 'nodes'\], "
                            r"not the str 'all'")):
        before = getattr(oip, name)
        with pytest.raises(traitlets.TraitError, match=message):
            setattr(oip, name, value)
        assert getattr(oip, name) == before
    assert oip.layer_picker.value == oip.layer == "conv" and oip.map_picker.value == oip.map_index == 0
    oip.layer_picker.set_state({"index": 1})
    assert oip.layer == "pool" and oip.map_picker.max == 3
    oip.map_picker.set_state({"value": 3})
    assert oip.map_index == 3
    oip.seed.set_state({"value": -5})  # the bounded box keeps seeds ≥ 0
    assert oip.seed.value == 0


def test_a_map_the_trait_refuses_puts_the_picker_back_and_says_why(session):
    oip = OIPExplorer(session)
    oip.map_picker.max = 50  # a frontend out of step: the box lets 9 through, the trait does not
    oip.map_picker.set_state({"value": 9})
    assert oip.map_index == 0 and oip.map_picker.value == 0
    assert "map_index 9 is out of range: conv has 4 maps (0–3)" in oip.status and oip.status_line.error


def test_every_trait_says_what_it_is_and_the_mode_is_a_fixed_set(session):
    oip = OIPExplorer(session)
    own = ("layer", "map_index", "mode", "running", "result", "series_result", "sweep", "status")
    for name in own:
        assert oip.trait_metadata(name, "help"), f"{name} has no help"
    assert isinstance(oip.traits()["mode"], traitlets.Enum)
    assert list(oip.traits()["mode"].values) == ["map", "atlas", "series", "nodes"]
    assert not oip.has_trait("map")


def test_bad_settings_show_an_error_and_the_widget_stays_usable(session):
    oip = OIPExplorer(session)
    oip.wavelength.max = 50
    oip.wavelength.set_state({"value": 40.0})  # larger than the 12 px image
    oip.run(wait=True)
    session.worker.wait()
    assert "wavelength must be" in oip.status and oip.status_line.error
    assert not oip.running and oip.result is None
    oip.mode_picker.set_state({"index": 2})
    oip.wavelengths.set_state({"value": "2, <b>x</b>"})
    assert oip.run() is None
    assert "wavelengths must be numbers" in oip.status and "&lt;b&gt;" in oip.status_line.value
    oip.mode_picker.set_state({"index": 0})
    oip.wavelength.set_state({"value": 3.0})
    oip.steps.set_state({"value": 5})
    oip.run(wait=True)
    assert oip.result is not None and not oip.status_line.error


def test_top_test_images_come_from_the_session_data(tiny):
    rng = np.random.default_rng(0)
    images = (rng.random((40, 12, 12)) * 255).astype(np.uint8)
    with Session(tiny, data=(images, rng.integers(0, 3, 40))) as shared:
        oip = OIPExplorer(shared)
        assert "40 test images" in oip.what.value
        oip.map_picker.set_state({"value": 1})
        oip.steps.set_state({"value": 5})
        oip.run(wait=True)
        shared.worker.wait()
        assert oip.top.value and "the 8 of 40 test images" in oip.top_title.value
        assert oip.result.silent is not None  # the data also tells which maps never fire
    with Session(tiny) as bare:
        oip = OIPExplorer(bare)
        assert "No test images" in oip.what.value
        oip.steps.set_state({"value": 5})
        oip.run(wait=True)
        bare.worker.wait()
        assert "no top images" in oip.top_title.value and oip.result.silent is None


def test_after_retraining_a_run_uses_the_new_standardisation(tiny, session):
    oip = OIPExplorer(session)
    oip.steps.set_state({"value": 40})
    oip.step_size.set_state({"value": 0.5})
    rng = np.random.default_rng(0)
    tiny.train((rng.random((64, 12, 12)) * 0.3).astype(np.float32), rng.integers(0, 3, 64), epochs=1,
               batch_size=32, standardize=True, shift=0)
    oip.run(wait=True)
    assert oip.result.images.min() == 0 and oip.result.images.max() == 1
    values = tiny.activations(oip.result.images, "conv")["conv"].mean(axis=(1, 2))[0, 0]
    assert values == pytest.approx(oip.result.history[-1][0], rel=1e-4)


def test_a_layer_without_maps_is_refused(tiny):
    with pytest.raises(ValueError, match="has no maps"):
        OIPExplorer(tiny, "out")


_SENT = st.one_of(st.none(), st.booleans(), st.integers(-50, 50), st.floats(allow_nan=True, allow_infinity=True),
                  st.text(max_size=4))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picker=st.sampled_from(["map_picker", "layer_picker", "mode_picker", "seed", "wavelength", "contrast",
                               "blur_sigma", "wavelengths"]),
       key=st.sampled_from(["value", "index"]), value=_SENT)
def test_fuzzed_frontend_messages_never_corrupt_the_state(session, picker, key, value):
    oip = _fuzz_target(session)
    try:
        getattr(oip, picker).set_state({key: value})
    except (traitlets.TraitError, TypeError, ValueError, KeyError, IndexError):
        pass  # refused, as the comm layer would report it
    assert oip.layer in session.model.spatial_layers and oip.layer_picker.value == oip.layer
    count = int(session.model.layer(oip.layer).output_shape[-1])
    assert 0 <= oip.map_index < count and oip.map_picker.value == oip.map_index
    assert oip.mode in ("map", "atlas", "series", "nodes")
    oip.contrast.value = 1.0
    oip._show_frame(0)  # still draws (or says why)


_TARGETS: dict = {}


def _fuzz_target(session):
    if session not in _TARGETS:
        _TARGETS.clear()
        oip = OIPExplorer(session)
        oip.steps.value = 5
        oip.run(wait=True)
        _TARGETS[session] = oip
    return _TARGETS[session]


def test_a_slider_sent_nan_or_inf_goes_back_and_says_why(session):
    oip = OIPExplorer(session)
    for slider in (oip.wavelength, oip.blur_sigma, oip.contrast):
        before = slider.value
        slider.set_state({"value": float("nan")})  # ipywidgets' FloatSlider itself keeps NaN
        assert slider.value == before and f"ignored {slider.description}" in oip.status and oip.status_line.error
    oip.blur_sigma.set_state({"value": float("inf")})
    assert oip.blur_sigma.value == oip.blur_sigma.max  # ±inf: the slider's own clamp
    oip.steps.set_state({"value": 5})
    oip.run(wait=True)
    assert oip.result is not None and not oip.status_line.error  # the settings were never NaN


def _count_copies(model, monkeypatch) -> list[int]:
    """Copies of the images out of the compiled loop (each goes back to the pixel scale once)."""
    copies = [0]
    original = model.unstandardize

    def counted(batch):
        copies[0] += 1
        return original(batch)

    monkeypatch.setattr(model, "unstandardize", counted)
    return copies


def test_an_atlas_run_copies_the_images_only_for_its_frames_and_reports_to_its_job(session, monkeypatch):
    oip = OIPExplorer(session)
    oip.mode_picker.set_state({"index": 1})
    oip.steps.set_state({"value": 100})
    copies = _count_copies(session.model, monkeypatch)
    reports = []
    original = Job.report

    def report(job, progress=None, message=None):
        if job.name.startswith("OIP"):
            reports.append((progress, message))
        return original(job, progress, message)

    monkeypatch.setattr(Job, "report", report)
    job = oip.run(wait=True)
    session.worker.wait()
    result = oip.result
    assert result.frame_steps == list(range(0, 101, 2))  # about 40 frames: every 2nd step
    assert copies[0] == len(result.frames) == 51  # the live pictures share the frames' copies
    assert reports[-1] == (1.0, "step 100 of 100") and job.progress == 1.0
    assert 1 <= len(reports) <= 100 and reports[0][1] == "step 1 of 100"
    assert oip.progress.value == 100 and oip.progress.max == 100


def test_live_pictures_are_throttled(session, monkeypatch):
    from cnn_widgets.methods.oip import ThrottledPreview
    from cnn_widgets.widgets.panels import oip_explorer

    drawn = []

    class Frozen(ThrottledPreview):  # no time passes: only the first stretch is drawn
        def __init__(self, draw, per_second, share):
            assert per_second == 10 and share == 0.1
            super().__init__(lambda step, images: (drawn.append(step), draw(step, images)), per_second, share,
                             clock=lambda: 0.0)

    monkeypatch.setattr(oip_explorer, "ThrottledPreview", Frozen)
    oip = OIPExplorer(session)
    oip.mode_picker.set_state({"index": 1})
    oip.steps.set_state({"value": 40})
    oip.run(wait=True)
    session.worker.wait()
    assert drawn == [1] and oip.result.frame_steps[-1] == 40  # frames every step, one live picture
