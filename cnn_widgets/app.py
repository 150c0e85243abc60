"""Explorer: the composed dashboard — draw a digit, watch every layer react."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import traitlets

from .live import LiveModel
from .widgets import (DenseView, DigitPad, FCPCompare, FilterGallery, MapGrid, OIPExplorer, ProbabilityBars,
                      ReceptiveField)

__all__ = ["Explorer"]


class Explorer(widgets.VBox):
    """Drawing pad, what the network sees, class probabilities, a map grid for every
    conv and pooling layer and the dense layer, all updating while you draw; below,
    the OIP explorer for the map clicked last, the FCP comparison of two classes
    (4 vs 9 on conv3 to start with, your drawing among them) and the decoded filters.
    Clicking a cell of a map outlines its receptive field on the image.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`; default the embedded MNIST CNN.
            Drawing produces 28×28 grey images, so the pad needs a model that
            takes those; other models still get every view, fed through ``live.image``.

    The parts are ordinary widgets wired with traitlets, so you can compose your own::

        import traitlets, ipywidgets as widgets
        from cnn_widgets import CNNModel
        from cnn_widgets.live import LiveModel
        from cnn_widgets.widgets import DigitPad, MapGrid, ProbabilityBars

        live = LiveModel(CNNModel.default())
        pad = DigitPad()
        traitlets.dlink((pad, "image"), (live, "image"))
        grid = MapGrid(live, "conv2", colormap="grey")
        widgets.HBox([pad, widgets.VBox([ProbabilityBars(live), grid])])
    """

    def __init__(self, model: Any = None, **kwargs: Any) -> None:
        if model is None:
            from .model import CNNModel

            model = CNNModel.default()
        self.model = model
        self.live = LiveModel(model)
        height, width, channels = model.input_shape
        self.pad: DigitPad | None = None
        left: list[widgets.Widget] = []
        test_set = None
        if (height, width, channels) == (28, 28, 1):
            test_set = _mnist_test_set()  # loaded once, shared by the pad, FCP and the filters
            self.pad = DigitPad(samples=(lambda: ((None, None), test_set)) if test_set else None)
            traitlets.dlink((self.pad, "image"), (self.live, "image"))
            left.append(self.pad)
        self.probabilities = ProbabilityBars(self.live)
        self.receptive_field = ReceptiveField(self.live)
        left += [self.probabilities, self.receptive_field]
        self.grids = [MapGrid(self.live, name) for name in model.spatial_layers]
        for grid in self.grids:
            grid.layer_picker.layout.display = "none"  # each grid keeps its own layer here
        right: list[widgets.Widget] = list(self.grids)
        try:
            self.dense: DenseView | None = DenseView(self.live)
            right.append(self.dense)
        except ValueError:
            self.dense = None
        columns = widgets.GridBox(
            right, layout=widgets.Layout(grid_template_columns="repeat(auto-fill, minmax(440px, 1fr))",
                                         grid_gap="8px 16px", width="100%"))
        self.oip = OIPExplorer(model)
        for grid in self.grids:
            self.oip.follow(grid)  # click a map: its OIP is one Run away
            self.receptive_field.follow(grid)  # ... and the cell's field is outlined
        self.fcp = FCPCompare(model, self.live, data=test_set, lazy=True)
        self.filters = FilterGallery(model, data=None if test_set is None else test_set[0][:2000])
        self.tabs = widgets.Tab([self.oip, self.fcp, self.filters], titles=("OIP", "FCP", "Filters"))
        self.tabs.add_class("cnnw-explorer-tabs")
        # The FCP tab computes when first opened and follows the drawing only while
        # shown: a faster start, less memory, fewer messages per stroke.
        self.tabs.observe(lambda change: setattr(self.fcp, "follow_drawing", change["new"] == 1),
                          "selected_index")
        super().__init__(
            [widgets.HBox([widgets.VBox(left, layout=widgets.Layout(min_width="420px")), columns]),
             self.tabs],
            **kwargs,
        )
        self.add_class("cnnw-explorer")


def _mnist_test_set() -> tuple[Any, Any] | None:
    """The MNIST test set if it can be had, else None (the widgets then say why)."""
    from .data import load_mnist

    try:
        return load_mnist()[1]
    except (OSError, ValueError, RuntimeError):
        return None
