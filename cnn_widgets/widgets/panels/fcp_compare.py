"""FCPCompare: what all "4"s share on a layer that "9"s don't — and where your drawing falls."""

from __future__ import annotations

import html
from typing import Any

import bqplot
import ipywidgets as widgets
import numpy as np
import traitlets

from ...methods.fcp import ClassPattern, FCPComparison, class_patterns, compare_patterns, pattern_shape
from ...render import mosaic
from ...render.colour import DEFAULT_COLORMAP
from ...session import Job, Session

from ..picture import Picture, size, style
from ..controls import Picker, keep_in_step
from ..view import SessionView, StatusLine

__all__ = ["FCPCompare"]

_A, _B = "#e6550d", "#3182bd"


def _as_maps(values: np.ndarray) -> np.ndarray:
    """A layer's output for one image as maps (h, w, maps); flat layers become 1×1 maps."""
    return values if values.ndim == 3 else values.reshape(1, 1, -1)


class FCPCompare(SessionView, widgets.VBox):
    """Class A's mean pattern | class B's | A − B, the maps that separate them,
    single images of each class on a chosen map, and the current drawing among them.

    The class patterns are computed on the session's worker (the kernel keeps
    answering strokes meanwhile), once per change of layer, class or model version.

    Args:
        session: The :class:`~cnn_widgets.session.session.Session` (its test images and its
            drawing), or a model (then the widget makes its own session).
        data: ``(images, labels)`` for a session this widget makes itself; default
            the session's test set (for the embedded model the MNIST test split
            shipped in the package). Without data, classes are built from
            drawings: "add to A" / "add to B" take the current drawing.
        classes: The two classes shown first; default 4 and 9 (0 and 1 for a model
            with fewer than ten classes).
        layer: Default the last conv layer.
        lazy: Compute nothing until ``active`` is first set (e.g. when
            a dashboard tab shows the widget): a faster start, less memory.
    """

    layer = traitlets.Unicode(help="the layer whose patterns are compared")
    class_a = traitlets.Int(4, help="class A (an index of the model's classes)")
    class_b = traitlets.Int(9, help="class B (an index of the model's classes)")
    map_index = traitlets.Int(-1, help="the map shown for single images; -1 for none")
    comparison = traitlets.Instance(FCPComparison, allow_none=True, help="the comparison shown, or None")
    status = traitlets.Unicode("", help="the last message, plain text")
    active = traitlets.Bool(True, help="update the drawing's pattern while it changes")

    def __init__(self, session: Any = None, *, data: tuple[Any, Any] | None = None,
                 classes: tuple[int, int] | None = None, layer: str | None = None,
                 lazy: bool = False, **kwargs: Any) -> None:
        if data is not None and not isinstance(session, Session):
            session = Session(session, data=data)
        elif data is not None:
            raise ValueError("give data to the Session, not to a view of it: Session(model, data=(images, labels))")
        self._attach(session)
        model, live = self.model, self.live = self.session.model, self.session.live
        self._waiting = True  # nothing is computed while the widget is built (then: see ``lazy``)
        convs = [row.name for row in model.layers_table() if row.is_conv]
        layer = layer or convs[-1]
        model.layer(layer)
        if classes is None:
            classes = (4, 9) if model.classes >= 10 else (0, 1)
        if not isinstance(classes, (tuple, list, np.ndarray)) or len(classes) != 2 or any(
                not isinstance(c, (int, np.integer)) or not 0 <= int(c) < model.classes for c in classes):
            raise ValueError(f"classes must be two class indices in 0–{model.classes - 1}; got {classes!r}")
        if int(classes[0]) == int(classes[1]):
            raise ValueError(f"classes must be two different classes; got {classes}")
        self._own: dict[int, list[np.ndarray]] = {}  # drawings added per class
        self._cache: dict[tuple[Any, ...], ClassPattern] = {}
        self._tiles: Any = None
        self.computed = 0  # class patterns computed so far (each change computes what is new)

        names = [(f"{i} ({n})" if n != str(i) else n, i) for i, n in enumerate(model.class_names)]
        self.a_picker = Picker(options=names, description="class A", layout=size("170px"))
        self.b_picker = Picker(options=names, description="class B", layout=size("170px"))
        self.layer_picker = Picker(options=model.layer_names[:-1], description="layer",
                                             layout=size("190px"))
        self.add_a = widgets.Button(description="add drawing to A", layout=size("140px"))
        self.add_b = widgets.Button(description="add drawing to B", layout=size("140px"))
        self.clear_drawings = widgets.Button(description="remove drawings", layout=size("130px"),
                                             tooltip="take the drawings you added out of both classes")
        self.pictures = [Picture(f"cnnw-fcp-{name}") for name in ("a", "b", "diff")]
        self.titles = [widgets.HTML() for _ in range(3)]
        x_scale, y_scale = bqplot.OrdinalScale(), bqplot.LinearScale()
        colours = bqplot.ColorScale(colors=[_B, "#dddddd", _A], min=-1.0, max=1.0, mid=0.0)
        tooltip = bqplot.Tooltip(fields=["x", "y"], formats=["", ".2f"], labels=["map", "Cohen's d"])
        self.bars = bqplot.Bars(x=["-"], y=[0.0], color=[0.0], tooltip=tooltip,
                                scales={"x": x_scale, "y": y_scale, "color": colours})
        self.bars.on_element_click(self._bar_clicked)
        self.chart = bqplot.Figure(
            marks=[self.bars], animation_duration=0, title="maps that separate A and B (Cohen's d)",
            axes=[bqplot.Axis(scale=x_scale, label="map"), bqplot.Axis(scale=y_scale, side="left")],
            fig_margin={"top": 30, "bottom": 40, "left": 45, "right": 10}, layout=size("460px", "240px"))
        self.examples = Picture("cnnw-fcp-examples")
        self.examples_title = widgets.HTML()
        self.drawing = Picture("cnnw-fcp-drawing")
        self.drawing_title = widgets.HTML("<small>your drawing on this layer</small>")
        self.position_bar = widgets.FloatProgress(0.5, min=0.0, max=1.0, layout=size("220px"))
        self.position_label = widgets.HTML()
        self.position_label.add_class("cnnw-fcp-position")
        self.source_label = widgets.HTML()
        self.source_label.add_class("cnnw-fcp-source")
        self.status_line = StatusLine("cnnw-fcp-status")
        for picker, css in ((self.a_picker, "cnnw-fcp-class-a"), (self.b_picker, "cnnw-fcp-class-b"),
                            (self.layer_picker, "cnnw-fcp-layer")):
            picker.add_class(css)
        mosaics = widgets.HBox([widgets.VBox([t, p]) for t, p in zip(self.titles, self.pictures)])
        super().__init__([
            style(), self.source_label,
            widgets.HBox([self.a_picker, self.b_picker, self.layer_picker, self.add_a, self.add_b,
                          self.clear_drawings]),
            self.status_line, mosaics,
            widgets.HBox([self.chart, widgets.VBox([self.examples_title, self.examples])]),
            widgets.HBox([widgets.VBox([self.drawing_title, self.drawing]),
                          widgets.VBox([self.position_label, self.position_bar])]),
        ], **kwargs)
        self.add_class("cnnw-fcp-compare")

        with self.hold_trait_notifications():
            self.layer, self.class_a, self.class_b = layer, int(classes[0]), int(classes[1])
        keep_in_step(self, "layer", self.layer_picker)
        keep_in_step(self, "class_a", self.a_picker)
        keep_in_step(self, "class_b", self.b_picker)
        for picture in self.pictures:
            picture.on_pointer(click=self._mosaic_clicked, refused=lambda message: self._say(message, error=True))
        self.add_a.on_click(lambda _: self.add_drawing(self.class_a))
        self.add_b.on_click(lambda _: self.add_drawing(self.class_b))
        self.clear_drawings.on_click(lambda _: self.remove_drawings())
        self.clear_drawings.disabled = True
        self._watch(live, self._drawing_changed, "activations")
        self._describe()
        self._waiting = lazy
        if lazy:
            self.active = False
            self._say("computed when this tab is first opened")
        else:
            self.refresh()

    # ------------------------------------------------------------------ settings
    @traitlets.validate("layer")
    def _valid_layer(self, proposal: dict[str, Any]) -> str:
        name = proposal["value"]
        if name not in self.model.layer_names[:-1]:
            raise traitlets.TraitError(f"layer {name!r} is not one FCP can show; choose one of: "
                                       f"{', '.join(self.model.layer_names[:-1])}")
        return name

    @traitlets.validate("class_a", "class_b")
    def _valid_class(self, proposal: dict[str, Any]) -> int:
        value = proposal["value"]
        if not 0 <= value < self.model.classes:
            raise traitlets.TraitError(f"class {value} does not exist; this model's classes are 0–{self.model.classes - 1}")
        return value

    @traitlets.validate("map_index")
    def _valid_map(self, proposal: dict[str, Any]) -> int:
        value, maps = proposal["value"], pattern_shape(self.model, self.layer)[-1]
        if not -1 <= value < maps:
            raise traitlets.TraitError(f"map {value} is out of range: {self.layer} has {maps} maps (0–{maps - 1}), "
                                       "or -1 for none")
        return value

    @traitlets.observe("layer", "class_a", "class_b")
    def _settings_changed(self, change: dict[str, Any]) -> None:
        if change["name"] == "layer":
            self.map_index = -1
        self.refresh()

    # ------------------------------------------------------------------ data
    def _describe(self) -> None:
        data = self.session.data.test_set
        source = data.source if data is not None else self.session.data.message
        drawn = sum(len(v) for v in self._own.values())
        self.source_label.value = (
            "<b>FCP</b> — the mean pattern of every image of class A and of class B on one layer, "
            f"their difference and the maps that separate them.<br><small>Data: {html.escape(source)}"
            + (f"; plus {drawn} of your drawings" if drawn else "") + "</small>")

    def add_drawing(self, label: int) -> None:
        """Add the current drawing to class ``label`` (works without a data set).

        Raises:
            ValueError: ``label`` is not a class, or the drawing does not fit the model.
        """
        if not isinstance(label, (int, np.integer)) or not 0 <= int(label) < self.model.classes:
            raise ValueError(f"class {label!r} does not exist; this model's classes are 0–{self.model.classes - 1}")
        image = self.live.image
        if image is None or self.live.error:
            self._say(f"the drawing cannot be added: {self.live.error or 'there is none'}", error=True)
            return
        try:
            prepared = self.model.prepare(image)[0]
        except (TypeError, ValueError) as error:
            self._say(f"the drawing cannot be added: {error}", error=True)
            return
        if float(np.ptp(prepared)) == 0.0:
            self._say("the drawing is empty (one flat colour): draw a digit first, then add it", error=True)
            return
        self._own.setdefault(int(label), []).append(prepared)
        self.clear_drawings.disabled = False
        self._describe()
        self.refresh()

    def remove_drawings(self) -> None:
        """Take every drawing added with :meth:`add_drawing` out of the classes."""
        self._own.clear()
        self.clear_drawings.disabled = True
        self._describe()
        self.refresh()

    def _pattern(self, label: int, job: Job) -> ClassPattern | None:
        """One class's pattern: from the cache, or computed (data first, then drawings)."""
        key = (self.model.version, self.layer, label, len(self._own.get(label, [])))
        if key in self._cache:
            return self._cache[key]
        images = self._class_images(label, limit=None)
        if not len(images):
            return None
        labels = np.full(len(images), label)
        pattern = class_patterns(self.model, images, labels, self.layer, (label,),
                                 progress=lambda f: job.report(f, f"class {self.model.class_names[label]}"))[label]
        self._cache = {k: v for k, v in self._cache.items() if k[0] == key[0]}  # old versions go
        self._cache[key] = pattern
        self.computed += 1
        return pattern

    def refresh(self) -> Job | None:
        """Recompute the comparison for the current classes and layer (on the session's
        worker; a newer change replaces a waiting one) and redraw.

        Returns:
            The job, or None when nothing is to be computed (not shown yet, A = B).
        """
        if self._waiting or self.closed:
            return None
        if self.class_a == self.class_b:
            self._say("Pick two different classes.", error=True)
            return None
        layer, a, b = self.layer, self.class_a, self.class_b

        def work(job: Job) -> FCPComparison | None:
            first, second = self._pattern(a, job), self._pattern(b, job)
            if first is None or second is None:
                return None
            return compare_patterns(layer, first, second)

        return self.session.worker.submit(
            work, name=f"FCP {self.model.class_names[a]} vs {self.model.class_names[b]} on {layer}",
            key=("fcp", id(self)), on_done=self._computed, on_error=self._failed)

    def _computed(self, comparison: FCPComparison | None) -> None:
        if self.closed:
            return
        if comparison is None:
            self._say("no images yet: draw a digit and press 'add drawing to A' or 'to B'", error=True)
            return
        self.comparison = comparison
        self._say(f"{comparison.a.count} images of {comparison.a.name} and {comparison.b.count} of "
                  f"{comparison.b.name} on {comparison.layer}")
        self._draw()

    def _failed(self, error: BaseException) -> None:
        self._say(f"FCP could not be computed: {error}", error=True)

    # ------------------------------------------------------------------ drawing
    def _draw(self) -> None:
        c = self.comparison
        if c is None:
            return
        a, b, diff = _as_maps(c.a.mean), _as_maps(c.b.mean), _as_maps(c.difference)
        high = float(max(a.max(), b.max(), 1e-6))
        low = float(min(a.min(), b.min(), 0.0))
        spread = float(max(np.abs(diff).max(), 1e-6))
        columns = _columns(a)
        self._tiles = mosaic(a, value_range=(low, high), columns=columns)
        name_a, name_b = html.escape(c.a.name), html.escape(c.b.name)
        shared = f"{DEFAULT_COLORMAP} {low:.2f} to {high:.2f}, the same for A and B"
        where = f"maps row by row, {columns} a row, 0 at the top left"
        pictures = [
            (self._tiles, DEFAULT_COLORMAP, f"mean of <b style='color:{_A}'>{name_a}</b><br>{shared}; {where}"),
            (mosaic(b, value_range=(low, high), columns=columns), DEFAULT_COLORMAP,
             f"mean of <b style='color:{_B}'>{name_b}</b><br>{shared}; {where}"),
            (mosaic(diff, value_range=(-spread, spread), columns=columns), "diverging",
             f"{name_a} − {name_b}<br>blue −{spread:.2f} (more in {name_b}) to red +{spread:.2f} "
             f"(more in {name_a}); {where}"),
        ]
        for picture, title, (tiles, cmap, text) in zip(self.pictures, self.titles, pictures):
            title.value = f"<small>{text}</small>"
            picture.show_mosaic(tiles, cmap, 300)
        top = c.map_ranking[:12]
        scores = c.map_scores[top]
        with self.bars.hold_sync():
            self.bars.x = [str(int(m)) for m in top]
            self.bars.y = scores
            self.bars.color = np.clip(scores / max(float(np.abs(scores).max()), 1e-6), -1, 1)
        self._outline()
        self._show_examples()
        self._show_drawing()

    def _mosaic_clicked(self, x: float, y: float) -> None:
        where = self._tiles.locate(x, y) if self._tiles is not None else None
        if where is not None:
            self.map_index = where[0]

    def _bar_clicked(self, bars: Any, event: dict[str, Any]) -> None:
        data = event.get("data") if isinstance(event, dict) else None
        index = data.get("index") if isinstance(data, dict) else None
        c = self.comparison
        if c is None or self.session.closed:  # a late click after the session closed: nothing to compute
            return
        count = min(12, len(c.map_ranking))
        if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < count:
            self.map_index = int(c.map_ranking[index])
        else:
            self._say(f"ignored a click on bar {index!r:.12}: the chart has bars 0–{count - 1}", error=True)

    @traitlets.observe("map_index")
    def _map_changed(self, change: dict[str, Any]) -> None:
        self._outline()
        self._show_examples()

    def _outline(self) -> None:
        for picture in self.pictures:
            picture.outline_tile(self._tiles, self.map_index)

    def _show_examples(self) -> Job | None:
        """The selected map for six single images of each class, and the drawing: the seed's
        'three 4s' (their maps computed on the worker, not in the click's handler)."""
        c = self.comparison
        if c is None or self.map_index < 0 or c.layer != self.layer:
            self.examples_title.value = "<small>click a map (or a bar) to see it for single images</small>"
            return None
        layer, map_index = self.layer, self.map_index
        samples = [self._class_images(label)[:6] for label in (c.a.label, c.b.label)]

        def work(job: Job) -> list[np.ndarray]:
            return [self.model.activations(images, layer)[layer] for images in samples if len(images)]

        def show(chosen: list[np.ndarray]) -> None:
            if self.closed or (layer, map_index) != (self.layer, self.map_index):
                return
            if layer in self.live.activations:
                chosen = [*chosen, self.live.activations[layer][None]]
            maps = np.concatenate([v.reshape(len(v), *_as_maps(v[0]).shape) for v in chosen])[..., map_index]
            self.examples.show_mosaic(mosaic(np.moveaxis(maps, 0, -1), columns=6), DEFAULT_COLORMAP, 300)
            self.examples_title.value = (
                f"<small>map {map_index} (d = {c.map_scores[map_index]:+.2f}): "
                f"six {html.escape(c.a.name)}s, six {html.escape(c.b.name)}s, your drawing last; "
                f"{DEFAULT_COLORMAP}, one scale for all: {min(0.0, float(maps.min())):.2f} to "
                f"{float(maps.max()):.2f}</small>")

        return self.session.worker.submit(work, name=f"map {map_index} of single images", quiet=True,
                                          key=("fcp-examples", id(self)), on_done=show, on_error=self._failed)

    def _class_images(self, label: int, limit: int | None = 6) -> np.ndarray:
        """Images of class ``label``: from the data (as stored), then the drawings."""
        parts = []
        data = self.session.data.test_set
        if data is not None:
            chosen = data.images[data.of_class(label)[:limit]]
            if len(chosen):
                parts.append(self.model.prepare(chosen) if self._own.get(label) else chosen)
        own = self._own.get(label, [])
        if own:
            parts.append(np.stack(own))
        if not parts:
            return np.zeros((0, *self.model.input_shape), np.float32)
        return (np.concatenate(parts) if len(parts) > 1 else parts[0])[:limit]

    @traitlets.observe("active")
    def _following(self, change: dict[str, Any]) -> None:
        if change["new"]:
            if self._waiting:
                self._waiting = False
                self.refresh()  # first time shown (see ``lazy``)
            else:
                self._show_drawing()

    def _drawing_changed(self, change: dict[str, Any]) -> None:
        self._show_drawing()

    def _show_drawing(self) -> None:
        c = self.comparison
        if (c is None or not self.active or self.closed or c.layer not in self.live.activations):
            return
        values = self.live.activations[c.layer]
        tiles = mosaic(_as_maps(values), columns=_columns(_as_maps(values)))
        self.drawing.show_mosaic(tiles, DEFAULT_COLORMAP, 300)
        self.drawing_title.value = (
            f"<small>your drawing on this layer: {DEFAULT_COLORMAP} {min(0.0, float(values.min())):.2f} to "
            f"{float(values.max()):.2f}; maps row by row, {tiles.columns} a row</small>")
        where = c.position(values)
        self.position_bar.value = float(np.clip(where, 0.0, 1.0))
        self.position_label.value = (f"<small>your drawing: <b>{where:.2f}</b> on the way from the mean "
                                     f"{html.escape(c.b.name)} (0) to the mean {html.escape(c.a.name)} (1), "
                                     f"on the 16 most separating maps</small>")

    def _model_changed(self) -> None:
        self.refresh()  # the class patterns are kept per model version: computed again

    def _closing(self) -> None:
        self.session.worker.cancel(("fcp", id(self)))
        self.session.worker.cancel(("fcp-examples", id(self)))


def _columns(maps: np.ndarray) -> int:
    from ...render import default_columns

    return default_columns(maps.shape[-1], maps.shape[:2])
