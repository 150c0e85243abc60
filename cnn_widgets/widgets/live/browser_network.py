"""BrowserNetwork: the session's model in the browser, one per session and model version.

The live views (pad, map grids, dense view, probabilities) compute in the browser: the
kernel sends the model once — a portable spec (:mod:`cnn_widgets.model.portable`), its
weights as one binary buffer — to this widget; its front-end module (``network.js`` +
``hub.js``) makes every layer's activations of the pad's image on each frame of a stroke,
and the views that reference it repaint from them with no kernel message. The kernel
stays the source of truth: it receives the strokes and computes for what needs Python.

When the image in front of the network does not come from a pad's strokes (a test
image, an image set in code), the kernel sends it (a few KB) and the browser computes
from it. A model the browser cannot compute gets no BrowserNetwork: the views draw
from the kernel, and :func:`browser_network` says why in one line.
"""

from __future__ import annotations

import pathlib
import weakref
from typing import Any

import anywidget
import numpy as np
import traitlets

from ...render import COLORMAPS
from ...render.colour import palette

__all__ = ["BrowserNetwork", "browser_network", "widget_ref"]

_HERE = pathlib.Path(__file__).parent
#: The module of the shared front-end model: the forward pass, then the hub.
ESM = (_HERE / "network.js").read_text() + (_HERE / "hub.js").read_text()


def widget_ref(widget: Any) -> str:
    """How an anywidget front end names another widget (``host.getWidget(ref)``)."""
    return f"anywidget:{widget.model_id}"


class BrowserNetwork(anywidget.AnyWidget):
    """The session's model, computed in the browser; shows nothing itself.

    Args:
        session: The :class:`~cnn_widgets.session.Session` whose model and image to send.

    Raises:
        ValueError: The browser cannot compute this model (one line naming the layer).
    """

    _esm = ESM
    header = traitlets.Dict(help="the portable spec without its weights: layers, configs, shapes").tag(sync=True)
    weights = traitlets.Bytes(b"", help="every weight, float32, one buffer (sent once per model version)").tag(
        sync=True)
    version = traitlets.Int(0, help="the model version the weights are of").tag(sync=True)
    image = traitlets.Bytes(b"", help="the image the kernel put in front of the network (float32), when it "
                                      "did not come from a pad's strokes").tag(sync=True)
    image_id = traitlets.Int(0, help="bumped with every image the kernel sends").tag(sync=True)
    palettes = traitlets.Dict(help="colour map name → 256 RGB entries (768 numbers), the last the gap").tag(
        sync=True)

    def __init__(self, session: Any, **kwargs: Any) -> None:
        self.session = session
        self.live = session.live
        spec = self.live.portable()  # NotPortable (a ValueError) before any widget exists
        image = np.ascontiguousarray(np.asarray(self.live.image, "<f4")).tobytes()
        # everything in the widget's first message: the weights as one binary buffer
        super().__init__(palettes={name: list(palette(name)) for name in COLORMAPS}, header=spec.header(),
                         weights=spec.buffer, version=int(getattr(self.live.model, "version", 0)),
                         image=image, image_id=1, **kwargs)
        session.watch(self.live, self._kernel_image, "image", view=self)
        session.watch(session, self._new_version, "model_version", view=self)

    def _send_model(self, spec: Any) -> None:
        with self.hold_sync():
            self.header = spec.header()
            self.weights = spec.buffer
            self.version = int(getattr(self.live.model, "version", 0))

    def _send_image(self, force: bool = False) -> None:
        """The kernel's image, unless a pad's strokes made it (the browser made it too)."""
        if not force and self.live.source == "your drawing":
            return
        image = np.ascontiguousarray(np.asarray(self.live.image, "<f4"))
        with self.hold_sync():
            self.image = image.tobytes()
            self.image_id += 1

    def _kernel_image(self, change: dict[str, Any]) -> None:
        if self.comm is not None:
            self._send_image()

    def _new_version(self, change: dict[str, Any]) -> None:
        if self.comm is None:
            return
        try:
            spec = self.live.portable()
        except ValueError:
            return  # cannot happen for the same layers; the views keep the last weights
        self._send_model(spec)

    @property
    def closed(self) -> bool:
        return self.comm is None

    def use(self, user: Any) -> None:
        """``user`` (a LiveView) draws from this network; it is closed once none does."""
        self.__dict__.setdefault("_users", set()).add(id(user))

    def release(self, user: Any) -> None:
        """``user`` closed: the last one closes the network (nothing left to compute for)."""
        users = self.__dict__.setdefault("_users", set())
        users.discard(id(user))
        if not users:
            self.close()

    def close(self) -> None:
        self.session.unwatch(self)
        if _NETWORKS.get(self.session) is self:
            del _NETWORKS[self.session]
        super().close()


_NETWORKS: "weakref.WeakKeyDictionary[Any, BrowserNetwork | str]" = weakref.WeakKeyDictionary()


def browser_network(session: Any) -> tuple[BrowserNetwork | None, str]:
    """The session's BrowserNetwork (made once), or None and the one line saying why the
    live views are computed in the kernel."""
    made = _NETWORKS.get(session)
    if isinstance(made, BrowserNetwork) and made.comm is not None:
        return made, ""
    if isinstance(made, str):
        return None, made
    try:
        network = BrowserNetwork(session)
    except ValueError as error:
        _NETWORKS[session] = str(error)
        session.say(str(error))  # once: the live views fall back to the kernel's pictures
        return None, str(error)
    _NETWORKS[session] = network
    session.on_close(network.close)
    return network, ""
