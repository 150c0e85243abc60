"""DigitsSideBySide: every map of one layer for several test digits, one row per digit (seed 000's
"three 4s against a 1 and a 2"), with how many maps stay dark for all digits of the first class
but light up for the others, beside the same count for random other digits."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from ...render.rows import maps_by_row_png
from ..controls import Picker, keep_in_step
from ..picture import size, style
from ..view import SessionView, StatusLine

__all__ = ["DigitsSideBySide"]

#: Random draws of other digits for the chance level of the dark-maps count.
DRAWS = 100


class DigitsSideBySide(SessionView, widgets.VBox):
    """All maps of a layer for the first test digits of the chosen classes, side by side.

    Args:
        session: A Session (or a model: a session of its own).
        layer: A layer with maps; default the last one.
        classes: The class of each row (the first test image of that class each time it
            comes); default three 4s, a 1 and a 2.
    """

    layer = traitlets.Unicode(help="the layer whose maps are shown")
    classes = traitlets.Tuple(help="the class of each row: the first, second … test image of that class")
    active = traitlets.Bool(True, help="the panel is on screen: it computes only then")
    status = traitlets.Unicode("", help="the last message, plain text")

    def __init__(self, session: Any = None, layer: str | None = None, classes: tuple[int, ...] = (4, 4, 4, 1, 2),
                 **kwargs: Any) -> None:
        self._attach(session)
        self.model = self.session.model
        self.layer_picker = Picker(options=self.model.spatial_layers, description="layer", layout=size("180px"))
        self.classes_text = widgets.Text(description="digits", layout=size("260px"),
                                         placeholder="classes, e.g. 4, 4, 4, 1, 2")
        self.picture = widgets.Image(format="png", layout=size("100%", "auto"))
        self.reading = widgets.HTML()
        self.status_line = StatusLine("cnnw-digits-status")
        for widget, css in ((self.layer_picker, "cnnw-digits-layer"), (self.classes_text, "cnnw-digits-classes"),
                            (self.picture, "cnnw-digits-picture"), (self.reading, "cnnw-digits-reading")):
            widget.add_class(css)
        super().__init__([
            style(), widgets.HTML("<b>Digits side by side</b> — every map of a layer, one row per test digit: "
                                  "which maps stay dark for one class and light up for others?"),
            widgets.HBox([self.layer_picker, self.classes_text]), self.status_line, self.reading, self.picture,
        ], **kwargs)
        self.add_class("cnnw-digits-side-by-side")
        with self.hold_trait_notifications():
            self.layer = layer or self.model.spatial_layers[-1]
            self.classes = tuple(classes)
        keep_in_step(self, "layer", self.layer_picker)
        self.classes_text.value = ", ".join(str(c) for c in self.classes)
        self.classes_text.observe(self._typed, "value")
        self.refresh()

    @traitlets.validate("layer")
    def _valid_layer(self, proposal: dict[str, Any]) -> str:
        try:
            self.model.spatial_layer(proposal["value"], "to show side by side")
        except ValueError as error:
            raise traitlets.TraitError(str(error)) from None
        return proposal["value"]

    @traitlets.validate("classes")
    def _valid_classes(self, proposal: dict[str, Any]) -> tuple[int, ...]:
        value = tuple(proposal["value"])
        top = self.model.classes - 1
        if not 2 <= len(value) <= 12 or any(isinstance(c, bool) or not isinstance(c, (int, np.integer))
                                            or not 0 <= c <= top for c in value):
            raise traitlets.TraitError(f"digits must be 2–12 classes in 0–{top}; got {value!r:.80}")
        return tuple(int(c) for c in value)

    def _typed(self, change: dict[str, Any]) -> None:
        text = change["new"].strip()
        try:
            self.classes = tuple(int(part) for part in text.replace(" ", ",").split(",") if part)
        except (ValueError, traitlets.TraitError) as error:
            message = str(error) if isinstance(error, traitlets.TraitError) else \
                f"digits are whole numbers separated by commas (e.g. 4, 4, 4, 1, 2); got {text!r:.60}"
            self._say(message, error=True)
            self.classes_text.value = ", ".join(str(c) for c in self.classes)  # back to the shown digits

    @traitlets.observe("layer", "classes", "active")
    def _changed(self, change: dict[str, Any]) -> None:
        if change["name"] == "active" and change["new"]:
            self._when_active()
        self.refresh()

    def refresh(self) -> Any:
        """Compute the maps and the picture on the worker (a newer request replaces a waiting one)."""
        data = self.session.data.test_set
        if self.closed or not self.active or not self.layer or not self.classes:
            return None
        if data is None:
            self._say(f"no test images: {self.session.data.message}", error=True)
            return None
        layer, classes = self.layer, self.classes
        chosen, seen = [], {}
        for c in classes:
            found = np.flatnonzero(np.asarray(data.labels) == c)
            if seen.get(c, 0) >= len(found):
                self._say(f"the test images have only {len(found)} of class {c}", error=True)
                return None
            chosen.append(int(found[seen.get(c, 0)]))
            seen[c] = seen.get(c, 0) + 1

        def work(job: Any) -> tuple[bytes, str]:
            maps = np.asarray(self.model.activations(data.images[chosen])[layer])
            names = [f"{self.model.class_names[c]} (#{i})" for c, i in zip(classes, chosen)]
            count = maps.shape[-1]
            last = min(count, 64)
            png = maps_by_row_png(maps, names, f"{layer}: maps 0-{last - 1} of {count} for test digits "
                                  f"{', '.join(str(c) for c in classes)}", last=last, zoom=3)
            return png, self._reading(maps, classes, data, layer)

        def show(done: tuple[bytes, str]) -> None:
            if self.closed or (layer, classes) != (self.layer, self.classes):
                return
            self.picture.value, self.reading.value = done
            self._say("")

        return self.session.worker.submit(work, name=f"{layer} maps of {len(chosen)} digits",
                                          key=("digits-side-by-side", id(self)), on_done=show,
                                          on_error=lambda error: self._say(str(error), error=True))

    def _reading(self, maps: np.ndarray, classes: tuple[int, ...], data: Any, layer: str) -> str:
        """How many maps are dark for every digit of the first class and lit for another, beside
        the same count with random other digits in place of those (a map is lit when its strongest
        cell reaches a tenth of the layer's largest value over the rows)."""
        first = classes[0]
        mine = [i for i, c in enumerate(classes) if c == first]
        rest = [i for i, c in enumerate(classes) if c != first]
        if not rest:
            return "<small>all rows are one class: nothing to compare</small>"
        threshold = 0.1 * max(float(maps.max()), 1e-12)
        lit = maps.max(axis=(1, 2)) >= threshold
        dark_for_first = int((~lit[mine].any(axis=0) & lit[rest].any(axis=0)).sum())
        others = np.flatnonzero(~np.isin(np.asarray(data.labels), classes))
        rng = np.random.default_rng(0)
        chance: list[int] = []
        if len(others) >= len(mine):  # every draw's images in one batch
            picks = np.stack([rng.choice(others, len(mine), replace=False) for _ in range(DRAWS)])
            drawn = np.asarray(self.model.activations(data.images[picks.ravel()])[layer]).max(axis=(1, 2))
            drawn_lit = (drawn >= threshold).reshape(DRAWS, len(mine), -1)
            chance = [int((~draw.any(axis=0) & lit[rest].any(axis=0)).sum()) for draw in drawn_lit]
        name = html.escape(self.model.class_names[first])
        if not chance:
            return f"<small>{dark_for_first} maps dark for every {name} row but lit for another row</small>"
        mean, spread = float(np.mean(chance)), float(np.std(chance))
        verdict = "beyond" if dark_for_first > mean + 2 * spread else "<b>not</b> beyond"
        return (f"<small>{dark_for_first} maps dark for every {name} row but lit for another row; with "
                f"{len(mine)} random other digits in place of the {name}s: {mean:.1f} ± {spread:.1f} "
                f"({DRAWS} draws) — {verdict} chance</small>")

    def _model_changed(self) -> None:
        self.refresh()

    def _closing(self) -> None:
        self.session.worker.cancel(("digits-side-by-side", id(self)))
