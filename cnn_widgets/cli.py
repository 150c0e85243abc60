"""The ``cnn-widgets`` command: ``info``, ``train``, ``serve``, ``oip`` and ``atlas``.

Examples::

    cnn-widgets info                       # layer table of the embedded model
    cnn-widgets train --data mnist.npz --out my_cnn.keras
    cnn-widgets serve                      # the dashboard in Voila
    cnn-widgets oip --layer conv3 --map 17 --out pattern.gif
    cnn-widgets atlas --layer conv3 --out atlas.png
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

__all__ = ["main"]


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _load_model(path: str | None):  # -> CNNModel, typed loosely to keep TF out of import
    from .model import CNNModel

    return CNNModel.default() if path is None else CNNModel.load(path)


def _cmd_info(args: argparse.Namespace) -> int:
    from .layers import format_table

    model = _load_model(args.model)
    print(model)
    print(format_table(model.layers_table()))
    accuracy = model.metadata.get("test_accuracy")
    if accuracy is not None:
        print(f"test accuracy: {accuracy:.4f} on {model.metadata.get('dataset', 'its test set')}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    import keras
    import tensorflow as tf

    from .data import load_mnist
    from .model import TrainingProgress, mnist_cnn

    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
    model = mnist_cnn(hidden=args.hidden, seed=args.seed)
    bar: list[keras.utils.Progbar] = []

    def show(p: TrainingProgress) -> None:
        if p.step == 1 and not p.epoch_done:
            print(f"epoch {p.epoch}/{p.epochs}")
            bar[:] = [keras.utils.Progbar(p.steps, stateful_metrics=["loss", "accuracy"])]
        if not p.epoch_done:
            bar[0].update(p.step, values=[(k, v) for k, v in p.logs.items()])

    history = model.train(
        x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, lr_decay=args.lr_decay, momentum=args.momentum,
        l2=args.l2, shift=args.shift, standardize=True, seed=args.seed, progress=show,
    )
    accuracy = model.evaluate(x_test, y_test)
    command = "cnn-widgets " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if args.record_command \
        else None
    model.metadata.update(
        {
            "dataset": "MNIST",
            "test_accuracy": round(accuracy, 5),
            "test_images": int(len(y_test)),
            "command": command,
            "history": {k: [round(v, 5) for v in vals] for k, vals in history.items()},
        }
    )
    out = model.save(args.out)
    print(f"test accuracy {accuracy:.4f} on {len(y_test)} MNIST test images; saved {out}")
    return 0


#: The dashboard notebook's cells; ``notebooks/00_explorer.ipynb`` holds the same.
DASHBOARD_CELLS = [
    ("markdown", "# What does a CNN see?\n\nDraw a digit on the black pad. Every map of every "
                 "conv and pooling layer, the dense layer and the class probabilities follow "
                 "your pen. Hover a map for its values; click one to select it."),
    ("code", "from cnn_widgets import Explorer\n\nExplorer()"),
]


def dashboard_notebook(path: Path) -> Path:
    """Write the dashboard notebook (what ``serve`` and the Binder Voila link open)."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell(text) if kind == "markdown" else nbformat.v4.new_code_cell(text)
        for kind, text in DASHBOARD_CELLS
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _cmd_serve(args: argparse.Namespace) -> int:
    from .server import VOILA_OPTION

    port = args.port or _free_port()
    with tempfile.TemporaryDirectory(prefix="cnn-widgets-") as folder:
        notebook = dashboard_notebook(Path(folder) / "00_explorer.ipynb")
        command = [
            sys.executable, "-m", "voila", str(notebook), f"--port={port}",
            f"--Voila.ip={args.ip}", "--Voila.port_retries=0", VOILA_OPTION,
        ]
        if args.no_browser:
            command.append("--no-browser")
        print(f"cnn-widgets: serving the dashboard at http://{args.ip}:{port}/ (Ctrl-C stops)", flush=True)
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


class _StepBar:
    """Prints a progress bar for an OIP run (the OIP callback protocol)."""

    def on_begin(self, maps, steps: int) -> None:
        import keras

        self.bar = keras.utils.Progbar(steps, stateful_metrics=["objective"])

    def on_step(self, step: int, images, objectives) -> None:
        self.bar.update(step + 1, values=[("objective", float(objectives.mean()))])


def _cmd_oip(args: argparse.Namespace) -> int:
    from .oip import optimize

    model = _load_model(args.model)
    atlas = args.command == "atlas"
    out = Path(args.out)
    if out.suffix.lower() not in (".gif", ".png"):
        raise ValueError(f"--out must end in .gif (the emergence) or .png (the final pattern); got {out.name}")
    result = optimize(
        model, args.layer, None if atlas else [args.map], steps=args.steps, step_size=args.step_size,
        wavelength=args.wavelength, octaves=args.octaves, seed=args.seed,
        node=tuple(args.node) if getattr(args, "node", None) else None, callbacks=_StepBar(),
        restandardize=args.restandardize, frame_every=max(1, args.steps // 40),
    )
    which = None if atlas else args.map
    zoom = args.zoom or (3 if atlas else 8)
    if out.suffix.lower() == ".gif":
        result.save_gif(out, which, enhance=args.contrast, zoom=zoom)
    else:
        result.save_png(out, which, enhance=args.contrast, zoom=zoom)
    first, last = float(result.history[0].mean()), float(result.history[-1].mean())
    print(f"objective {first:.3f} → {last:.3f}; wrote {out}")
    if result.rescued:
        print(f"maps revived with longer-wavelength noise: {result.rescued}")
    if result.dead:
        print(f"maps dead on every noise tried: {result.dead}")
    return 0


def _oip_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layer", default="conv3", help="a conv or pooling layer (default conv3)")
    parser.add_argument("--out", required=True, help="a .gif (emergence) or .png (final pattern)")
    parser.add_argument("--model", help="a .keras file saved by cnn_widgets (default: the embedded model)")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--step-size", type=float, default=0.05)
    parser.add_argument("--wavelength", type=float, default=7.0, help="length scale of the start noise, px")
    parser.add_argument("--octaves", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--contrast", type=float, default=1.0, help="display contrast (0: plain)")
    parser.add_argument("--zoom", type=int, default=0, help="pixel enlargement (default 8, atlas 3)")
    parser.add_argument("--restandardize", action="store_true", help="the seed's per-step re-standardisation")
    parser.set_defaults(run=_cmd_oip)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-widgets", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="print the layer table of a model")
    info.add_argument("--model", help="a .keras file saved by cnn_widgets (default: the embedded model)")
    info.set_defaults(run=_cmd_info)

    train = commands.add_parser("train", help="train the MNIST CNN and save weights + metadata")
    train.add_argument("--data", help="MNIST .npz file (default: $CNN_WIDGETS_MNIST, else download)")
    train.add_argument("--out", required=True, help="where to write the .keras file (metadata beside it)")
    train.add_argument("--epochs", type=int, default=12)
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--learning-rate", type=float, default=0.05)
    train.add_argument("--lr-decay", type=float, default=0.8, help="LR factor per epoch")
    train.add_argument("--momentum", type=float, default=0.9)
    train.add_argument("--l2", type=float, default=5e-4, help="L2 weight decay of the kernels")
    train.add_argument("--shift", type=int, default=2, help="random translation in pixels (0: off)")
    train.add_argument("--hidden", type=int, default=70, help="units of the hidden dense layer")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--no-record-command", dest="record_command", action="store_false",
                       help="do not store the command line in the metadata")
    train.set_defaults(run=_cmd_train)

    serve = commands.add_parser("serve", help="open the dashboard in Voila")
    serve.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    serve.add_argument("--ip", default="127.0.0.1")
    serve.add_argument("--no-browser", action="store_true", help="do not open a browser")
    serve.set_defaults(run=_cmd_serve)

    oip = commands.add_parser("oip", help="grow the input pattern one map reacts to (GIF or PNG)")
    oip.add_argument("--map", type=int, required=True, help="map index")
    oip.add_argument("--node", type=int, nargs=2, metavar=("ROW", "COL"), help="maximise one node")
    _oip_options(oip)
    atlas = commands.add_parser("atlas", help="the OIPs of all maps of a layer as one mosaic")
    _oip_options(atlas)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    _quiet_tensorflow()
    try:
        return int(args.run(args))
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"cnn-widgets: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
