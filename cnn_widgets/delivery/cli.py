"""The ``cnn-widgets`` command: ``info``, ``train``, ``serve``, ``oip``, ``atlas`` and ``slides``.

Bad arguments, bad files and output paths that cannot be written end the command
at once, before any long work, with one line on stderr and exit status 2.

Examples::

    cnn-widgets info                       # layer table of the embedded model
    cnn-widgets train --data mnist.npz --out my_cnn.keras
    cnn-widgets serve                      # the dashboard in Voila
    cnn-widgets serve --model my.keras --data my.npz --classes names.txt   # on your own CNN
    cnn-widgets oip --layer conv3 --map 17 --out pattern.gif
    cnn-widgets oip --layer conv3 --map 17 --series --seeds 8 --wavelengths 2 4 7 14 --out series.png
    cnn-widgets oip --layer conv3 --map 17 --nodes --out nodes.png
    cnn-widgets atlas --layer conv3 --out atlas.png
    cnn-widgets slides --out deck.html     # offline reveal.js deck of notebooks/slides.ipynb
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
from pathlib import Path
from typing import Callable, NoReturn, Sequence

from .dashboard import DEFAULT_PORT, serve_dashboard

__all__ = ["main"]

#: What each command's ``--out`` must end in.
OUTPUT_SUFFIXES = {"train": (".keras",), "oip": (".gif", ".png"), "atlas": (".gif", ".png"),
                   "slides": (".html", ".htm"), "export": (".html", ".htm")}


class _Help(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written; each option's default after its help (unless
    the help says it, or the option is a flag or required)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if default is None or default is argparse.SUPPRESS or action.nargs == 0 or action.required \
                or "default" in text:
            return text
        shown = " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in default) \
            if isinstance(default, list) else f"{default:g}" if isinstance(default, float) else str(default)
        return f"{text} (default {shown})"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr, exit status 2, and whose help
    shows every default."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _whole(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number ≥ ``least``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number ≥ {least}; got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be ≥ {least}; got {value}")
        return value

    return parse


def _number(low: float, high: float = math.inf, *, above: bool = False, below: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in ``[low, high]`` (``above``/``below``: open ends)."""
    left, right = "(" if above else "[", ")" if below else "]"
    span = f"in {left}{low:g}, {high:g}{right}" if math.isfinite(high) else f"{'>' if above else '≥'} {low:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number {span}; got {text!r}") from None
        if not math.isfinite(value) or value < low or value > high or (above and value == low) or (
                below and value == high):
            raise argparse.ArgumentTypeError(f"must be a finite number {span}; got {text}")
        return value

    return parse


def _check_files(args: argparse.Namespace) -> None:
    """Input files exist and output paths can be written, before any long work starts."""
    from ..checks import checked_output

    if getattr(args, "out", None) is not None and args.command in OUTPUT_SUFFIXES:
        out = checked_output(args.out, OUTPUT_SUFFIXES[args.command], "--out")
        try:  # a missing folder is made now (as train and slides do), not found missing after the work
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ValueError(f"--out {out}: cannot make its folder {out.parent}: {error.strerror or error}") from None
    model = getattr(args, "model", None)
    if model is not None:
        if Path(model).suffix != ".keras":
            raise ValueError(f"--model {model}: only Keras 3 '.keras' files are accepted")
        if not Path(model).is_file():
            raise FileNotFoundError(f"--model: no model file at {model}")
    data = getattr(args, "data", None)
    if data is not None and not Path(data).is_file():
        raise FileNotFoundError(f"--data: no data file at {data}")
    classes = getattr(args, "classes", None)
    if classes is not None and not Path(classes).is_file():
        raise FileNotFoundError(f"--classes: no class names file at {classes}")
    notebook = getattr(args, "notebook", None)
    if notebook is not None and not Path(notebook).is_file():
        raise FileNotFoundError(f"--notebook: no notebook at {notebook} (run from the repository root, or "
                                "give --notebook PATH)")


def _load_model(path: str | None):  # -> CNNModel, typed loosely to keep TF out of import
    from ..model import CNNModel

    return CNNModel.default() if path is None else CNNModel.load(path)


def _cmd_info(args: argparse.Namespace) -> int:
    from ..model.layers import format_table

    model = _load_model(args.model)
    print(model)
    print(format_table(model.layers_table()))
    accuracy = model.metadata.get("test_accuracy")
    if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool):
        print(f"test accuracy: {accuracy:.4f} on {model.metadata.get('dataset', 'its test set')}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from ..data.mnist import MNIST_ENV, load_mnist
    from ..model import TrainingProgress, mnist_cnn
    from ..model.backend import keras, tf  # the quiet import: no TensorFlow start-up lines

    try:
        (x_train, y_train), (x_test, y_test) = load_mnist(args.data)  # a bad file fails before anything starts
    except RuntimeError:
        if args.data is not None:
            raise
        raise RuntimeError("no MNIST training split here and it could not be downloaded (offline?): give a local "
                           f"file with --data mnist.npz, or set {MNIST_ENV}") from None
    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
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


def _cmd_slides(args: argparse.Namespace) -> int:
    from .slides import build_slides

    out = build_slides(args.notebook, args.out, execute=not args.no_execute, timeout=args.timeout)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB): open it in a browser, no network needed")
    return 0


def _cmd_oip(args: argparse.Namespace) -> int:
    from ..methods.oip import OIPSettings, ProgressBar, node_sweep, optimize, series

    atlas = args.command == "atlas"
    if getattr(args, "series", False) and getattr(args, "nodes", False):
        raise ValueError("--series and --nodes are two different pictures; choose one")
    if getattr(args, "nodes", False) and getattr(args, "node", None):
        raise ValueError("--nodes grows every node of the map; leave out --node")
    model = _load_model(args.model)
    out = Path(args.out)
    images = None
    if not args.no_data:
        from ..data import DataProvider

        test_set = DataProvider(model).test_set  # the shipped MNIST test split, for models that take it
        images = None if test_set is None else test_set.images
    settings = OIPSettings(steps=args.steps, step_size=args.step_size, wavelength=args.wavelength,
                           octaves=args.octaves, seed=args.seed, frame_every=max(1, args.steps // 40),
                           blur_every=args.blur, blur_sigma=args.blur_sigma, restandardize=args.restandardize)
    common = dict(settings=settings, images=images, callbacks=ProgressBar())
    gif = out.suffix.lower() == ".gif"
    if getattr(args, "series", False):
        found = series(model, args.layer, args.map, seeds=list(range(args.seed, args.seed + args.seeds)),
                       wavelengths=args.wavelengths,
                       node=tuple(args.node) if args.node else None, baseline=not args.no_baseline, **common)
        out.write_bytes(found.gif_bytes(args.contrast, zoom=args.zoom or 4) if gif
                        else found.png_bytes(args.contrast, zoom=args.zoom or 4))
        print(f"{args.layer} map {args.map}: {len(found.wavelengths)} wavelengths (rows) × {len(found.seeds)} seeds "
              f"(columns); wrote {out}")
        for line in found.summary():
            print(f"  {line}")
        result = found.result
    elif getattr(args, "nodes", False):
        found = node_sweep(model, args.layer, args.map, **common)
        out.write_bytes(found.gif_bytes(args.contrast, zoom=args.zoom or 4) if gif
                        else found.png_bytes(args.contrast, zoom=args.zoom or 4))
        rows, cols = found.shape
        print(f"{args.layer} map {args.map}: the node OIPs of all {rows}×{cols} positions, node objective "
              f"{found.objectives.min():.2f}–{found.objectives.max():.2f}; wrote {out}")
        result = found.result
    else:
        result = optimize(
            model, args.layer, None if atlas else [args.map],
            node=tuple(args.node) if getattr(args, "node", None) else None, **common)
        which = None if atlas else args.map
        zoom = args.zoom or (3 if atlas else 8)
        if gif:
            result.save_gif(out, which, contrast=args.contrast, zoom=zoom)
        else:
            result.save_png(out, which, contrast=args.contrast, zoom=zoom)
        first, last = float(result.history[0].mean()), float(result.history[-1].mean())
        print(f"objective {first:.3f} → {last:.3f}; wrote {out}")
    # What is said about maps is said of the maps drawn: a series' baseline grows other maps too.
    drawn = (lambda m: True) if atlas else (lambda m: int(m) == args.map)
    revived = sorted({int(m) for m, how in zip(result.maps, result.revival) if how not in ("", "dead") and drawn(m)})
    dead = [m for m in result.dead or [] if drawn(m)]
    silent = [m for m in result.silent or [] if drawn(m)]
    if revived:
        print(f"maps dead on their first noise, revived: {revived}")
    if dead:
        print(f"maps with no pattern (drawn as a cross): {dead}")
    if silent:
        print(f"maps that never fire on the {len(images):,} test images (corner mark): {silent}")
    return 0


def _oip_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layer", default="conv3", help="a conv or pooling layer of the model")
    parser.add_argument("--out", required=True, help="a .gif (emergence) or .png (final pattern)")
    parser.add_argument("--model", help="a .keras file saved by cnn_widgets (default: the embedded model)")
    parser.add_argument("--steps", type=int, default=100, help="gradient-ascent steps (≥ 1)")
    parser.add_argument("--step-size", type=_number(0.0, 10.0, above=True), default=0.05,
                        help="ascent step, in pixel-range units per step (0–10]")
    parser.add_argument("--wavelength", type=_number(0.0, above=True), default=7.0,
                        help="length scale of the start noise, px")
    parser.add_argument("--octaves", type=_whole(1), default=1, help="noise octaves of the start image")
    parser.add_argument("--seed", type=_whole(0), default=0, help="seed of the start noise")
    parser.add_argument("--blur", type=_whole(0), default=0, metavar="EVERY",
                        help="damp high frequencies: blur every EVERY steps (default 0: never)")
    parser.add_argument("--blur-sigma", type=_number(0.0, above=True), default=0.5, help="width of that blur, px")
    parser.add_argument("--contrast", type=_number(0.0, 20.0), default=1.0, help="display contrast, 0–20 (0: plain)")
    parser.add_argument("--zoom", type=_whole(0), default=0, help="pixel enlargement (default 8, atlas 3, series 4)")
    parser.add_argument("--restandardize", action="store_true", help="the seed's per-step re-standardisation")
    parser.add_argument("--no-data", action="store_true",
                        help="do not use the shipped test digits to rescue dead maps and find the silent ones")
    parser.set_defaults(run=_cmd_oip)


DESCRIPTION = ("See what a small CNN sees: the dashboard (serve), pictures for slides (oip, atlas, slides) "
               "and the model itself (info, train). 'cnn-widgets COMMAND --help' for a command's options.")


def _examples(command: str | None = None) -> str:
    """The module's examples (those of ``command``), as the help's epilog."""
    lines = __doc__.split("Examples::", 1)[1].strip("\n").splitlines()
    lines = [line for line in lines if line.strip() and (command is None or line.split()[1] == command)]
    return "examples:\n" + "\n".join(lines) if lines else ""


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cnn-widgets", description=DESCRIPTION, epilog=_examples())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = commands.add_parser("info", help="print the layer table of a model", epilog=_examples("info"))
    info.add_argument("--model", help="a .keras file saved by cnn_widgets (default: the embedded model)")
    info.set_defaults(run=_cmd_info)

    train = commands.add_parser("train", help="train the MNIST CNN and save weights + metadata",
                                epilog=_examples("train"))
    train.add_argument("--data", metavar="NPZ",
                       help="MNIST .npz with x_train, y_train, x_test, y_test (default: $CNN_WIDGETS_MNIST, "
                            "else a download into ~/.keras/datasets; offline, give this)")
    train.add_argument("--out", required=True, help="where to write the .keras file (metadata beside it)")
    train.add_argument("--epochs", type=_whole(1), default=12, help="passes over the training split")
    train.add_argument("--batch-size", type=_whole(1), default=128, help="images per SGD step")
    train.add_argument("--learning-rate", type=_number(0.0, above=True), default=0.05,
                       help="SGD learning rate of the first epoch")
    train.add_argument("--lr-decay", type=_number(0.0, 1.0, above=True), default=0.8, help="LR factor per epoch")
    train.add_argument("--momentum", type=_number(0.0, 1.0, below=True), default=0.9, help="Nesterov momentum")
    train.add_argument("--l2", type=_number(0.0), default=5e-4, help="L2 weight decay of the kernels")
    train.add_argument("--shift", type=_whole(0), default=2, help="random translation in pixels (0: off)")
    train.add_argument("--hidden", type=_whole(1), default=70, help="units of the hidden dense layer")
    train.add_argument("--seed", type=_whole(0), default=0, help="seed of the weights, shuffling and shifts")
    train.add_argument("--no-record-command", dest="record_command", action="store_false",
                       help="do not store the command line in the metadata")
    train.set_defaults(run=_cmd_train)

    serve = commands.add_parser("serve", help="open the dashboard in Voila", epilog=_examples("serve"))
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT,
                       help=f"port to listen on (default {DEFAULT_PORT}, or a free one if it is taken; "
                            "0: any free port)")
    serve.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--no-browser", action="store_true", help="do not open a browser (default: open one if found)")
    serve.add_argument("--model", help="your own CNN, a Keras 3 .keras file (default: the embedded MNIST model)")
    serve.add_argument("--data", help="labelled images for it: an .npz with x_test, y_test (or images, labels)")
    serve.add_argument("--classes", help="a text file of class names, one a line")
    serve.set_defaults(run=serve_dashboard)

    oip = commands.add_parser("oip", help="grow the input pattern one map reacts to (GIF or PNG)",
                              epilog=_examples("oip"))
    oip.add_argument("--map", type=_whole(0), required=True, help="map index in the layer (0 first)")
    oip.add_argument("--node", type=_whole(0), nargs=2, metavar=("ROW", "COL"), help="maximise one node")
    oip.add_argument("--series", action="store_true",
                     help="grow the map from --seeds noise starts at each of --wavelengths, as one grid")
    oip.add_argument("--seeds", type=_whole(1), default=8, help="series: number of seeds, from --seed on (default 8)")
    oip.add_argument("--wavelengths", type=_number(0.0, above=True), nargs="+", default=[2.0, 4.0, 7.0, 14.0],
                     metavar="PX", help="series: the start noise's wavelengths (default 2 4 7 14)")
    oip.add_argument("--no-baseline", action="store_true", help="series: skip the other-maps consistency baseline")
    oip.add_argument("--nodes", action="store_true", help="grow the node OIPs of every position of the map")
    _oip_options(oip)
    atlas = commands.add_parser("atlas", help="the OIPs of all maps of a layer as one mosaic",
                                epilog=_examples("atlas"))
    _oip_options(atlas)

    slides = commands.add_parser("slides", help="write the slides notebook as one offline reveal.js file",
                                 epilog=_examples("slides"))
    slides.add_argument("--out", required=True, help="the .html file to write")
    slides.add_argument("--notebook", default="notebooks/slides.ipynb",
                        help="the slides notebook (default: notebooks/slides.ipynb)")
    slides.add_argument("--timeout", type=_number(0.0, above=True), default=600.0,
                        help="seconds each cell may run (default 600)")
    slides.add_argument("--no-execute", action="store_true",
                        help="use the notebook's saved outputs and widget state instead of running it")
    slides.set_defaults(run=_cmd_slides)
    from .page import add_export_command  # cnn-widgets export: one page that computes with no kernel

    add_export_command(commands)
    return parser


def _port(text: str) -> int:
    value = _whole(0)(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a port is 0–65535; got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        _check_files(args)
        return int(args.run(args))
    except (ValueError, TypeError, OSError, RuntimeError) as error:  # FileNotFoundError is an OSError
        if os.environ.get("CNN_WIDGETS_DEBUG"):
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"cnn-widgets: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
