"""``cnn-widgets serve``: the dashboard notebook and the Voila process that serves it.

:func:`dashboard_notebook` writes what ``serve`` and the Binder Voila link open (the
Explorer, on the embedded model or on the user's files); :func:`serve_dashboard` runs
Voila with the dashboard's settings (:mod:`.server`) and stops it on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["DASHBOARD_CELLS", "DASHBOARD_METADATA", "DEFAULT_PORT", "dashboard_notebook", "serve_dashboard"]


#: The dashboard notebook's cells; ``notebooks/00_explorer.ipynb`` holds the same.
DASHBOARD_CELLS = [
    ("markdown", "**What does a CNN see?** Draw a digit on the black pad: every map of every "
                 "conv and pooling layer, the dense layer and the class probabilities follow "
                 "your pen. Hover a map for its values; click one to select it."),
    ("code", "from cnn_widgets import Explorer\n\nExplorer()"),
]


#: The dashboard notebook's own metadata: its page gets a pad to draw on while the kernel
#: starts (assets/voila/early_pad.js); only where the Explorer opens with DigitPad (the
#: embedded model), so a user's model, which may take other images, gets none.
DASHBOARD_METADATA = {"cnn_widgets": {"early_pad": True}}


def dashboard_notebook(path: Path, model: str | None = None, data: str | None = None,
                       classes: str | None = None) -> Path:
    """Write the dashboard notebook (what ``serve`` and the Binder Voila link open); with
    ``model``, ``data`` or ``classes`` (file paths) the Explorer opens those."""
    import nbformat

    cells = list(DASHBOARD_CELLS)
    given = {"data": data, "classes": classes}
    if model is not None or any(given.values()):
        arguments = [repr(str(Path(model).resolve())) if model else "None"]
        arguments += [f"{key}={str(Path(value).resolve())!r}" for key, value in given.items() if value]
        cells[-1] = ("code", f"from cnn_widgets import Explorer\n\nExplorer({', '.join(arguments)})")
        cells[0] = ("markdown", "# What does your CNN see?\n\nPut an image in front of it (the pad for grey "
                                "models, else a picture of your data set or a picture file): every map "
                                "of every layer and the class probabilities follow. Hover a map for its "
                                "values; click one to select it.")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell(text) if kind == "markdown" else nbformat.v4.new_code_cell(text)
        for kind, text in cells
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if model is None:
        notebook.metadata.update(DASHBOARD_METADATA)
    nbformat.write(notebook, path)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(ip: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((ip, port))
        except OSError:
            return False
        return True


def _has_browser() -> bool:
    import webbrowser

    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


#: The port ``serve`` uses unless told otherwise (Voila's own default).
DEFAULT_PORT = 8866


def serve_dashboard(args: argparse.Namespace) -> int:
    """``cnn-widgets serve``: the dashboard notebook written to a temporary folder and served
    by Voila with the dashboard's settings (:mod:`.server`) until Ctrl-C or SIGTERM."""
    port = args.port
    if port == 0:
        port = _free_port()
    elif not _port_is_free(args.ip, port):
        if args.port != DEFAULT_PORT:
            raise OSError(f"--port {port}: that port is in use; give another, or --port 0 for any free one")
        port = _free_port()
        print(f"cnn-widgets: port {DEFAULT_PORT} is in use (another server?); using {port}", flush=True)
    url = f"http://{args.ip}:{port}/"
    browser = not args.no_browser and _has_browser()
    if args.model or args.data or args.classes:  # a bad file ends here, not in the dashboard
        from ..data.files import open_own

        open_own(args.model, args.data, args.classes)
    with tempfile.TemporaryDirectory(prefix="cnn-widgets-") as folder:
        notebook = dashboard_notebook(Path(folder) / "00_explorer.ipynb", args.model, args.data, args.classes)
        # The server module is Voila with the dashboard's settings: kernels freed with their
        # page, nothing from a CDN, a quiet log (cnn_widgets/delivery/server.py).
        command = [
            sys.executable, "-m", "cnn_widgets.delivery.server", str(notebook), f"--port={port}",
            f"--Voila.ip={args.ip}", "--Voila.port_retries=0", "--Voila.log_level=WARN",
        ]
        if not browser:
            command.append("--no-browser")
        print(f"cnn-widgets: serving the dashboard at {url} (Ctrl-C stops); each page starts its own "
              "kernel (about 10 s), freed when the page closes", flush=True)
        if not args.no_browser and not browser:
            print(f"cnn-widgets: no web browser found on this machine: open {url} in one", flush=True)
        # Voila runs in its own session (its own Ctrl-C handling asks for confirmation);
        # this process stops it on Ctrl-C and on SIGTERM alike.
        server = subprocess.Popen(command, cwd=folder, start_new_session=True)
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            return server.wait()
        except KeyboardInterrupt:
            print("\ncnn-widgets: stopping the server", flush=True)
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
            return 0
