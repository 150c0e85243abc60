"""ProbabilityBars: the class probabilities as bqplot bars, the prediction highlighted."""

from __future__ import annotations

import html
from typing import Any

import bqplot
import ipywidgets as widgets
import numpy as np
import traitlets

from ..view import SessionView
from .live_view import drawing_open, live_view

__all__ = ["ProbabilityBars"]

_PLAIN, _PREDICTED = "#9ecae1", "#e6550d"


class ProbabilityBars(SessionView, widgets.VBox):
    """Bars of the class probabilities; the most probable class in orange.

    Hovering a bar shows its class and probability. ``prediction`` holds the
    predicted class name; a blank input predicts nothing ("draw a digit").
    Where the browser computes the model, it draws the bars on every frame of a
    stroke; the kernel's chart (hidden under them) follows once the stroke ends.

    Args:
        session: The session whose drawing to follow (or its live model, or a model).
    """

    prediction = traitlets.Unicode("", help="the most probable class's name")

    def __init__(self, session: Any = None, **kwargs: Any) -> None:
        self._attach(session)
        self.live = live = self.session.live
        names = list(live.model.class_names)
        x_scale, y_scale = bqplot.OrdinalScale(), bqplot.LinearScale(min=0.0, max=1.0)
        tooltip = bqplot.Tooltip(fields=["x", "y"], formats=["", ".3f"], labels=["class", "probability"])
        highlight = bqplot.ColorScale(colors=[_PLAIN, _PREDICTED], min=0.0, max=1.0)
        self.bars = bqplot.Bars(x=names, y=np.zeros(len(names)), color=np.zeros(len(names)),
                                scales={"x": x_scale, "y": y_scale, "color": highlight},
                                tooltip=tooltip, padding=0.15)
        axes = [bqplot.Axis(scale=x_scale, label="class"),
                bqplot.Axis(scale=y_scale, side="left", tick_format=".1f", num_ticks=3)]
        self.figure = bqplot.Figure(marks=[self.bars], axes=axes, animation_duration=0,
                                    fig_margin={"top": 10, "bottom": 35, "left": 40, "right": 10},
                                    layout=widgets.Layout(width="380px", height="200px"))
        self.label = widgets.HTML()
        self.label.add_class("cnnw-prediction")
        self.browser = live_view(self, "bars")
        if self.browser is not None:
            self.label.add_class("cnnw-bars-kernel")
            self.figure.add_class("cnnw-bars-kernel")
        super().__init__([self.label, self.figure, *([self.browser] if self.browser is not None else [])], **kwargs)
        self.add_class("cnnw-probability-bars")
        self._watch(live, self._changed, "probabilities")
        self.refresh()

    def _changed(self, change: dict[str, Any]) -> None:
        if self.browser is not None and drawing_open(self.session):
            return  # the browser draws every frame of a stroke; the kernel's chart once it ends
        self.refresh()

    def refresh(self) -> None:
        """Show the live model's current probabilities (none for a blank input)."""
        probabilities = self.live.probabilities
        if probabilities is None:
            return
        if self.live.source == "" and not np.any(self.live.image):
            self.prediction = ""
            with self.bars.hold_sync():
                self.bars.y = np.zeros(len(probabilities))
                self.bars.color = np.zeros(len(probabilities))
            blank = ("draw a digit: a blank pad predicts nothing" if self.session.drawing is not None
                     else "no image in front of the network yet: nothing predicted")
            self.label.value = f"<span style='color:#777'>{blank}</span>"
            return
        best = int(np.argmax(probabilities))
        flags = np.zeros(len(probabilities))
        flags[best] = 1.0  # the colour scale paints 1 orange
        self.prediction = self.live.model.class_names[best]
        with self.bars.hold_sync():
            self.bars.y = np.asarray(probabilities, np.float64)
            self.bars.color = flags
        self.label.value = (f"prediction: <b class='cnnw-predicted-class'>{html.escape(self.prediction)}</b>"
                            f" ({100 * float(probabilities[best]):.1f} %)")
