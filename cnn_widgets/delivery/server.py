"""Serving side: a kernel websocket that sends widget updates at once.

Jupyter Server leaves Nagle's algorithm on for the kernel websocket. Widget
updates are bursts of small messages; with Nagle each burst waits for the
browser's delayed ACK (40 ms on Linux) before its second message leaves. Measured
here in Voila: a button → label round trip took 45 ms with it and 5 ms without.

Use it with Voila (``cnn-widgets serve`` does)::

    voila --Voila.kernel_websocket_connection_class=cnn_widgets.delivery.server.LowLatencyConnection

or with JupyterLab / Notebook 7::

    jupyter lab --ServerApp.kernel_websocket_connection_class=cnn_widgets.delivery.server.LowLatencyConnection
"""

from __future__ import annotations

from typing import Any

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

__all__ = ["LowLatencyConnection", "VOILA_OPTION"]

VOILA_OPTION = "--Voila.kernel_websocket_connection_class=cnn_widgets.delivery.server.LowLatencyConnection"


class LowLatencyConnection(ZMQChannelsWebsocketConnection):
    """The standard kernel websocket connection with TCP_NODELAY set on its socket."""

    def connect(self) -> Any:
        self.websocket_handler.set_nodelay(True)
        return super().connect()
