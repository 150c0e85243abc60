"""FCPCompare: what all "4"s share on a layer that "9"s don't — and where your drawing falls."""

from __future__ import annotations

import html
import threading
from typing import Any, Callable

import bqplot
import ipywidgets as widgets
import numpy as np
import traitlets

from ..fcp import ClassPattern, FCPComparison, class_patterns, compare_patterns
from ..render import mosaic
from .picture import Picture, size, style

__all__ = ["FCPCompare"]

_A, _B = "#e6550d", "#3182bd"


def _as_maps(values: np.ndarray) -> np.ndarray:
    """A layer's output for one image as maps (h, w, maps); flat layers become 1×1 maps."""
    return values if values.ndim == 3 else values.reshape(1, 1, -1)


class FCPCompare(widgets.VBox):
    """Class A's mean pattern | class B's | A − B, the maps that separate them,
    single images of each class on a chosen map, and the current drawing among them.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.
        live: A :class:`~cnn_widgets.live.LiveModel` to follow (the drawing); optional.
        data: ``(images, labels)`` to build the classes from; default the MNIST
            test set when it can be loaded. Without data, classes are built from
            drawings: "add to A" / "add to B" take the live model's current image.
        classes: The two classes shown first; default 4 and 9 (0 and 1 for a model
            with fewer than ten classes).
        lazy: Compute nothing until ``follow_drawing`` is first set (e.g. when
            a dashboard tab shows the widget): a faster start, less memory.
        layer: Default the last conv layer.
    """

    layer = traitlets.Unicode()
    class_a = traitlets.Int(4)
    class_b = traitlets.Int(9)
    selected_map = traitlets.Int(-1)
    comparison = traitlets.Instance(FCPComparison, allow_none=True)
    status = traitlets.Unicode("")
    follow_drawing = traitlets.Bool(True, help="update the drawing's pattern while it changes")

    def __init__(self, model: Any, live: Any = None, *, data: tuple[Any, Any] | None = None,
                 classes: tuple[int, int] | None = None, layer: str | None = None,
                 load: Callable[[], Any] | None = None, lazy: bool = False, **kwargs: Any) -> None:
        self.model, self.live = model, live
        self._waiting = lazy  # nothing is computed until the widget is first shown
        convs = [row.name for row in model.layers_table() if row.is_conv]
        layer = layer or convs[-1]
        model.layer(layer)
        if classes is None:
            classes = (4, 9) if model.classes >= 10 else (0, 1)
        if len(classes) != 2 or any(not 0 <= int(c) < model.classes for c in classes):
            raise ValueError(f"classes must be two class indices in 0–{model.classes - 1}; got {classes}")
        self._lock = threading.Lock()
        self._own: dict[int, list[np.ndarray]] = {}  # drawings added per class
        self._note = ""
        if data is None:
            try:
                (_, _), data = (load or _load_mnist_for(model))()
            except (OSError, ValueError, RuntimeError) as error:
                self._note = f"No data set ({error}). Build each class from your drawings."
        # kept as given (uint8 MNIST: 8 MB); each class is converted when it is used
        self._data = None if data is None else (np.asarray(data[0]), np.asarray(data[1]))

        names = [(f"{i} ({n})" if n != str(i) else n, i) for i, n in enumerate(model.class_names)]
        self.a_picker = widgets.Dropdown(options=names, description="class A", layout=size("170px"))
        self.b_picker = widgets.Dropdown(options=names, description="class B", layout=size("170px"))
        self.layer_picker = widgets.Dropdown(options=model.layer_names[:-1], description="layer",
                                             layout=size("190px"))
        self.add_a = widgets.Button(description="add drawing to A", layout=size("150px"))
        self.add_b = widgets.Button(description="add drawing to B", layout=size("150px"))
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
        self.position_bar = widgets.FloatProgress(0.5, min=0.0, max=1.0, layout=size("220px"))
        self.position_label = widgets.HTML()
        self.position_label.add_class("cnnw-fcp-position")
        self.status_label = widgets.HTML()
        self.status_label.add_class("cnnw-fcp-status")
        for picker, css in ((self.a_picker, "cnnw-fcp-class-a"), (self.b_picker, "cnnw-fcp-class-b"),
                            (self.layer_picker, "cnnw-fcp-layer")):
            picker.add_class(css)
        mosaics = widgets.HBox([widgets.VBox([t, p]) for t, p in zip(self.titles, self.pictures)])
        super().__init__([
            style(), widgets.HTML("<b>FCP</b> — class patterns on a layer, side by side"),
            widgets.HBox([self.a_picker, self.b_picker, self.layer_picker, self.add_a, self.add_b]),
            self.status_label, mosaics,
            widgets.HBox([self.chart, widgets.VBox([self.examples_title, self.examples])]),
            widgets.HBox([widgets.VBox([widgets.HTML("<small>your drawing on this layer</small>"), self.drawing]),
                          widgets.VBox([self.position_label, self.position_bar])]),
        ], **kwargs)
        self.add_class("cnnw-fcp-compare")

        with self.hold_trait_notifications():
            self.layer, self.class_a, self.class_b = layer, int(classes[0]), int(classes[1])
        traitlets.link((self, "layer"), (self.layer_picker, "value"))
        traitlets.link((self, "class_a"), (self.a_picker, "value"))
        traitlets.link((self, "class_b"), (self.b_picker, "value"))
        for picture in self.pictures:
            picture.on_pointer(click=lambda x, y, p=picture: self._mosaic_clicked(p, x, y))
        self.add_a.on_click(lambda _: self.add_drawing(self.class_a))
        self.add_b.on_click(lambda _: self.add_drawing(self.class_b))
        self.add_a.disabled = self.add_b.disabled = live is None
        if live is not None:
            live.observe(lambda change: self._show_drawing(), "activations")
        if lazy:
            self.follow_drawing = False
            self._say("shown when this tab is opened")
        else:
            self.update()

    # ------------------------------------------------------------------ data
    @traitlets.observe("layer", "class_a", "class_b")
    def _settings_changed(self, change: dict[str, Any]) -> None:
        if change["name"] == "layer":
            self.selected_map = -1
        self.update()

    def add_drawing(self, label: int) -> None:
        """Add the live model's current image to class ``label`` (works without a data set)."""
        if self.live is None or self.live.image is None:
            return
        self._own.setdefault(int(label), []).append(np.array(self.live.image, np.float32))
        self.update()

    def _patterns(self) -> dict[int, ClassPattern]:
        wanted = (self.class_a, self.class_b)
        parts_x, parts_y = [], []
        for label in wanted:
            images = self._class_images(label, limit=None)
            if len(images):
                parts_x.append(images)
                parts_y.append(np.full(len(images), label))
        if not parts_x:
            raise ValueError("no images yet: draw a digit and press 'add drawing to A' or 'to B'")
        return class_patterns(self.model, np.concatenate(parts_x), np.concatenate(parts_y), self.layer, wanted)

    def update(self) -> None:
        """Recompute the comparison for the current classes and layer, and redraw."""
        if self._waiting:
            return
        if self.class_a == self.class_b:
            self._say("Pick two different classes.", error=True)
            return
        try:
            with self._lock:
                patterns = self._patterns()
                comparison = compare_patterns(self.layer, patterns[self.class_a], patterns[self.class_b])
        except ValueError as error:
            self._say(str(error), error=True)
            return
        self.comparison = comparison
        self._say(f"{comparison.a.count} images of {comparison.a.name} and {comparison.b.count} of "
                  f"{comparison.b.name} on <b>{self.layer}</b>" + (f"<br>{self._note}" if self._note else ""))
        self._draw()

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
        pictures = [
            (self._tiles, "jet", f"mean of <b style='color:{_A}'>{c.a.name}</b>"),
            (mosaic(b, value_range=(low, high), columns=columns), "jet", f"mean of <b style='color:{_B}'>{c.b.name}</b>"),
            (mosaic(diff, value_range=(-spread, spread), columns=columns), "diverging",
             f"{c.a.name} − {c.b.name} (red: more in {c.a.name})"),
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

    def _mosaic_clicked(self, picture: Picture, x: float, y: float) -> None:
        where = self._tiles.locate(x, y) if getattr(self, "_tiles", None) is not None else None
        if where is not None:
            self.selected_map = where[0]

    def _bar_clicked(self, bars: Any, event: dict[str, Any]) -> None:
        index = event.get("data", {}).get("index")
        if index is not None and self.comparison is not None:
            self.selected_map = int(self.comparison.map_ranking[int(index)])

    @traitlets.observe("selected_map")
    def _map_changed(self, change: dict[str, Any]) -> None:
        self._outline()
        self._show_examples()

    def _outline(self) -> None:
        for picture in self.pictures:
            picture.outline_tile(getattr(self, "_tiles", None), self.selected_map)

    def _show_examples(self) -> None:
        """The selected map for six single images of each class, and the drawing: the seed's 'three 4s'."""
        c = self.comparison
        if c is None or self.selected_map < 0:
            self.examples_title.value = "<small>click a map (or a bar) to see it for single images</small>"
            return
        chosen = []
        for label in (c.a.label, c.b.label):
            images = self._class_images(label)[:6]
            if len(images):
                chosen.append(self.model.activations(images, self.layer)[self.layer])
        if self.live is not None and self.layer in self.live.activations:
            chosen.append(self.live.activations[self.layer][None])
        maps = np.concatenate([v.reshape(len(v), *_as_maps(v[0]).shape) for v in chosen])[..., self.selected_map]
        tiles = mosaic(np.moveaxis(maps, 0, -1), columns=6)
        self.examples.show_mosaic(tiles, "jet", 300)
        self.examples_title.value = (f"<small>map {self.selected_map} (d = {c.map_scores[self.selected_map]:+.2f}): "
                                     f"six {c.a.name}s, six {c.b.name}s"
                                     + (", your drawing last" if self.live is not None else "") + "</small>")

    def _class_images(self, label: int, limit: int | None = 6) -> np.ndarray:
        """Images of class ``label`` as the model takes them: from the data, then drawings."""
        parts = []
        if self._data is not None:
            chosen = self._data[0][self._data[1] == label][:limit]
            if len(chosen):
                parts.append(self.model.prepare(chosen))
        own = self._own.get(label, [])
        if own:
            parts.append(self.model.prepare(np.stack(own)))
        if not parts:
            return np.zeros((0, *self.model.input_shape), np.float32)
        return np.concatenate(parts)[:limit]

    @traitlets.observe("follow_drawing")
    def _following(self, change: dict[str, Any]) -> None:
        if change["new"]:
            if self._waiting:
                self._waiting = False
                self.update()  # first time shown (see ``lazy``)
            else:
                self._show_drawing()

    def _show_drawing(self) -> None:
        c = self.comparison
        if c is None or self.live is None or not self.follow_drawing or self.layer not in self.live.activations:
            return
        values = self.live.activations[self.layer]
        tiles = mosaic(_as_maps(values), columns=_columns(_as_maps(values)))
        self.drawing.show_mosaic(tiles, "jet", 300)
        where = c.position(values)
        self.position_bar.value = float(np.clip(where, 0.0, 1.0))
        self.position_label.value = (f"<small>your drawing: <b>{where:.2f}</b> on the way from the mean "
                                     f"{c.b.name} (0) to the mean {c.a.name} (1), on the 16 most "
                                     f"separating maps</small>")

    def _say(self, message: str, error: bool = False) -> None:
        self.status = html.unescape(message.replace("<b>", "").replace("</b>", "").replace("<br>", " "))
        self.status_label.value = f'<span class="cnnw-error">{html.escape(message)}</span>' if error else message


def _columns(maps: np.ndarray) -> int:
    from ..render import default_columns

    return default_columns(maps.shape[-1], maps.shape[:2])


def _load_mnist_for(model: Any) -> Callable[[], Any]:
    def load() -> Any:
        if tuple(model.input_shape) != (28, 28, 1):
            raise ValueError("this model does not take MNIST images")
        from ..data import load_mnist

        return load_mnist()
    return load

