"""LiveView: a live view's picture drawn in the browser from the shared front-end model.

A :class:`MapGrid`, :class:`DenseView`, :class:`ProbabilityBars` or the pad's "the network
sees" holds one when the browser computes the model (:mod:`.browser_network`): its module
(``views.js``) repaints on every frame of a stroke from the browser's activations with no
kernel message, answers hover itself and sends a click as ``map_index`` and ``cell``. The
view's kernel picture stays under it (hidden while the module runs), updated once a
stroke ends, so a saved or exported notebook still shows the last state.
"""

from __future__ import annotations

import pathlib
from typing import Any

import anywidget
import traitlets

from ...render import COLORMAPS, DEFAULT_COLORMAP
from .browser_network import browser_network, widget_ref

__all__ = ["LiveView", "live_view"]

_HERE = pathlib.Path(__file__).parent


class LiveView(anywidget.AnyWidget):
    """One live view's browser picture (see the module's docstring)."""

    _esm = _HERE / "views.js"
    _css = _HERE / "views.css"
    kind = traitlets.Enum(["maps", "dense", "bars", "image"], "maps", help="what is drawn").tag(sync=True)
    network = traitlets.Unicode("", help="the BrowserNetwork computing it (an anywidget reference)").tag(sync=True)
    layer = traitlets.Unicode("", help="the layer drawn (maps, dense)").tag(sync=True)
    colormap = traitlets.Enum(list(COLORMAPS), DEFAULT_COLORMAP, help="the colour map").tag(sync=True)
    normalize = traitlets.Enum(["layer", "map"], "layer", help="one scale for the layer, or each map its own").tag(
        sync=True)
    columns = traitlets.Int(1, help="maps (or units) a row, as the kernel's picture has them").tag(sync=True)
    zoom = traitlets.Int(1, help="screen pixels per picture pixel").tag(sync=True)
    map_index = traitlets.Int(-1, help="the map clicked in the browser; -1 for none").tag(sync=True)
    cell = traitlets.List(help="[row, col] of the clicked cell; [] for none").tag(sync=True)

    @traitlets.observe("comm")
    def _closed(self, change: dict[str, Any]) -> None:
        # however it is closed (close(), or a container's close_tree): the network is told
        if change["new"] is None:
            network = self.__dict__.pop("_network", None)
            if network is not None:
                network.release(self)


def live_view(view: Any, kind: str, **traits: Any) -> LiveView | None:
    """A LiveView of ``kind`` for ``view`` (a SessionView), or None when the browser cannot
    compute the session's model (the session's status line says why, once)."""
    network, why = browser_network(view.session)
    if network is None:
        return None
    live = LiveView(kind=kind, network=widget_ref(network), **traits)
    live._network = network
    network.use(live)
    view.__dict__.setdefault("_live_views", []).append(live)
    return live


def drawing_open(session: Any) -> bool:
    """True while a stroke is under the pen: the kernel leaves the live pictures to the browser."""
    drawing = getattr(session, "drawing", None)
    return drawing is not None and drawing.open is not None
