"""TrainingHistory: how the session's model was trained — its recorded curves and recipe."""

from __future__ import annotations

import html
from typing import Any

import bqplot
import ipywidgets as widgets
import numpy as np

from ..picture import size
from ..view import SessionView

__all__ = ["TrainingHistory"]


class TrainingHistory(SessionView, widgets.VBox):
    """Loss and accuracy per epoch as recorded in the model's metadata, and the recipe.

    For the embedded model these are the curves of its 12 training epochs on the
    60,000 MNIST training images (``cnn_widgets/assets/mnist_cnn.json``); after
    :meth:`CNNModel.train` call :meth:`refresh`, or :meth:`follow` a :class:`TrainingLab`.

    Args:
        session: The session whose model to describe (or a model, or None for the
            embedded one).
    """

    def __init__(self, session: Any = None, **kwargs: Any) -> None:
        self._attach(session)
        self.model = self.session.model
        x_scale = bqplot.LinearScale()
        loss_scale = bqplot.LinearScale(min=0.0, allow_padding=False)
        accuracy_scale = bqplot.LinearScale()
        self.loss = bqplot.Lines(x=[], y=[], scales={"x": x_scale, "y": loss_scale}, colors=["#3182bd"],
                                 marker="circle", marker_size=16, labels=["loss"], display_legend=False)
        self.accuracy = bqplot.Lines(x=[], y=[], scales={"x": x_scale, "y": accuracy_scale},
                                     colors=["#e6550d"], marker="circle", marker_size=16,
                                     labels=["accuracy"], display_legend=False)
        self.validation = bqplot.Lines(x=[], y=[], scales={"x": x_scale, "y": accuracy_scale},
                                       colors=["#31a354"], marker="square", marker_size=16,
                                       labels=["validation accuracy"], display_legend=False)
        self.figure = bqplot.Figure(
            marks=[self.loss, self.accuracy, self.validation], animation_duration=0,
            title="how this model was trained",
            # the axis labels set off past their widest ticks ("0.25", "99.5%"), inside the margins
            axes=[bqplot.Axis(scale=x_scale, label="epoch", tick_format="d", label_offset="32px"),
                  bqplot.Axis(scale=loss_scale, side="left", label="loss", tick_format=".2f", num_ticks=4,
                              label_offset="44px"),
                  bqplot.Axis(scale=accuracy_scale, side="right", label="accuracy", tick_format=".1%",
                              num_ticks=4, label_offset="56px")],
            fig_margin={"top": 30, "bottom": 45, "left": 60, "right": 72}, layout=size("432px", "245px"))
        self.figure.add_class("cnnw-history-figure")
        self.recipe = widgets.HTML()
        self.recipe.add_class("cnnw-history-recipe")
        # the legend under the plot, not over the curves
        self.legend = widgets.HTML("<small><span style='color:#3182bd'>● loss</span> (left axis) &nbsp; "
                                   "<span style='color:#e6550d'>● training accuracy</span> &nbsp; "
                                   "<span style='color:#31a354'>■ validation accuracy</span> (right axis)</small>")
        self.legend.add_class("cnnw-history-legend")
        super().__init__([self.figure, self.legend, self.recipe], **kwargs)
        self.add_class("cnnw-training-history")
        self.refresh()

    def follow(self, lab: Any) -> None:
        """Show the new history whenever a :class:`TrainingLab` on this model ends a run."""
        def ended(change: dict[str, Any]) -> None:
            if not change["new"]:
                self.refresh()

        self._watch(lab, ended, "running")

    def refresh(self) -> None:
        """Show the model's recorded history and recipe (again)."""
        meta = self.model.metadata
        history = meta.get("history") or {}
        training = meta.get("training") or {}
        for mark, name in ((self.loss, "loss"), (self.accuracy, "accuracy"),
                           (self.validation, "val_accuracy")):
            values = np.asarray(history.get(name, []), float)
            with mark.hold_sync():
                mark.x, mark.y = np.arange(1, len(values) + 1, dtype=float), values
        self.figure.layout.display = self.legend.layout.display = None if history else "none"
        self.recipe.value = self._recipe(meta, history, training)

    @staticmethod
    def _recipe(meta: dict[str, Any], history: dict[str, Any], training: dict[str, Any]) -> str:
        if not history and not training:
            return "<small>no training history is recorded for this model</small>"
        parts = []
        if training:
            images, data = training.get("images"), meta.get("dataset")
            epochs = training.get("epochs_done", training.get("epochs", "?"))
            on = f" on {images:,}{f' {data}' if data else ''} training images" if isinstance(images, int) else ""
            parts.append(f"{epochs} epochs{on}")
            momentum = "" if training.get("optimizer") == "adam" else f"momentum {training.get('momentum')}, "
            parts.append(f"{training.get('recipe', 'SGD')}: learning rate {training.get('learning_rate')} "
                         f"(×{training.get('lr_decay')} per epoch), {momentum}"
                         f"L2 {training.get('l2')}, batches of {training.get('batch_size')}, "
                         f"shifts up to ±{training.get('shift')} px, seed {training.get('seed')}")
        if "test_accuracy" in meta:
            parts.append(f"test accuracy {100 * float(meta['test_accuracy']):.2f} % on "
                         f"{int(meta.get('test_images', 0)):,} test images")
        elif history.get("val_accuracy"):
            parts.append(f"last validation accuracy {100 * float(history['val_accuracy'][-1]):.2f} %")
        if history.get("accuracy"):
            parts.append(f"training accuracy {100 * float(history['accuracy'][0]):.1f} % after epoch 1, "
                         f"{100 * float(history['accuracy'][-1]):.2f} % after the last")
        return "<small>" + "<br>".join(html.escape(p) for p in parts) + "</small>"
