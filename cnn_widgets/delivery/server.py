"""Serving side: Voila set up for the dashboard, and a kernel websocket that sends widget updates at once.

``python -m cnn_widgets.delivery.server [voila arguments]`` (what ``cnn-widgets serve``
runs) is Voila with:

* **a page's kernel freed when the page goes.** Voila's page asks the server to shut its
  kernel down on ``beforeunload``; Jupyter Server refuses that POST (403) unless the page
  holds an ``_xsrf`` cookie, and Voila's page never gets one. A prelaunch hook hands the
  cookie out with the page. Kernels whose page vanished without a word (a crashed tab) are
  culled once idle with no connection (:data:`CULL_OPTIONS`).
* **nothing from a CDN.** Voila's ``lab`` template links two Font Awesome stylesheets on
  jsDelivr although its own bundle carries Font Awesome; the template in
  ``assets/voila`` drops those links.
* **a quiet terminal.** The kernels talk to the server over IPC sockets (so no "kernel over
  TCP without encryption" warning), and log lines that look like trouble but are not
  (:data:`QUIET`) are dropped.

:class:`LowLatencyConnection`: Jupyter Server leaves Nagle's algorithm on for the kernel
websocket. Widget updates are bursts of small messages; with Nagle each burst waits for
the browser's delayed ACK (40 ms on Linux) before its second message leaves. Measured
here in Voila: a button → label round trip took 45 ms with it and 5 ms without. In
JupyterLab / Notebook 7::

    jupyter lab --ServerApp.kernel_websocket_connection_class=cnn_widgets.delivery.server.LowLatencyConnection
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, Sequence

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

__all__ = ["CULL_OPTIONS", "LowLatencyConnection", "QUIET", "TEMPLATE_NAME", "VOILA_OPTION", "configure_server",
           "give_xsrf_cookie", "install_template", "main", "voila_options"]

VOILA_OPTION = "--Voila.kernel_websocket_connection_class=cnn_widgets.delivery.server.LowLatencyConnection"

#: Idle kernels with no page connected are shut down after 30 s (checked every 10 s): the
#: backstop when a reload or a closing tab cancels the page's own goodbye (seen under load).
#: A connected page is never culled; a tab asleep past the websocket's ping timeout loses
#: its kernel, and its reload brings the drawing back (the pad keeps it in the browser).
CULL_OPTIONS = ("--MappingKernelManager.cull_idle_timeout=30", "--MappingKernelManager.cull_interval=10",
                "--MappingKernelManager.cull_connected=False")

#: Log lines dropped from the terminal, with why they are no trouble here.
QUIET = {
    "is not trusted": "the dashboard notebook has no outputs to trust",
    "WebSocket ping timeout": "a page went away (closed or its tab asleep); its kernel is freed or culled",
    "No web browser found": "cnn-widgets serve looks for a browser itself and says so",
    "404 POST /voila/api/shutdown/": "a page says goodbye twice (fetch and beacon); the second finds no kernel",
    "Kernel does not exist": "the same second goodbye",
}

#: The template that drops the CDN links (a folder first in Voila's template search path).
TEMPLATE = Path(__file__).resolve().parents[1] / "assets" / "voila"


#: The name :func:`install_template` gives the template in Jupyter's data folder (Binder's
#: Voila, a server extension, finds templates by name there).
TEMPLATE_NAME = "cnn_widgets"


class LowLatencyConnection(ZMQChannelsWebsocketConnection):
    """The standard kernel websocket connection with TCP_NODELAY set on its socket."""

    def connect(self) -> Any:
        self.websocket_handler.set_nodelay(True)
        return super().connect()


def voila_options() -> list[str]:
    """The Voila options that ``serve`` adds to its own: the low-latency websocket, culling,
    IPC kernels and a quieter log."""
    return [VOILA_OPTION, *CULL_OPTIONS, "--KernelManager.transport=ipc"]


def give_xsrf_cookie(request: Any, notebook: Any, cwd: str) -> Any:
    """Voila prelaunch hook: set the ``_xsrf`` cookie on the page's response, so that the
    page's own kernel shutdown on ``beforeunload`` is accepted."""
    request.xsrf_token  # noqa: B018 - reading it sets the cookie
    return notebook


def install_template(data_dir: str | Path | None = None) -> Path:
    """Copy the dashboard's Voila template into Jupyter's data folder as ``cnn_widgets`` (on
    Voila's ``lab`` template), for Voila run as a Jupyter Server extension (Binder's link).

    Args:
        data_dir: Jupyter's data folder (default: ``jupyter_data_dir()``, the user's).

    Returns:
        The template's folder.
    """
    import json
    import shutil

    from jupyter_core.paths import jupyter_data_dir

    folder = Path(data_dir if data_dir is not None else jupyter_data_dir()) / "voila" / "templates" / TEMPLATE_NAME
    folder.mkdir(parents=True, exist_ok=True)
    for item in TEMPLATE.iterdir():
        if item.is_file():
            shutil.copyfile(item, folder / item.name)
    (folder / "conf.json").write_text(json.dumps({"base_template": "lab"}))
    return folder


def configure_server(c: Any) -> None:
    """Give a Jupyter Server config (``c`` of ``jupyter_server_config.py``) what ``serve`` gives
    its Voila: the low-latency websocket, culling of kernels no page holds, the page's
    ``_xsrf`` cookie (so a page's goodbye frees its kernel) and the template of
    :func:`install_template` for Voila's pages. Binder's ``postBuild`` writes it."""
    c.ServerApp.kernel_websocket_connection_class = f"{__name__}.LowLatencyConnection"
    for option in CULL_OPTIONS:
        name, value = option.removeprefix("--MappingKernelManager.").split("=")
        setattr(c.MappingKernelManager, name, value == "True" if value in ("True", "False") else int(value))
    c.VoilaConfiguration.prelaunch_hook = give_xsrf_cookie
    c.VoilaConfiguration.template = TEMPLATE_NAME


class _Quiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot format itself is not ours to drop
            return True
        return not any(text in message for text in QUIET)


def main(argv: Sequence[str] | None = None) -> None:
    """Run Voila with the dashboard's settings (the arguments are Voila's)."""
    from traitlets.config import Config
    from voila.app import Voila

    class DashboardVoila(Voila):
        def setup_template_dirs(self) -> None:
            super().setup_template_dirs()
            self.template_paths.insert(0, str(TEMPLATE))  # its index.html.j2 extends Voila's lab template

        def start(self) -> None:
            quiet = _Quiet()
            for logger in (self.log, logging.getLogger()):
                logger.addFilter(quiet)
                for handler in logger.handlers:
                    handler.addFilter(quiet)
            super().start()

    config = Config()
    config.VoilaConfiguration.prelaunch_hook = give_xsrf_cookie
    # Jupyter Server's default ping timeout (3 × the 30 s interval) is more than Tornado ≥ 6.5
    # accepts, which warns on the first page; the same 30 s, said once.
    config.Voila.tornado_settings = {"ws_ping_timeout": 30_000}
    DashboardVoila.launch_instance(list(sys.argv[1:] if argv is None else argv) + voila_options(), config=config)


if __name__ == "__main__":  # pragma: no cover
    main()
