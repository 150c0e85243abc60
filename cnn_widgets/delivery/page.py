"""``cnn-widgets export``: one HTML file that draws and computes with no kernel.

The page holds the model (its portable spec and weights, base64), the same browser
modules the widgets use (``widgets/live``: the forward pass, the pad, the live views)
and their styles, so it opens from disk with no server and no network: the pad draws,
the image the network gets, every map, the dense units and the probabilities follow
the pen, hover tells values, a click selects a map. Lecturers put it on a course site
or a slide (:mod:`.slides` uses it for the live slide).
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from ..render import COLORMAPS, DEFAULT_COLORMAP, default_columns
from ..render.colour import palette

__all__ = ["export_page", "page_html", "page_of_spec"]

_LIVE = Path(__file__).resolve().parents[1] / "widgets" / "live"
_GRID_WIDTH = 420  # screen pixels a mosaic is enlarged to, about (as MapGrid)

_STYLE = """
body { font-family: sans-serif; margin: 16px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; }
.cnnw-page-note { color: #555; font-size: 13px; margin-bottom: 12px; }
.cnnw-page-top { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }
.cnnw-page-grids { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 12px 16px;
  margin-top: 12px; }
.cnnw-page-grid h2, .cnnw-page-top h2 { font-size: 14px; margin: 4px 0; }
.cnnw-page-grid select { font-size: 12px; margin: 0 6px 4px 0; }
.cnnw-page-chosen h2 { color: #b000b0; }
.cnnw-page-legend { font-size: 11px; color: #555; }
#cnnw-selected { font-size: 13px; margin-top: 6px; color: #b000b0; min-height: 1.2em; }
.cnnw-pad-tools button { font-size: 13px; }
"""


def _layout(header: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The views (their stand-in models' state) and the HTML that places them."""
    views: list[dict[str, Any]] = []
    grids = []
    options = "".join(f'<option value="{name}"{" selected" if name == DEFAULT_COLORMAP else ""}>'
                      f'{name}</option>' for name in COLORMAPS)
    for layer in (layer for layer in header["layers"] if len(layer["shape"]) == 3):
        name = layer["name"]
        height, width, count = layer["shape"]
        columns = default_columns(count, (height, width))
        zoom = max(1, round(_GRID_WIDTH / max(columns * (width + 1) - 1, 1)))
        view_id = f"cnnw-maps-{len(views)}"
        views.append({"id": view_id, "state": {"kind": "maps", "layer": name, "colormap": DEFAULT_COLORMAP,
                                               "normalize": "layer", "columns": columns, "zoom": zoom}})
        grids.append(
            f'<div class="cnnw-page-grid"><h2>{html.escape(name)} — {count} maps of {height}×{width}</h2>'
            f'<label>colour map <select data-trait="colormap">{options}</select></label>'
            '<label>scale <select data-trait="normalize"><option value="layer">shared scale</option>'
            '<option value="map">per map</option></select></label>'
            f'<div id="{view_id}"></div><div class="cnnw-page-legend">map index: row by row, {columns} a row, '
            'from 0 at the top left; colour: the value, from min(0, lowest) to the highest of the layer '
            '(shared scale) or of each map (per map); hover for the values, click to select</div></div>')
    flat = [layer for layer in header["layers"] if layer["type"] == "dense"]
    if len(flat) >= 2:
        units = int(flat[-2]["shape"][-1])
        columns = default_columns(units)
        views.append({"id": "cnnw-dense", "state": {"kind": "dense", "layer": flat[-2]["name"],
                                                    "colormap": DEFAULT_COLORMAP, "columns": columns,
                                                    "zoom": max(1, round(360 / columns))}})
        grids.append(f'<div class="cnnw-page-grid"><h2>{html.escape(flat[-2]["name"])} — {units} units</h2>'
                     f'<div id="cnnw-dense"></div><div class="cnnw-page-legend">unit index: row by row, {columns} '
                     'a row; colour: the value, from min(0, lowest) to the highest unit</div></div>')
    views.insert(0, {"id": "cnnw-image", "state": {"kind": "image", "zoom": 4}})
    views.insert(1, {"id": "cnnw-bars", "state": {"kind": "bars"}})
    body = (
        '<div class="cnnw-page-top"><div><h2>draw a digit</h2><div id="cnnw-pad"></div></div>'
        '<div><h2>the network sees</h2><div id="cnnw-image"></div></div>'
        '<div><h2>class probabilities</h2><div id="cnnw-bars"></div><div id="cnnw-selected"></div></div></div>'
        f'<div class="cnnw-page-grids">{"".join(grids)}</div>')
    return views, body


def page_html(model: Any) -> str:
    """The page of ``model`` (a :class:`~cnn_widgets.CNNModel`) as one HTML string.

    Raises:
        ValueError: The browser cannot compute the model (one line naming the layer), or
            the model does not take grey images (the page's pad draws grey digits).
    """
    from ..model.portable import portable_spec

    spec = portable_spec(model)
    return page_of_spec(spec.header(), spec.buffer, str(model.keras_model.name))


def page_of_spec(header: dict[str, Any], buffer: bytes, name: str) -> str:
    """The page of a portable spec (its header and weight buffer; e.g. a BrowserNetwork's saved
    widget state), as one HTML string. ``name``: the model's name, for the title.

    Raises:
        ValueError: The model does not take grey images.
    """
    height, width, channels = header["input_shape"]
    if channels != 1:
        raise ValueError(f"this model takes {height}×{width}×{channels} images; the exported page draws grey "
                         "images (one channel) on its pad")
    views, body = _layout(header)
    config = {
        "header": header, "weights": base64.b64encode(buffer).decode("ascii"),
        "palettes": {name: list(palette(name)) for name in COLORMAPS},
        "pad": {"size": 280, "brush": 20, "rate": 60.0, "brush_min": 1, "brush_max": 64,
                "image_shape": [height, width]},
        "views": views,
    }
    sources = {
        "network": (_LIVE / "network.js").read_text() + (_LIVE / "hub.js").read_text(),
        "pad": (_LIVE / "pad_image.js").read_text() + (_LIVE / "pad.js").read_text(),
        "views": (_LIVE / "views.js").read_text(),
    }
    name = html.escape(name)
    weights = len(buffer) // 4
    styles = _STYLE + (_LIVE / "pad.css").read_text() + (_LIVE / "views.css").read_text()
    script = (_LIVE / "page.js").read_text()
    # JSON in a <script> element: "</" could end it early, so it is escaped.
    data = json.dumps({"config": config, "sources": sources}).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{name}: draw a digit — cnn_widgets</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{styles}</style></head>
<body>
<h1>What does a CNN see? — {name}</h1>
<div class="cnnw-page-note">Draw on the black pad: the network runs in this page (no server, nothing from the
network), and every layer follows your pen. {len(header["layers"])} layers, {weights:,} weights.</div>
{body}
<script id="cnnw-data" type="application/json">{data}</script>
<script type="module">
{script}
const data = JSON.parse(document.getElementById("cnnw-data").textContent);
start(data.config, data.sources).catch((error) => {{
  document.body.insertAdjacentHTML("afterbegin", `<p style="color:#b00020">This page cannot run: ${{error}}</p>`);
}});
</script>
</body></html>
"""


def export_page(out: str | Path, model: Any = None) -> Path:
    """Write the page of ``model`` (default: the embedded MNIST CNN) to ``out``; returns its path.

    Raises:
        ValueError: A model the browser cannot compute, or one that does not take grey images.
        OSError: ``out`` cannot be written.
    """
    if model is None:
        from ..model import CNNModel

        model = CNNModel.default()
    path = Path(out)
    path.write_text(page_html(model), encoding="utf-8")
    return path


def add_export_command(commands: Any) -> None:
    """The ``export`` subcommand of ``cnn-widgets`` (its parser and what it runs)."""
    export = commands.add_parser(
        "export", help="write one HTML page that draws and computes with no kernel (no server, no network)",
        epilog="examples:\n    cnn-widgets export --out page.html\n"
               "    cnn-widgets export --out mine.html --model my.keras")
    export.add_argument("--out", required=True, help="the .html file to write")
    export.add_argument("--model", help="your own CNN, a Keras 3 .keras file (default: the embedded MNIST model)")
    export.set_defaults(run=_cmd_export)


def _cmd_export(args: Any) -> int:
    from .cli import _load_model

    out = export_page(args.out, _load_model(args.model))
    print(f"wrote {out} ({out.stat().st_size // 1024} KB): open it in a browser, no server or network needed")
    return 0


def live_page_for(state: dict[str, Any], model_id: str, height: int = 440) -> str:
    """For a saved widget state: the live page (an iframe ``height`` px tall, scrolling inside)
    standing in for widget ``model_id`` when it holds a drawing pad computed in the browser;
    "" otherwise (e.g. the kernel path).

    The slides' live slide (:func:`cnn_widgets.delivery.slides.freeze_widgets`) uses it: the
    deck's Explorer draws and computes with no kernel, from the weights in the widget state.
    """
    def entry(ref: Any) -> dict[str, Any] | None:
        found = state.get(str(ref).removeprefix("IPY_MODEL_").removeprefix("anywidget:")) if ref else None
        return found if isinstance(found, dict) and isinstance(found.get("state"), dict) else None

    seen: set[str] = set()
    todo = [model_id]
    network = None
    while todo and network is None:
        ref = todo.pop()
        item = entry(ref)
        if item is None or ref in seen or len(seen) > 10_000:
            continue
        seen.add(ref)
        fields = item["state"]
        if "strokes" in fields and str(fields.get("network", "")).startswith("anywidget:"):
            network = entry(fields["network"])
        todo.extend(child for child in fields.get("children", []) or [] if isinstance(child, str))
    if network is None or not isinstance(network["state"].get("header"), dict):
        return ""
    raw = next((item.get("data") for item in network.get("buffers", []) or []
                if isinstance(item, dict) and list(item.get("path", [])) == ["weights"]), None)
    if not raw:
        return ""
    try:
        page = page_of_spec(network["state"]["header"], base64.b64decode(raw), "the model")
    except (ValueError, KeyError, TypeError):
        return ""
    return (f'<iframe class="cnnw-live-page" title="the live page: draw, and every layer follows" '
            f'srcdoc="{html.escape(page, quote=True)}" '
            f'style="width: 100%; height: {int(height)}px; border: 0"></iframe>')
