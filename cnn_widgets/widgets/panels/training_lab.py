"""TrainingLab: train in the notebook with live curves, then replay how it learned."""

from __future__ import annotations

import dataclasses
import html
import threading
import time
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from ...data import TrainingData, training_data
from ...session import Cancelled, Job, PauseGate
from ...training import SnapshotPlan, TrainingRun, train_with_snapshots
from ..controls import in_range, keep_in_step
from ..picture import size, style
from ..view import SessionView, StatusLine
from .training_replay import ReplayPart, curve_figure

__all__ = ["TrainingLab"]

_REFRESH_S = 0.25  # shortest time between two live curve updates
_CURVE_POINTS = 400  # most points sent per curve (a few KB per update, however long the run)
#: Each setting's allowed values: (words naming it, test, what is allowed).
_RANGES = {
    "epochs": ("epochs", lambda v: 1 <= v <= 1000 and v == int(v), "an integer 1–1000"),
    "batch_size": ("batch size", lambda v: 1 <= v <= 65536 and v == int(v), "an integer 1–65536"),
    "learning_rate": ("learning rate", lambda v: 0 < v <= 10, "a number in (0, 10]"),
    "momentum": ("momentum", lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "l2": ("L2", lambda v: 0 <= v <= 1, "a number in [0, 1]"),
    "seed": ("seed", lambda v: 0 <= v < 2 ** 31 and v == int(v), "an integer ≥ 0"),
    "images": ("images", lambda v: v >= 0 and v == int(v), "an integer ≥ 0 (0 = all)"),
}


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


class TrainingLab(ReplayPart, SessionView, widgets.VBox):
    """Train a CNN on the session's worker: live loss and accuracy, progress with the
    time left, pause and cancel; then scrub or play through the snapshots (kernels,
    decoded filters, an OIP, the maps of one test digit, the Cohen's d ranking, the
    confusion matrix) and export any of them as a GIF.

    The kernel stays free while it trains: drawing and clicks are answered meanwhile,
    and while strokes arrive on the session's pad training holds after its current
    batch (it goes on a quarter of a second after the last one), so the drawing
    stays as quick as without training.

    Args:
        session: A :class:`~cnn_widgets.session.session.Session` (its model is trained in
            place), a model, or None for a fresh, untrained seed CNN
            (:func:`cnn_widgets.mnist_cnn`) in a session of its own.
        data: What to train on (see :func:`cnn_widgets.training.snapshots.training_data`);
            default MNIST: the training split from ``path``, ``$CNN_WIDGETS_MNIST``
            or the downloader, else the shipped test images (the widget says which).
        path: A local MNIST ``.npz`` file (when ``data`` is not given).
        plan: What the snapshots record (default: fitted to the model).
        fresh: Start every run from fresh weights drawn with ``seed`` (and the
            standardisation measured on the training images); default
            True for the lab's own untrained model, False for a model given (then
            the learning rate starts at 0.005 unless given: a trained model goes on
            from where its schedule ended).
        **settings: Initial values of the settings (``epochs``, ``batch_size``,
            ``learning_rate``, ``momentum``, ``l2``, ``seed``, ``images``).

    Example:
        >>> lab = TrainingLab(epochs=1, images=6000)
        >>> lab.train()                    # or click Train
    """

    epochs = traitlets.Int(2, help="passes over the training images")
    batch_size = traitlets.Int(128, help="images per SGD step")
    learning_rate = traitlets.Float(0.05, help="initial learning rate (decays ×0.8 per epoch)")
    momentum = traitlets.Float(0.9, help="Nesterov momentum, in [0, 1) (SGD only)")
    optimizer = traitlets.Enum(["sgd", "adam"], "sgd", help="SGD with Nesterov momentum, or Adam (seed 003's)")
    l2 = traitlets.Float(5e-4, help="L2 weight decay of the kernels, ≥ 0")
    seed = traitlets.Int(0, help="seed of the fresh weights, the shuffling and the augmentation")
    images = traitlets.Int(0, help="train on the first this many images; 0 for all")
    fresh = traitlets.Bool(False, help="start from fresh weights drawn with the seed")
    running = traitlets.Bool(False, read_only=True, help="True while a run trains")
    paused = traitlets.Bool(False, read_only=True, help="True while a run holds after its current batch")
    data_source = traitlets.Unicode("", read_only=True, help="what the last run trained on")
    plan = traitlets.Instance(SnapshotPlan, help="what the snapshots of the next run record")
    status = traitlets.Unicode("", help="the last message, plain text")

    _SETTINGS = ("epochs", "batch_size", "learning_rate", "momentum", "l2", "seed", "images", "optimizer")

    def __init__(self, session: Any = None, *, data: Any = None, path: Any = None,
                 plan: SnapshotPlan | None = None, fresh: bool | None = None, **settings: Any) -> None:
        own_model = session is None
        if own_model:
            from ...model import mnist_cnn
            from ...session import Session

            session = Session(mnist_cnn(seed=int(settings.get("seed", 0))))
        self._attach(session)
        if own_model:
            self._own_session = True
        self.model = model = self.session.model
        self.plan = plan or SnapshotPlan.for_model(model)
        self._run_plan = self.plan  # the plan of the replay shown
        self._given = data
        self._path = path
        self._data: TrainingData | None = None
        self._data_limit: int | None = None
        self._job: Job | None = None
        self._pause = PauseGate()  # Pause, and a short hold after each stroke on the session's pad
        self._lock = threading.Lock()
        self._curves: dict[str, tuple[list[float], list[float]]] = {}
        self._last_draw = 0.0
        self._first_report: tuple[float, float] | None = None  # (fraction, elapsed) of a run's first report
        self.last_run: TrainingRun | None = None

        # ---- settings
        self.controls: dict[str, widgets.Widget] = {
            "epochs": widgets.IntText(description="epochs", layout=size("150px")),
            "batch_size": widgets.IntText(description="batch", layout=size("150px")),
            "learning_rate": widgets.FloatText(description="learning rate", layout=size("190px"),
                                               style={"description_width": "85px"}),
            "momentum": widgets.FloatText(description="momentum", layout=size("190px"),
                                          style={"description_width": "initial"}),
            "l2": widgets.FloatText(description="L2", layout=size("170px"), style={"description_width": "30px"}),
            "optimizer": widgets.Dropdown(options=["sgd", "adam"], description="optimizer", layout=size("170px"),
                                          style={"description_width": "65px"}),
            "seed": widgets.IntText(description="seed", layout=size("150px")),
            "images": widgets.IntText(description="images", layout=size("170px"),
                                      tooltip="0 = all training images"),
        }
        self.fresh_box = widgets.Checkbox(description="fresh weights (seeded)", indent=False, layout=size("190px"))
        self.train_button = widgets.Button(description="Train", icon="play", button_style="primary")
        self.pause_button = widgets.Button(description="Pause", icon="pause", disabled=True)
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", disabled=True)
        self.progress = widgets.FloatProgress(0.0, min=0.0, max=1.0, layout=size("360px"))
        self.progress_label = widgets.HTML("&nbsp;")
        self.progress_label.add_class("cnnw-train-progress-label")
        self.status_line = StatusLine("cnnw-training-status")
        self.data_label = widgets.HTML("&nbsp;")

        # ---- curves
        self.loss_figure, self.loss_train, self.loss_val = curve_figure("loss", ".2f", "bottom-left")
        self.accuracy_figure, self.accuracy_train, self.accuracy_val = curve_figure("accuracy", ".0%", "top-left")

        replay_rows = self._build_replay()
        spatial = model.spatial_layers
        names = [(f"{i} {name}" if name != str(i) else name, i) for i, name in enumerate(model.class_names)]
        self.plan_controls: dict[str, widgets.Widget] = {
            "decode_layer": widgets.Dropdown(options=spatial, description="decode", layout=size("170px"),
                                             style={"description_width": "50px"}),
            "oip_layer": widgets.Dropdown(options=spatial, description="OIP of", layout=size("170px"),
                                          style={"description_width": "50px"}),
            "oip_map_index": widgets.IntText(description="map", layout=size("120px"), style={"description_width": "35px"}),
            "maps_layer": widgets.Dropdown(options=spatial, description="maps of", layout=size("170px"),
                                           style={"description_width": "55px"}),
            "digit": widgets.IntText(description="test image", layout=size("150px"),
                                     style={"description_width": "70px"}),
            "class_a": widgets.Dropdown(options=names, description="d:", layout=size("150px"),
                                        style={"description_width": "20px"}),
            "class_b": widgets.Dropdown(options=names, description="vs", layout=size("130px"),
                                        style={"description_width": "20px"}),
        }
        for item, css in ((self.train_button, "cnnw-train"), (self.pause_button, "cnnw-train-pause"),
                          (self.cancel_button, "cnnw-train-cancel"), (self.progress, "cnnw-train-progress")):
            item.add_class(css)

        settings_box = widgets.VBox([
            widgets.HBox([self.controls[n] for n in ("epochs", "batch_size", "images", "seed")]),
            widgets.HBox([self.controls[n] for n in ("optimizer", "learning_rate", "momentum", "l2")]
                         + [self.fresh_box]),
            widgets.HBox([self.train_button, self.pause_button, self.cancel_button]),
            widgets.HBox([self.progress, self.progress_label]),
            self.status_line, self.data_label,
        ])
        super().__init__([
            style(),
            widgets.HTML("<b>Training</b> — watch it learn, then replay how the filters took shape"),
            widgets.HBox([settings_box, self.loss_figure, self.accuracy_figure]),
            widgets.HBox([widgets.HTML("<small>snapshots record:</small>", layout=size("110px")),
                          *self.plan_controls.values()]),
            *replay_rows,
        ])
        self.add_class("cnnw-training-lab")

        with self.hold_trait_notifications():
            for name, value in settings.items():
                if name not in self._SETTINGS:
                    raise TypeError(f"unknown setting {name!r}; the settings are: {', '.join(self._SETTINGS)}")
                setattr(self, name, value)
            self.fresh = own_model if fresh is None else bool(fresh)
            if not self.fresh and "learning_rate" not in settings:
                # going on from trained weights: about where the recipe's schedule ends
                # (0.05 × 0.8^11), not where it starts, which would undo much of the training
                self.learning_rate = 0.005
        for name in self._SETTINGS:
            keep_in_step(self, name, self.controls[name])
        keep_in_step(self, "fresh", self.fresh_box)
        keep_in_step(self, "frame", self.frame_slider)
        keep_in_step(self, "gif_kind", self.gif_picker)
        for field, control in self.plan_controls.items():
            self._bind_plan(control, field)
        self.train_button.on_click(lambda _: self.train())
        self.pause_button.on_click(lambda _: self.resume() if self.paused else self.pause())
        self.cancel_button.on_click(lambda _: self.cancel())
        # the drawing stays live: training yields the CPU while strokes arrive
        self._watch(self.session.live, lambda change: self._pause.touch(), "image")
        self._say(f"ready to train {model.keras_model.name} ({sum(r.params for r in model.layers_table()):,} "
                  "parameters)")

    # ------------------------------------------------------------------ settings
    def _plan_value(self, field: str) -> Any:
        if field in ("class_a", "class_b"):
            return self.plan.classes[0 if field == "class_a" else 1]
        return getattr(self.plan, field)

    def _bind_plan(self, control: widgets.Widget, field: str) -> None:
        """A control for one setting of :attr:`plan` (checked against the model)."""
        control.value = self._plan_value(field)

        def from_control(change: dict[str, Any]) -> None:
            if change["new"] == self._plan_value(field):
                return
            if field in ("class_a", "class_b"):
                first, second = self.plan.classes
                changes = {"classes": (change["new"], second) if field == "class_a" else (first, change["new"])}
            else:
                changes = {field: change["new"]}
            try:
                self.plan = dataclasses.replace(self.plan, **changes)
            except traitlets.TraitError as error:
                self._say(str(error), error=True)
                control.value = self._plan_value(field)

        control.observe(from_control, "value")
        self.observe(lambda change: setattr(control, "value", self._plan_value(field)), "plan")

    @traitlets.validate("plan")
    def _valid_plan(self, proposal: dict[str, Any]) -> SnapshotPlan:
        plan = proposal["value"]
        try:
            plan.check(self.model)
        except ValueError as error:
            raise traitlets.TraitError(str(error)) from None
        if plan.digit >= plan.probe:
            raise traitlets.TraitError(f"digit must be 0–{plan.probe - 1} (an index among the {plan.probe} "
                                       "validation images the snapshots measure on)")
        return plan

    @traitlets.validate(*_RANGES)
    def _valid_setting(self, proposal: Any) -> Any:
        what, ok, allowed = _RANGES[proposal["trait"].name]
        return in_range(what, proposal["value"], ok, allowed)

    # ------------------------------------------------------------------ running
    def train(self, wait: bool = False) -> Job | None:
        """Start a run with the current settings on the session's worker.

        Args:
            wait: Block until it has finished (scripts and tests).

        Returns:
            The job, or None when a run is already going.
        """
        if self.running or self.closed:
            return None
        settings = dict(epochs=self.epochs, batch_size=self.batch_size, learning_rate=self.learning_rate,
                        momentum=self.momentum, l2=self.l2, seed=self.seed, optimizer=self.optimizer)
        fresh, limit, plan = self.fresh, self.images or None, self.plan
        self._pause.clear()
        self.set_trait("running", True)
        self.set_trait("paused", False)
        self.train_button.disabled, self.pause_button.disabled, self.cancel_button.disabled = True, False, False
        self.pause_button.description, self.pause_button.icon = "Pause", "pause"
        self._curves = {name: ([], []) for name in ("loss", "accuracy", "val_loss", "val_accuracy")}
        for mark in (self.loss_train, self.accuracy_train):
            mark.scales["x"].max = float(settings["epochs"])
        self._draw_curves()
        self.progress.value = 0.0
        self._say("loading the training data …")
        job = self.session.worker.submit(lambda j: self._work(j, settings, fresh, limit, plan), name="training",
                                         key=("training", id(self)), on_error=self._failed)
        self._job = job
        if wait:
            job.wait()
        return job

    def pause(self) -> None:
        """Hold training after the current batch (the weights stay as they are)."""
        if self.running and not self.paused:
            self._pause.set()
            self.set_trait("paused", True)
            self.pause_button.description, self.pause_button.icon = "Resume", "play"
            self._say("paused after the current batch: Resume to go on, Cancel to stop here")

    def resume(self) -> None:
        """Go on after :meth:`pause`."""
        if self.paused:
            self._pause.clear()
            self.set_trait("paused", False)
            self.pause_button.description, self.pause_button.icon = "Pause", "pause"
            self._say("training …")

    def cancel(self) -> None:
        """Stop after the current batch; the weights trained so far are kept."""
        if self._job is not None and self.running:
            self._job.cancel()
            self._say("stopping after the current batch …")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run has finished; False on timeout."""
        return self._job.wait(timeout) if self._job is not None else True

    def _work(self, job: Job, settings: dict[str, Any], fresh: bool, limit: int | None,
              plan: SnapshotPlan) -> TrainingRun:
        if self._data is None or self._data_limit != limit:  # loaded once per image count
            self._data = training_data(self.model, self._given, path=self._path, limit=limit, seed=0)
            self._data_limit = limit
        data = self._data
        self.set_trait("data_source", data.source)
        self.data_label.value = (f'<small class="cnnw-training-data">data: {html.escape(data.source)}</small>')
        self._say("training …")
        self._last_draw = 0.0
        self._first_report = None

        def progress(report: Any) -> None:
            self._progress(report)
            try:
                job.report(report.fraction, f"epoch {report.epoch}/{report.epochs}")
            except Cancelled:
                pass  # the cancel event is set: training stops after this batch

        self._run_plan = plan
        run = train_with_snapshots(self.model, data, plan=plan, progress=progress,
                                   on_snapshot=self._snapshot, cancel=job.cancel_event, pause=self._pause,
                                   fresh=self.seed if fresh else None, standardize=fresh, **settings)
        self._finish(run)
        return run

    def _progress(self, report: Any) -> None:
        x = (report.epoch - 1) + report.step / max(report.steps, 1)
        with self._lock:
            for name in ("loss", "accuracy"):
                xs, ys = self._curves[name]
                if name in report.logs and not (xs and xs[-1] == x):  # an epoch's end repeats its last batch
                    xs.append(x)
                    ys.append(report.logs[name])
            if report.epoch_done:
                for name in ("val_loss", "val_accuracy"):
                    if name in report.logs:
                        xs, ys = self._curves[name]
                        xs.append(float(report.epoch))
                        ys.append(report.logs[name])
        now = time.monotonic()
        if report.epoch_done or now - self._last_draw >= _REFRESH_S:
            self._last_draw = now
            fraction = report.fraction
            # the rate since the first batch: that one also paid for tracing the training step
            start_fraction, start_elapsed = self._first_report or (fraction, report.elapsed)
            self._first_report = (start_fraction, start_elapsed)
            done = fraction - start_fraction
            left = (report.elapsed - start_elapsed) / done * (1 - fraction) if done > 0 else None
            with self.hold_sync():
                self.progress.value = fraction
                self.progress_label.value = html.escape(
                    f"epoch {report.epoch}/{report.epochs}, batch {report.step}/{report.steps} — "
                    + (f"{_duration(left)} left" if left is not None else "measuring the pace …"))
            self._draw_curves()

    def _draw_curves(self) -> None:
        with self._lock:
            curves = {name: (list(xs), list(ys)) for name, (xs, ys) in self._curves.items()}
        for mark, name in ((self.loss_train, "loss"), (self.loss_val, "val_loss"),
                           (self.accuracy_train, "accuracy"), (self.accuracy_val, "val_accuracy")):
            xs, ys = curves.get(name, ([], []))
            stride = -(-len(xs) // _CURVE_POINTS) if len(xs) > _CURVE_POINTS else 1
            picks = sorted(set(range(0, len(xs), stride)) | ({len(xs) - 1} if xs else set()))
            with mark.hold_sync():  # every batch up to _CURVE_POINTS, then every stride-th (and the last)
                mark.x, mark.y = np.asarray(xs, float)[picks], np.asarray(ys, float)[picks]

    def _finish(self, run: TrainingRun) -> None:
        self.last_run = run
        self._draw_curves()
        self._set_replay(run.replay, len(run.replay) - 1)
        self._end()
        share = f"snapshots {100 * run.snapshot_share:.0f} % of the training time" if len(run.replay) else ""
        validation = run.history.get("val_accuracy")
        figures = f"validation accuracy {100 * validation[-1]:.1f} %" if validation else ""
        if run.cancelled:
            last = run.replay.frames[-1].label if len(run.replay) else f"batch {run.batches}"
            self._say(f"cancelled at {last}: the weights trained so far are kept"
                      + (f"; {figures}" if figures else ""))
        else:
            self._say(f"trained {run.settings['epochs']} epoch(s) in {_duration(run.seconds)}"
                      + "".join(f"; {part}" for part in (figures, share) if part))
        self.progress.value = 1.0 if not run.cancelled else self.progress.value

    def _failed(self, error: BaseException) -> None:
        self._end()
        self._say(f"training failed: {error}", error=True)

    def _end(self) -> None:
        self._pause.clear()
        self.set_trait("running", False)
        self.set_trait("paused", False)
        self.train_button.disabled, self.pause_button.disabled, self.cancel_button.disabled = False, True, True
        self.pause_button.description, self.pause_button.icon = "Pause", "pause"

    def _closing(self) -> None:
        if self._job is not None:
            self._job.cancel()
        self._pause.clear()
