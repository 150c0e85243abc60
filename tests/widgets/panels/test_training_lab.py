"""TrainingLab driven like the frontend: button clicks, text fields, the snapshot slider."""

from __future__ import annotations

import base64
import io
import re
import threading

import numpy as np
import pytest
import traitlets

from cnn_widgets import CNNModel
from cnn_widgets.render import to_png
from cnn_widgets.session import Session

from cnn_widgets.training import SnapshotPlan

from cnn_widgets.widgets import TrainingLab

from ...conftest import make_tiny_cnn
from ...conftest import stripes as _stripes


def click(button) -> None:
    button._handle_button_msg(None, {"event": "click"}, [])


def _lab(**settings) -> TrainingLab:
    model = CNNModel(make_tiny_cnn(filters=4))
    plan = SnapshotPlan.for_model(model, oip_steps=3)
    settings = {"epochs": 2, "batch_size": 32, "learning_rate": 0.1, **settings}
    return TrainingLab(Session(model, data=False), data=_stripes(320), plan=plan, fresh=True, **settings)


def test_train_shows_curves_progress_and_a_replay_of_every_snapshot(wire):
    lab = _lab()
    click(lab.train_button)
    assert lab.running and lab.train_button.disabled and not lab.cancel_button.disabled
    assert lab.wait(120)
    assert lab.session.worker.wait(120)
    run = lab.last_run
    assert not lab.running and not run.cancelled and lab.progress.value == 1.0
    steps = -(-256 // 32)
    assert len(lab.loss_train.x) == len(lab.accuracy_train.x) == 2 * steps  # every batch, flushed at the end
    np.testing.assert_allclose(lab.loss_val.x, [1.0, 2.0])
    np.testing.assert_allclose(lab.loss_val.y, run.history["val_loss"], rtol=1e-6)
    np.testing.assert_allclose(lab.accuracy_val.y, run.history["val_accuracy"], rtol=1e-6)
    assert lab.replay is run.replay and len(lab.replay) == len(SnapshotPlan().points(steps, 2))
    assert lab.frame_slider.max == lab.play.max == len(lab.replay) - 1 == lab.frame
    assert "trained 2 epoch(s)" in lab.status and "snapshots" in lab.status
    assert "held out for validation" in lab.data_label.value
    # scrubbing: the pictures are the recorded frame
    for index in (0, 2, len(lab.replay) - 1):
        lab.frame_slider.set_state({"value": index})
        assert lab.frame == index
        for kind in lab.replay.kinds():
            assert lab.pictures[kind].value == to_png(*lab.replay.picture(kind, index))
        assert lab.replay.frames[index].label in lab.frame_label.value
    assert lab.replay.picture("kernels", 0)[0].tolist() != lab.replay.picture("kernels", -1)[0].tolist()


def test_bad_settings_show_an_error_and_never_land():
    lab = _lab()
    for name, bad, message in (("learning_rate", -1.0, "learning rate must be a number in (0, 10]"),
                               ("momentum", 1.5, "momentum must be a number in [0, 1)"),
                               ("l2", -0.1, "L2 must be a number in [0, 1]"),
                               ("epochs", 0, "epochs must be an integer 1–1000"),
                               ("batch_size", -4, "batch size must be an integer 1–65536"),
                               ("seed", -1, "seed must be an integer ≥ 0")):
        before = getattr(lab, name)
        lab.controls[name].set_state({"value": bad})
        assert getattr(lab, name) == before and lab.controls[name].value == before
        assert lab.status_line.error and message in lab.status
    lab.controls["learning_rate"].set_state({"value": 0.02})
    assert lab.learning_rate == 0.02
    lab.frame_slider.set_state({"value": 5})  # no replay yet
    assert lab.frame == 0
    with pytest.raises(traitlets.TraitError, match="snapshot must be 0–0"):
        lab.frame = 3
    with pytest.raises(TypeError, match="unknown setting 'rate'"):
        _lab(rate=0.1)
    # still usable: a run after the errors works
    lab.controls["epochs"].set_state({"value": 1})
    lab.train(wait=True)
    assert lab.last_run is not None and lab.last_run.settings["learning_rate"] == 0.02


def _when_first_batch_done(lab: TrainingLab, action) -> threading.Event:
    """Run ``action`` on the worker right after the first batch's report (like a click then)."""
    done = threading.Event()

    def changed(change):
        if change["new"] > 0 and not done.is_set():
            done.set()
            action()

    lab.progress.observe(changed, "value")
    return done


def test_cancel_stops_within_one_batch_and_keeps_the_weights():
    lab = _lab(epochs=3, batch_size=16)
    _when_first_batch_done(lab, lambda: click(lab.cancel_button))
    click(lab.train_button)
    assert lab.wait(120)
    run = lab.last_run
    assert run.cancelled and run.batches == 1
    assert len(lab.loss_train.x) == 1
    assert lab.replay.frames[-1].step == 1
    np.testing.assert_array_equal(lab.model.keras_model.get_layer("conv").get_weights()[0],
                                  lab.replay.frames[-1].kernels)
    assert "cancelled at epoch 1, batch 1/16" in lab.status
    assert not lab.running and not lab.train_button.disabled and lab.cancel_button.disabled


def test_pause_holds_after_the_current_batch_until_cancel_or_resume():
    lab = _lab(epochs=1)
    paused = _when_first_batch_done(lab, lambda: click(lab.pause_button))
    click(lab.train_button)
    assert paused.wait(120)
    assert lab.paused and lab.pause_button.description == "Resume" and lab.running
    click(lab.cancel_button)  # ends the wait
    assert lab.wait(120)
    assert lab.last_run.batches == 1 and not lab.paused
    # resume goes on to the end
    lab2 = _lab(epochs=1)
    held = _when_first_batch_done(lab2, lambda: click(lab2.pause_button))
    click(lab2.train_button)
    assert held.wait(120)
    assert lab2.paused
    click(lab2.pause_button)  # Resume
    assert lab2.wait(120)
    assert not lab2.last_run.cancelled and lab2.last_run.batches == 8


def test_gif_export_is_a_data_uri_with_one_frame_per_snapshot():
    from PIL import Image

    lab = _lab(epochs=1)
    click(lab.gif_button)  # disabled in the page; a call without snapshots says so
    assert lab.downloads.value == ""
    lab.train(wait=True)
    lab.gif_picker.set_state({"index": list(dict(lab.gif_picker.options).values()).index("decoded")})
    assert lab.gif_kind == "decoded"
    click(lab.gif_button)
    match = re.search(r'href="data:image/gif;base64,([^"]+)"', lab.downloads.value)
    data = base64.b64decode(match.group(1))
    assert Image.open(io.BytesIO(data)).n_frames == len(lab.replay)
    assert 'download="training_decoded.gif"' in lab.downloads.value


def test_without_a_training_split_the_lab_says_what_it_trained_on(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_WIDGETS_MNIST", raising=False)
    lab = TrainingLab(epochs=1, images=256, batch_size=64, path=tmp_path / "missing.npz")
    assert lab.fresh and lab.model.keras_model.name == "mnist_cnn"
    lab.train(wait=True)
    assert lab.last_run.data.fallback
    assert "trained on the 10,000 MNIST test images — no training split available" in lab.data_label.value
    assert lab.replay.frames[-1].confusion.sum() == lab.plan.probe == 500  # of the 1,000 held out
    lab.close()
    assert lab.session.closed


def test_training_updates_the_shared_drawing_and_close_cancels(wire):
    model = CNNModel(make_tiny_cnn(filters=4))
    session = Session(model, data=False)
    session.live.image = _stripes(1)[0][0]
    before = session.live.activations["conv"].copy()
    lab = TrainingLab(session, data=_stripes(320), plan=SnapshotPlan.for_model(model, oip_steps=3),
                      fresh=True, epochs=1, batch_size=32)
    lab.train(wait=True)
    assert session.worker.wait(120)
    assert not np.array_equal(session.live.activations["conv"], before)  # the views follow the new weights
    lab.close()
    mark = wire.mark()
    lab._say("after close")
    assert not session.closed  # a shared session outlives the view
    assert not [m for m in wire.since(mark) if m.comm_id == lab.model_id]


def test_history_panel_shows_the_embedded_models_recorded_training(mnist_model):
    import json
    from importlib import resources

    from cnn_widgets.widgets.panels.training_history import TrainingHistory

    recorded = json.loads((resources.files("cnn_widgets") / "assets" / "mnist_cnn.json").read_text())
    panel = TrainingHistory(mnist_model)
    np.testing.assert_allclose(panel.loss.y, recorded["history"]["loss"])
    np.testing.assert_allclose(panel.accuracy.y, recorded["history"]["accuracy"])
    np.testing.assert_allclose(panel.loss.x, np.arange(1, 13))
    assert "12 epochs on 60,000 MNIST training images" in panel.recipe.value
    assert "test accuracy 99.48 % on 10,000 test images" in panel.recipe.value
    # the legend sits under the plot (in the plot it covered the curves): no mark draws one inside
    assert not any(mark.display_legend for mark in panel.figure.marks)
    assert "● loss" in panel.legend.value and "validation accuracy" in panel.legend.value
    assert panel.children.index(panel.legend) == panel.children.index(panel.figure) + 1
    panel.close()


def test_history_panel_follows_a_training_run_and_says_when_there_is_none():
    from cnn_widgets.widgets.panels.training_history import TrainingHistory

    lab = _lab(epochs=2)
    panel = TrainingHistory(lab.session)
    assert "no training history is recorded" in panel.recipe.value and panel.figure.layout.display == "none"
    assert panel.legend.layout.display == "none"  # no curves, no legend
    panel.follow(lab)
    lab.train(wait=True)
    np.testing.assert_allclose(panel.loss.y, lab.last_run.history["loss"], rtol=1e-4)
    np.testing.assert_allclose(panel.validation.y, lab.last_run.history["val_accuracy"], rtol=1e-4)
    assert "2 epochs on 256 training images" in panel.recipe.value
    assert "last validation accuracy" in panel.recipe.value


def test_what_the_snapshots_record_is_chosen_in_the_widget():
    lab = _lab(epochs=1)
    options = list(lab.plan_controls["decode_layer"].options)
    lab.plan_controls["decode_layer"].set_state({"index": options.index("pool")})
    assert lab.plan.decode_layer == "pool"
    lab.plan_controls["class_b"].set_state({"index": 2})
    assert lab.plan.classes == (0, 2)
    lab.plan_controls["class_b"].set_state({"index": 0})  # the same class twice
    assert lab.plan.classes == (0, 2) and "classes must be two different classes" in lab.status
    assert lab.plan_controls["class_b"].value == 2
    lab.plan_controls["oip_map_index"].set_state({"value": 4})  # conv has 4 maps: 0–3
    assert lab.plan.oip_map_index == 0 and "oip_map_index must be 0–3" in lab.status
    lab.plan_controls["digit"].set_state({"value": 10})
    assert lab.plan.digit == 10
    lab.train(wait=True)
    last = lab.replay.frames[-1]
    assert last.decoded.shape == (4, 4, 4, 1)  # pool's decoded filters: 4×4
    np.testing.assert_array_equal(
        last.maps, lab.model.activations(lab.last_run.data.validation[0][10], "conv")["conv"][0])
    assert "0 vs 2 on conv" in lab.ranking_label.value
    lab.plan_controls["decode_layer"].set_state({"index": options.index("conv")})  # the next run's plan
    assert "0 vs 2 on conv" in lab.ranking_label.value and lab.replay.frames[-1].decoded.shape[1] == 4


def test_a_model_mnist_does_not_fit_needs_data_and_says_so():
    model = CNNModel(make_tiny_cnn(filters=4))
    lab = TrainingLab(Session(model, data=False), plan=SnapshotPlan.for_model(model, oip_steps=3))
    assert not lab.fresh and lab.learning_rate == 0.005  # a given model goes on from its weights
    lab.train(wait=True)
    assert lab.session.worker.wait(120)
    assert lab.status_line.error and "MNIST does not fit it" in lab.status and "give data=" in lab.status
    assert not lab.running and not lab.train_button.disabled  # usable again


def test_long_runs_send_at_most_a_few_hundred_points_per_curve(wire):
    from cnn_widgets.model import TrainingProgress

    lab = _lab()
    lab._curves = {name: ([], []) for name in ("loss", "accuracy", "val_loss", "val_accuracy")}
    steps = 469
    for epoch in (1, 2, 3):  # what train() reports over three epochs of 60,000 images
        for step in range(1, steps + 1):
            lab._progress(TrainingProgress(epoch, 3, step, steps, {"loss": 1.0 / (epoch * step), "accuracy": 0.5},
                                           False, 1.0))
        lab._progress(TrainingProgress(epoch, 3, steps, steps, {"loss": 0.1, "accuracy": 0.9, "val_loss": 0.2,
                                                                "val_accuracy": 0.8}, True, 1.0))
    mark = wire.mark()
    lab._draw_curves()
    assert len(lab._curves["loss"][0]) == 3 * steps  # every batch kept
    assert 300 <= len(lab.loss_train.x) <= 400 and lab.loss_train.x[-1] == 3.0 and lab.loss_train.x[0] > 0
    assert len(lab.loss_val.x) == 3
    sent = sum(m.size for m in wire.since(mark))
    assert sent < 40_000


def test_the_explorer_has_a_panel_on_how_its_model_was_trained():
    from cnn_widgets import Explorer
    from cnn_widgets.widgets import TrainingHistory

    explorer = Explorer()
    assert "Training" in explorer.titles
    explorer.tabs.set_state({"selected_index": explorer.titles.index("Training")})  # as the frontend sends it
    panel = explorer.panel("Training")
    assert isinstance(panel, TrainingHistory) and panel.session is explorer.session
    assert len(panel.loss.y) == 12 and "12 epochs on 60,000 MNIST training images" in panel.recipe.value
    explorer.close()


def test_whatever_the_fields_send_only_valid_settings_land():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    lab = _lab()
    numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6))

    #: setting → (words the refusal names it by, the values it takes)
    allowed = {"learning_rate": ("learning rate", lambda v: 0 < v <= 10), "momentum": ("momentum", lambda v: 0 <= v < 1),
               "l2": ("L2", lambda v: 0 <= v <= 1)}

    @settings(max_examples=80, deadline=None)
    @given(st.sampled_from(sorted(allowed)), numbers)
    def check(name, value):
        before = getattr(lab, name)
        lab.controls[name].set_state({"value": float(value)})
        now = getattr(lab, name)
        words, ok = allowed[name]
        if np.isfinite(float(value)) and ok(float(value)):  # lands
            assert now == float(value)
        else:  # refused: the last good value stays, the status line names the setting
            assert now == before and lab.status_line.error and f"{words} must be" in lab.status

    check()
    assert 0 < lab.learning_rate <= 10 and 0 <= lab.momentum < 1 and 0 <= lab.l2 <= 1


def test_time_left_is_measured_after_the_first_batch():
    from cnn_widgets.model import TrainingProgress

    lab = _lab()
    lab._curves = {name: ([], []) for name in ("loss", "accuracy", "val_loss", "val_accuracy")}
    lab._progress(TrainingProgress(1, 2, 1, 10, {"loss": 2.0}, False, elapsed=30.0))  # tracing: slow
    assert "measuring the pace" in lab.progress_label.value
    lab._last_draw = 0.0
    lab._progress(TrainingProgress(1, 2, 5, 10, {"loss": 1.0}, False, elapsed=34.0))  # 1 s a batch since
    assert "15 s left" in lab.progress_label.value  # 15 batches to go at 1 s each


def test_gif_picker_sent_no_or_a_wrong_index_stays_in_step():
    import traitlets

    lab = _lab()
    kinds = list(dict(lab.gif_picker.options).values())
    lab.gif_picker.set_state({"index": kinds.index("decoded")})
    assert lab.gif_kind == "decoded"
    lab.gif_picker.set_state({"index": None})
    assert lab.gif_kind == "decoded" and lab.gif_picker.value == "decoded" and lab.status_line.error
    with pytest.raises(traitlets.TraitError, match=rf"choice 99 is out of range; choose 0–{len(kinds) - 1} \("):
        lab.gif_picker.set_state({"index": 99})
    assert lab.gif_kind == "decoded" and lab.gif_picker.value == "decoded"
    lab.gif_picker.set_state({"index": 0})
    assert lab.gif_kind == kinds[0]


def test_the_curves_carry_their_legend_in_the_title_not_over_the_lines():
    from cnn_widgets.widgets.panels.training_replay import curve_figure

    figure, train, validation = curve_figure("accuracy", ".0%", "top-left")
    assert not train.display_legend and not validation.display_legend
    assert figure.title == "accuracy: blue line training, orange dots validation"


def test_adam_is_one_choice_away_and_trains():
    lab = _lab(epochs=1)
    assert lab.optimizer == "sgd" and list(lab.controls["optimizer"].options) == ["sgd", "adam"]
    lab.controls["optimizer"].set_state({"index": 1})  # as the frontend sends a Dropdown choice
    assert lab.optimizer == "adam"
    lab.learning_rate = 0.01
    lab.train(wait=True)
    assert lab.last_run.settings["optimizer"] == "adam"
    assert lab.session.model.metadata["training"]["recipe"].startswith("Adam")
    with pytest.raises(traitlets.TraitError):
        lab.optimizer = "rmsprop"
    assert lab.optimizer == "adam"
