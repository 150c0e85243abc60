"""Explorer: the composed dashboard — draw a digit, watch every layer react.

The Explorer is a :class:`~cnn_widgets.session.session.Session` plus a layout: every part
is a view over that one session (model, drawing, test images, worker, status).
"""

from __future__ import annotations

import html
from typing import Any, Callable

import ipywidgets as widgets

from ..session import Session

from . import (DenseView, DigitPad, FCPCompare, FilterGallery, MapGrid, OIPExplorer, ProbabilityBars,
                      ReceptiveField, TrainingHistory)
from . import CellInspector, ConfusionBrowser, DigitsSideBySide, SaliencyView  # looking inside
from ..data.files import open_own
from .controls import Tabs
from .live.grid_pages import GRID_PAGE_LIMIT, GridPages
from .live.image_source import ImageSource
from .view import SessionView, StatusLine

__all__ = ["Explorer"]


class Explorer(SessionView, widgets.VBox):
    """Drawing pad, what the network sees, class probabilities, a map grid for every
    conv and pooling layer and the dense layer, all updating while you draw; below,
    the OIP explorer for the map clicked last, the FCP comparison of two classes
    (4 vs 9 on conv3 to start with, your drawing among them), the decoded filters
    and how the model was trained (its recorded loss and accuracy per epoch).
    Clicking a cell of a map outlines its receptive field on the image.

    Args:
        model: A :class:`~cnn_widgets.CNNModel` (default the embedded MNIST CNN), or
            a :class:`~cnn_widgets.session.session.Session` to show.
        data: ``(images, labels)`` for the views (class patterns, samples, top
            images); default the MNIST test split shipped in the package, for models
            that take 28×28 grey digits. Also an ``.npz`` file path (see
            :func:`cnn_widgets.data.files.load_data`).
        classes: Class names: a list or a text file, one name a line.

    ``model`` may also be a ``.keras`` file path. A model with more than
    ``GRID_PAGE_LIMIT`` layers with maps shows its grids a block at a time (``explorer.pages``).

    The pad draws grey images, so it is offered for models that take grey images of
    a fixed size; other models still get every view, fed through
    ``explorer.session.live.image``.

    The parts are ordinary widgets over one session, so you can compose your own::

        import ipywidgets as widgets
        from cnn_widgets import DigitPad, MapGrid, ProbabilityBars, Session

        session = Session()                            # the embedded MNIST CNN
        pad = DigitPad(session)                        # draws on the session's drawing: every view follows
        widgets.HBox([pad, widgets.VBox([ProbabilityBars(session), MapGrid(session, "conv2")])])
    """

    def __init__(self, model: Any = None, *, data: Any = None, classes: Any = None, **kwargs: Any) -> None:
        if isinstance(model, Session):
            if data is not None:
                raise ValueError("give data to the Session, not to the Explorer: Session(model, data=...)")
            self._attach(model)
        else:
            model, data = open_own(model, data, classes)  # files: a .keras model, an .npz, class names
            self._attach(Session(model, data=data))
            self._own_session = True
        session = self.session
        self.model, self.live = session.model, session.live
        height, width, channels = self.model.input_shape
        self.status_line = StatusLine("cnnw-explorer-status")
        left: list[widgets.Widget] = []
        self.pad: DigitPad | None = None
        self.source: ImageSource | None = None
        if session.drawing is not None:
            self.pad = DigitPad(session)  # draws on the session's drawing: every view follows
            left.append(self.pad)
        else:  # the data set's images and picture files instead of the pad
            self.source = ImageSource(session)
            left.append(self.source)
        self.probabilities = ProbabilityBars(session)
        self.receptive_field = ReceptiveField(session)
        self.probabilities.figure.layout.height = "150px"
        # The receptive field beside the pad, the answer under it: the pad, the answer and a
        # grid fit a 1280×720 screen with the tab bar; in a narrow column they wrap.
        left = [widgets.HBox([*left, self.receptive_field], layout=widgets.Layout(flex_flow="row wrap",
                                                                                 grid_gap="4px 12px")),
                self.probabilities]
        big = len(self.model.spatial_layers) > GRID_PAGE_LIMIT  # a block of grids at a time, each bounded
        self.pages = GridPages(session, wire=self._wire_grid) if big else None
        self.grids = self.pages.grids if self.pages else [MapGrid(session, name) for name in self.model.spatial_layers]
        for grid in self.grids:
            grid.layer_picker.layout.display = "none"  # each grid keeps its own layer here
        right: list[widgets.Widget] = [self.pages] if self.pages else list(self.grids)
        try:
            self.dense: DenseView | None = DenseView(session)
            right.append(self.dense)
        except ValueError:
            self.dense = None
        # The maps scroll in a box about one screen tall (never under one grid), so the tab bar
        # stays on the first screen; as many grids a row as fit.
        columns = widgets.GridBox(
            right, layout=widgets.Layout(grid_template_columns="repeat(auto-fill, minmax(440px, 1fr))",
                                         grid_gap="8px 16px", flex="1 1 440px", min_width="0",
                                         max_height="max(340px, calc(100vh - 190px))", overflow="auto"))
        columns.add_class("cnnw-explorer-maps")
        drawing = widgets.VBox(left, layout=widgets.Layout(flex="0 1 auto", max_width="100%"))
        drawing.add_class("cnnw-explorer-drawing")
        self.oip = OIPExplorer(session)
        for grid in self.grids:
            self.oip.follow(grid)  # click a map: its OIP is one Run away
            self.receptive_field.follow(grid)  # ... and the cell's field is outlined
        # The other panels are built when their tab is first opened: a faster start
        # (fewer widgets for the page to draw), less memory, fewer messages per stroke.
        self.tabs = Tabs([self.oip], titles=("OIP",))
        self.tabs.add_class("cnnw-explorer-tabs")
        self._panels: dict[str, Any] = {"OIP": self.oip}
        self._builders: dict[str, Callable[[], widgets.Widget]] = {}
        self.add_panel("FCP", lambda: FCPCompare(session, lazy=True))
        self.add_panel("Filters", lambda: FilterGallery(session))
        self.add_panel("Training", lambda: TrainingHistory(session))  # how this model was trained
        self.tabs.observe(self._tab_changed, "selected_index")
        self._watch(session, self._status_changed, ["status", "status_error"])
        self._watch(self.live, self._live_error, "error")
        super().__init__(
            [self.status_line,
             widgets.HBox([drawing, columns],
                          layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start", grid_gap="8px 16px")),
             self.tabs],
            **kwargs,
        )
        self.add_class("cnnw-explorer")
        if getattr(self.model, "graph_notes", None):  # e.g. 'conv 1' shown as conv_1: say why
            self.status_line.say("; ".join(self.model.graph_notes))
        # Looking inside: the arithmetic of the cell clicked last on any grid, what the network
        # gets wrong (click a mistake: it becomes the drawing), "A rather than B" for the drawing
        # with the FCP tab's pair.
        self._clicked: tuple[str, tuple[int, ...]] | None = None  # where the inspector opens
        for grid in self.grids:
            self._watch(grid, lambda change, g=grid: self._cell_clicked(g), ["cell", "map_index"])
        self.add_panel("Inside a cell", self._inspector)
        self.add_panel("Mistakes", lambda: ConfusionBrowser(session))  # a mistake picked goes onto the pad
        self.add_panel("A rather than B", self._saliency)
        if self.pad is not None:  # beside the pad: the data set by class, index or mistakes first; a picture file
            self.add_panel("Images", lambda: ImageSource(session))
            if self.model.classes >= 5:  # seed 000: three 4s against a 1 and a 2, every map side by side
                self.add_panel("Digits side by side", lambda: DigitsSideBySide(session))

    # ------------------------------------------------------------------ panels
    def add_panel(self, title: str, build: Callable[[], widgets.Widget]) -> None:
        """Add a tab whose content ``build()`` makes when the tab is first opened.

        A panel with a ``active`` trait follows the drawing only while shown.

        Raises:
            ValueError: A panel of that title exists.
        """
        if title in self._panels or title in self._builders:
            raise ValueError(f"the Explorer already has a panel {title!r}")
        self._builders[title] = build
        placeholder = widgets.HTML(f"<small>{html.escape(title)}: opens when you choose this tab</small>")
        self.tabs.children = (*self.tabs.children, placeholder)
        self.tabs.set_title(len(self.tabs.children) - 1, title)

    def panel(self, title: str) -> widgets.Widget:
        """The panel of tab ``title``, built now if it was not yet.

        Raises:
            ValueError: No such panel, or the Explorer is closed.
        """
        if title not in self._panels:
            if self.closed:
                raise ValueError("this Explorer is closed")
            if title not in self._builders:
                raise ValueError(f"no panel {title!r}; the Explorer has: {', '.join(self.titles)}")
            try:
                view = self._builders.pop(title)()
            except (ValueError, TypeError) as error:  # the panel does not apply to this model: one line says why
                view = widgets.HTML(f"<small>{html.escape(title)} does not apply to this model: "
                                    f"{html.escape(str(error))}</small>")
                view.add_class("cnnw-not-applicable")
            self._panels[title] = view
            index = self.titles.index(title)
            children = list(self.tabs.children)
            children[index] = view
            with self.tabs.hold_sync():
                self.tabs.children = children
                self.tabs.set_title(index, title)
            self._pair()
        return self._panels[title]

    @property
    def titles(self) -> list[str]:
        """The tabs' titles, in order."""
        return list(self.tabs.titles)

    @property
    def fcp(self) -> FCPCompare:
        """The FCP panel (built on first use)."""
        return self.panel("FCP")  # type: ignore[return-value]

    @property
    def filters(self) -> FilterGallery:
        """The filters panel (built on first use)."""
        return self.panel("Filters")  # type: ignore[return-value]

    @property
    def inspector(self) -> CellInspector:
        """The cell inspector panel (built on first use)."""
        return self.panel("Inside a cell")  # type: ignore[return-value]

    @property
    def confusion(self) -> ConfusionBrowser:
        """The confusion-matrix panel (built on first use)."""
        return self.panel("Mistakes")  # type: ignore[return-value]

    @property
    def saliency(self) -> SaliencyView:
        """The "A rather than B" panel (built on first use)."""
        return self.panel("A rather than B")  # type: ignore[return-value]

    def _wire_grid(self, grid: MapGrid) -> None:
        """A grid of a page turned to: the OIP, the receptive field and the inspector follow it."""
        self.oip.follow(grid)
        self.receptive_field.follow(grid)
        self._watch(grid, lambda change, g=grid: self._cell_clicked(g), ["cell", "map_index"])
        if "Inside a cell" in self._panels:
            self._panels["Inside a cell"].follow(grid)

    def _cell_clicked(self, grid: MapGrid) -> None:
        if grid.map_index >= 0 and len(grid.cell) == 2:
            self._clicked = (grid.layer, (*grid.cell, grid.map_index))

    def _inspector(self) -> CellInspector:
        layer, cell = self._clicked or (None, None)
        inspector = CellInspector(self.session, layer, cell)  # opens on the cell clicked last
        for grid in self.grids:
            inspector.follow(grid)
        return inspector

    def _saliency(self) -> SaliencyView:
        view = SaliencyView(self.session, lazy=True)  # computes once its tab shows it
        if isinstance(self._panels.get("FCP"), FCPCompare):
            view.follow(self._panels["FCP"])  # A and B: the FCP tab's pair (else once it is built)
        return view

    def _pair(self) -> None:
        """Once both are built, "A rather than B" takes its pair from the FCP tab (building a
        panel from another's builder would switch the tab shown)."""
        fcp, view = self._panels.get("FCP"), self._panels.get("A rather than B")
        if isinstance(fcp, FCPCompare) and isinstance(view, SaliencyView) and view.following is None:
            view.follow(fcp)

    def _tab_changed(self, change: dict[str, Any]) -> None:
        index = change["new"]
        shown = self.panel(self.titles[index]) if index is not None and 0 <= index < len(self.titles) else None
        for view in self._panels.values():
            if view.has_trait("active"):
                view.active = view is shown

    # ------------------------------------------------------------------ status
    def _status_changed(self, change: dict[str, Any]) -> None:
        self.status_line.say(self.session.status, self.session.status_error)

    def _live_error(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.status_line.say(f"The drawing cannot be shown: {change['new']}", error=True)
        elif self.status_line.error:
            self.status_line.say("")


