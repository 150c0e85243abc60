"""Slides that work offline: one self-contained reveal.js deck from a notebook.

:func:`build_slides` executes a notebook (one kernel, nbclient), turns every widget
output into a static picture of its last state, and writes one HTML file that needs
nothing else: reveal.js (5.2, MIT licence, vendored from the npm registry into
``cnn_widgets/assets/slides``) and every style sheet are inline, every picture is a
``data:`` URL; there is no CDN, no require.js and no widget manager. Open the file
from disk with no network.

A widget's last state is what the kernel last sent for it (nbclient keeps the widget
state): its ``Image`` widgets' PNGs laid out as its boxes were, the shown tab of a
``Tab``, bqplot bars and lines as SVG, and the text of its labels, escaped. Canvases
(ipycanvas, anywidget frontends) have no saved picture and are left out.

Example:
    >>> build_slides("notebooks/slides.ipynb", "deck.html")    # doctest: +SKIP
    PosixPath('deck.html')
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import as_path, checked_output

from .page import live_page_for

__all__ = ["build_slides", "freeze_widgets", "static_widget", "ASSETS"]

#: The vendored slideshow engine and the deck's template.
ASSETS = Path(__file__).resolve().parents[1] / "assets" / "slides"
_STATE_MIME = "application/vnd.jupyter.widget-state+json"
_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
_IMAGE_FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "gif": "image/gif",
                  "webp": "image/webp"}
_BOXES = {"BoxModel": "column", "VBoxModel": "column", "HBoxModel": "row", "GridBoxModel": "grid"}
_TEXTS = {"HTMLModel", "HTMLMathModel", "LabelModel"}
_DTYPES = {"float64", "float32", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
_CSS_VALUE = re.compile(r"^[\w#%.,() -]{1,200}$")
#: Reveal.js settings of the deck.
REVEAL_CONFIG = {"controls": True, "progress": True, "hash": True, "slideNumber": "c/t",
                 "transition": "slide", "width": 1280, "height": 800, "margin": 0.04}
#: Height of a live page in the deck: what a 1280×800 slide leaves under a heading, a line
#: of text and the output's margins (the page scrolls inside it).
LIVE_PAGE_HEIGHT = 540
#: Pictures in the deck are at most this tall, so a slide's heading, text and picture fit.
_PICTURE_HEIGHT = 520
_DECK_CSS = """
.reveal .slides { text-align: left; }
.reveal .slides > section, .reveal .slides > section > section { overflow-y: auto; max-height: 100%; }
.reveal img { margin: 0.3em 0; }
.cnnw-static { font-size: 13px; line-height: 1.25; }
.cnnw-static-row { display: flex; flex-direction: row; gap: 8px 16px; align-items: flex-start; }
.cnnw-static-column { display: flex; flex-direction: column; gap: 4px; }
.cnnw-static-grid { display: grid; gap: 8px 16px; }
.reveal .cnnw-static img { margin: 0; image-rendering: pixelated; max-width: 100%; }
.cnnw-static-tab-title { font-weight: bold; border-bottom: 1px solid #999; margin-bottom: 4px; }
.cnnw-last-shown summary { font-size: 16px; cursor: pointer; color: #555; }
""" + f".reveal .jp-RenderedImage img {{ max-height: {_PICTURE_HEIGHT}px; width: auto; max-width: 100%; }}\n"


# ---------------------------------------------------------------------- building
def build_slides(
    notebook: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    execute: bool = True,
    timeout: float = 600,
    kernel_name: str = "python3",
) -> Path:
    """Write ``notebook`` as one self-contained reveal.js HTML file.

    Args:
        notebook: A ``.ipynb`` file with RISE/nbconvert slide metadata
            (``slideshow.slide_type``: slide, subslide, fragment, skip, notes).
        out: The ``.html`` file to write.
        execute: Run the notebook first (in its folder); ``False`` uses the saved
            outputs and widget state.
        timeout: Seconds each cell may run.
        kernel_name: The Jupyter kernel to run it in.

    Returns:
        The path written.

    Raises:
        TypeError: A path is not a path.
        FileNotFoundError: No such notebook.
        ValueError: Not a notebook, an output path that is not a writable ``.html``
            file, or a bad timeout.
        RuntimeError: A cell failed or timed out.
    """
    import nbformat

    source = as_path(notebook, "notebook")
    if source.suffix != ".ipynb":
        raise ValueError(f"{source}: the notebook must be an '.ipynb' file")
    if not source.is_file():
        raise FileNotFoundError(f"no notebook at {source}")
    target = checked_output(out, (".html", ".htm"), "the deck")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) \
            or timeout <= 0:
        raise ValueError(f"timeout must be a finite number of seconds > 0; got {timeout!r}")
    try:
        nb = nbformat.read(source, as_version=4)
    except Exception as error:  # nbformat raises several kinds for a file that is not a notebook
        raise ValueError(f"{source} is not a readable notebook: {error}") from error
    if execute:
        _execute(nb, source, timeout, kernel_name)
    freeze_widgets(nb)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_deck(nb, source.stem), encoding="utf-8")
    return target


def _execute(nb: Any, source: Path, timeout: float, kernel_name: str) -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, store_widget_state=True,
                            resources={"metadata": {"path": str(source.parent.resolve())}})
    try:
        client.execute(stderr=subprocess.DEVNULL)  # the kernel's own start-up notices
    except CellTimeoutError as error:
        raise RuntimeError(f"{source.name}: a cell ran longer than {timeout:g} s") from error
    except CellExecutionError as error:
        raise RuntimeError(f"{source.name}: a cell failed: {error.ename}: {error.evalue}") from error
    except DeadKernelError as error:
        raise RuntimeError(f"{source.name}: the kernel died while running the notebook") from error


def render_deck(nb: Any, title: str = "slides") -> str:
    """The deck's HTML for a notebook whose widgets are frozen (:func:`freeze_widgets`)."""
    from nbconvert import SlidesExporter

    exporter = SlidesExporter(
        template_file="offline.html.j2", extra_template_paths=[str(ASSETS)], exclude_input=True,
        exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True,
    )
    theme = (ASSETS / "white.css").read_text(encoding="utf-8")
    theme = re.sub(r"(?m)^@import url\([^)]*\);\s*$", "", theme)  # web fonts: the system's sans-serif instead
    config = json.dumps(REVEAL_CONFIG).replace("</", "<\\/")
    offline = {
        "reveal_js": (ASSETS / "reveal.js").read_text(encoding="utf-8"),
        "reveal_css": (ASSETS / "reveal.css").read_text(encoding="utf-8"),
        "theme_css": theme,
        "deck_css": _DECK_CSS,
        "config": config,
    }
    body, _ = exporter.from_notebook_node(nb, resources={"offline": offline, "metadata": {"name": title}})
    return body


# ---------------------------------------------------------------------- widgets → pictures
def freeze_widgets(nb: Any) -> int:
    """Replace every widget output of ``nb`` by static HTML of its last state.

    The widget state is then dropped from the notebook's metadata, so the deck
    carries no widget manager. Returns the number of outputs replaced.
    """
    widgets_meta = nb.metadata.get("widgets", {})
    state = widgets_meta.get(_STATE_MIME, {}).get("state", {}) if isinstance(widgets_meta, dict) else {}
    replaced = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if _VIEW_MIME not in data:
                continue
            model_id = str(data[_VIEW_MIME].get("model_id", ""))
            # a pad computed in the browser: the live page (cnn-widgets export, from the saved weights),
            # sized to the slide; the pictures of the widget's last state one click away below it
            live, static = live_page_for(state, model_id, LIVE_PAGE_HEIGHT), static_widget(state, model_id)
            if live and static:
                static = (f'<details class="cnnw-last-shown"><summary>the widget as the notebook last showed it'
                          f'</summary>{static}</details>')
            frozen = live + static
            if not frozen:
                frozen = '<p class="cnnw-static">(this widget shows nothing without a running kernel)</p>'
            output["data"] = {"text/html": frozen}
            replaced += 1
    nb.metadata.pop("widgets", None)
    return replaced


def static_widget(state: dict[str, Any], model_id: str) -> str:
    """Static HTML of the widget ``model_id`` in a saved widget state (empty if it shows nothing)."""
    inner = _Freezer(state).widget(model_id, 0)
    return f'<div class="cnnw-static">{inner}</div>' if inner else ""


class _Freezer:
    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state if isinstance(state, dict) else {}

    def model(self, ref: Any) -> dict[str, Any] | None:
        if not isinstance(ref, str):
            return None
        entry = self.state.get(ref.removeprefix("IPY_MODEL_"))
        return entry if isinstance(entry, dict) and isinstance(entry.get("state"), dict) else None

    def buffer(self, entry: dict[str, Any], *path: str) -> bytes | None:
        for item in entry.get("buffers", []) or []:
            if isinstance(item, dict) and list(item.get("path", [])) == list(path):
                try:
                    return base64.b64decode(item.get("data", ""), validate=False)
                except (ValueError, TypeError):
                    return None
        return None

    def array(self, entry: dict[str, Any], name: str) -> np.ndarray | None:
        value = entry["state"].get(name)
        if isinstance(value, list):
            try:
                return np.asarray(value, np.float64).reshape(-1)
            except (TypeError, ValueError):
                return None
        if isinstance(value, dict) and value.get("dtype") in _DTYPES:
            raw = self.buffer(entry, name, "value")
            if raw is None:
                return None
            try:
                return np.frombuffer(raw, value["dtype"]).astype(np.float64).reshape(-1)
            except ValueError:
                return None
        return None

    def style(self, entry: dict[str, Any], names: tuple[str, ...]) -> str:
        layout = self.model(entry["state"].get("layout"))
        rules = []
        for name in names:
            value = layout["state"].get(name) if layout else None
            if isinstance(value, str) and _CSS_VALUE.match(value):
                rules.append(f"{name.replace('_', '-')}: {value}")
        return html.escape("; ".join(rules), quote=True)

    def hidden(self, entry: dict[str, Any]) -> bool:
        layout = self.model(entry["state"].get("layout"))
        return bool(layout) and (layout["state"].get("display") == "none"
                                 or layout["state"].get("visibility") == "hidden")

    def widget(self, ref: Any, depth: int) -> str:
        entry = self.model(ref if str(ref).startswith("IPY_MODEL_") else f"IPY_MODEL_{ref}")
        if entry is None or depth > 40 or self.hidden(entry):
            return ""
        name = entry.get("model_name", "")
        state = entry["state"]
        if name == "ImageModel":
            return self.image(entry)
        if name in _BOXES:
            kind = _BOXES[name]
            parts = [self.widget(child, depth + 1) for child in state.get("children", []) or []]
            parts = [part for part in parts if part]
            if not parts:
                return ""
            style = self.style(entry, ("grid_template_columns", "width", "min_width") if kind == "grid"
                               else ("width", "min_width"))
            return f'<div class="cnnw-static-{kind}" style="{style}">{"".join(parts)}</div>'
        if name in ("TabModel", "AccordionModel", "StackModel"):
            children = state.get("children", []) or []
            index = state.get("selected_index")
            index = index if isinstance(index, int) and 0 <= index < len(children) else 0
            if not children:
                return ""
            titles = state.get("titles", []) or []
            title = titles[index] if index < len(titles) and isinstance(titles[index], str) else ""
            body = self.widget(children[index], depth + 1)
            head = f'<div class="cnnw-static-tab-title">{html.escape(title)}</div>' if title else ""
            return f'<div class="cnnw-static-column">{head}{body}</div>' if body else ""
        if name in _TEXTS:
            text = _text_of(state.get("value", "")) if name != "LabelModel" else str(state.get("value", ""))
            return f'<div class="cnnw-static-text">{html.escape(text)}</div>' if text.strip() else ""
        if name == "FigureModel":
            return self.figure(entry, depth)
        return ""

    def image(self, entry: dict[str, Any]) -> str:
        mime = _IMAGE_FORMATS.get(str(entry["state"].get("format", "png")).lower())
        raw = self.buffer(entry, "value")
        if mime is None or not raw:
            return ""
        sizes = []
        for name in ("width", "height"):
            value = entry["state"].get(name)
            if isinstance(value, str) and value.isdigit():
                sizes.append(f"{name}: {value}px")
        style = "; ".join(filter(None, [self.style(entry, ("width", "height", "max_width")),
                                        html.escape("; ".join(sizes), quote=True)]))
        data = base64.b64encode(raw).decode("ascii")
        title = _picture_title(raw) if mime == "image/png" else ""
        return f'<img src="data:{mime};base64,{data}" style="{style}" alt="{html.escape(title, quote=True)}">'

    def figure(self, entry: dict[str, Any], depth: int) -> str:
        """bqplot bars and lines as one small SVG picture."""
        width, height, pad = 320, 180, 24
        shapes: list[str] = []
        for ref in entry["state"].get("marks", []) or []:
            mark = self.model(ref)
            if mark is None or mark["state"].get("visible") is False:
                continue
            y = self.array(mark, "y")
            if y is None or y.size == 0 or not np.all(np.isfinite(y)):
                continue
            low, high = self.range(mark, y)
            unit = np.clip((y - low) / (high - low), 0.0, 1.0) if high > low else np.zeros_like(y)
            colours = [str(c) for c in mark["state"].get("colors", []) or ["steelblue"]]
            if mark.get("model_name") == "BarsModel":
                shapes += self.bars(mark, unit, colours, width, height, pad)
            elif mark.get("model_name") == "LinesModel" and y.size > 1:
                xs = pad + np.linspace(0.0, 1.0, y.size) * (width - 2 * pad)
                ys = height - pad - unit * (height - 2 * pad)
                points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys))
                shapes.append(f'<polyline points="{points}" fill="none" stroke="{html.escape(colours[0])}" '
                              'stroke-width="2"/>')
        if not shapes:
            return ""
        title = entry["state"].get("title")
        caption = f'<div class="cnnw-static-text">{html.escape(title)}</div>' if isinstance(title, str) \
            and title.strip() else ""
        axis = f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"/>'
        return (f'<div class="cnnw-static-column">{caption}<svg xmlns="http://www.w3.org/2000/svg" '
                f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">{axis}'
                f'{"".join(shapes)}</svg></div>')

    def range(self, mark: dict[str, Any], y: np.ndarray) -> tuple[float, float]:
        scales = mark["state"].get("scales", {}) or {}
        scale = self.model(scales.get("y")) if isinstance(scales, dict) else None
        low = scale["state"].get("min") if scale else None
        high = scale["state"].get("max") if scale else None
        low = float(low) if isinstance(low, (int, float)) and math.isfinite(low) else min(float(y.min()), 0.0)
        high = float(high) if isinstance(high, (int, float)) and math.isfinite(high) else float(y.max())
        return low, high

    def bars(self, mark: dict[str, Any], unit: np.ndarray, colours: list[str], width: int, height: int,
             pad: int) -> list[str]:
        labels = mark["state"].get("x", [])
        labels = labels if isinstance(labels, list) else []
        shades = self.array(mark, "color")
        scales = mark["state"].get("scales", {}) or {}
        colour_scale = self.model(scales.get("color")) if isinstance(scales, dict) else None
        palette = [str(c) for c in (colour_scale["state"].get("colors") or [])] if colour_scale else []
        step = (width - 2 * pad) / unit.size
        shapes = []
        for i, value in enumerate(unit):
            fill = colours[0]
            if palette and shades is not None and i < shades.size and np.isfinite(shades[i]):
                low = colour_scale["state"].get("min", 0.0) if colour_scale else 0.0
                high = colour_scale["state"].get("max", 1.0) if colour_scale else 1.0
                low, high = (float(v) if isinstance(v, (int, float)) else d for v, d in ((low, 0.0), (high, 1.0)))
                t = (shades[i] - low) / (high - low) if high > low else 0.0
                fill = palette[int(round(min(max(t, 0.0), 1.0) * (len(palette) - 1)))]
            bar = max(value * (height - 2 * pad), 0.0)
            x = pad + i * step
            shapes.append(f'<rect x="{x + step * 0.1:.1f}" y="{height - pad - bar:.1f}" width="{step * 0.8:.1f}" '
                          f'height="{bar:.1f}" fill="{html.escape(fill, quote=True)}"/>')
            if i < len(labels):
                shapes.append(f'<text x="{x + step / 2:.1f}" y="{height - 6}" font-size="11" text-anchor="middle">'
                              f'{html.escape(str(labels[i]))}</text>')
        return shapes


def _picture_title(raw: bytes) -> str:
    """The Title text chunk of a labelled PNG (see :mod:`cnn_widgets.render.figure`), else ""."""
    from ..render import png_text

    try:
        return png_text(raw).get("Title", "")
    except (OSError, ValueError, SyntaxError):
        return ""


class _TextOnly(HTMLParser):
    """The text of an HTML fragment, without its style and script elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        elif tag in ("br", "p", "div"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip = max(self._skip - 1, 0)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _text_of(markup: Any) -> str:
    parser = _TextOnly()
    parser.feed(str(markup))
    parser.close()
    return " ".join("".join(parser.parts).split())
