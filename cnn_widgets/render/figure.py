"""Pictures that say what they are: a picture composed with its title, axis labels, indices
(numbers on tiles, row and column labels, ticks), a legend for its marks and a colour bar.

One mechanism for every exported picture (PNG, GIF, slides, the command line): the text is
drawn with Pillow's built-in font (nothing downloaded) on a white band around the picture,
and the same words travel as PNG text chunks (``Title``, ``Description``) or the GIF comment,
so a lecturer can paste the picture on a slide without writing a caption, and a test or a
slide export can read what it shows.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

__all__ = ["MARKS", "Grid", "Labels", "compose", "labelled_gif", "labelled_indices", "labelled_png", "png_text"]

#: Marks a legend can draw as a swatch: name → how it is drawn.
MARKS = {
    "cross": "a black cross on grey (the tile of a map without a pattern)",
    "corner": "a checkered corner triangle (a map that never fires on the images)",
    "outline": "a red outline (a region, e.g. a receptive field)",
    "frame": "a dashed black-and-white frame around a tile",
    "field": "a dashed box on grey: only the box is shown",
}
_INK = (0, 0, 0)
_PAPER = (255, 255, 255)
_PAD = 6  # pixels around every band
_TITLE_SIZE, _TEXT_SIZE = 14, 11


@dataclass(frozen=True)
class Grid:
    """Where the tiles of a mosaic lie (before enlargement).

    Attributes:
        tile: ``(h, w)`` of one tile in source pixels.
        gap: Pixels between tiles.
        columns: Tiles per row.
        count: Number of tiles.
    """

    tile: tuple[int, int]
    gap: int
    columns: int
    count: int

    @property
    def rows(self) -> int:
        """Rows of tiles."""
        return math.ceil(self.count / self.columns)

    @classmethod
    def of(cls, mosaic: Any) -> "Grid":
        """The grid of a :class:`cnn_widgets.render.Mosaic`."""
        return cls(tuple(mosaic.tile), int(mosaic.gap), int(mosaic.columns), int(mosaic.count))


@dataclass(frozen=True)
class Labels:
    """What a picture is, in words.

    Attributes:
        title: One line (wrapped if long): what the picture shows.
        x_label: The horizontal axis (or how tiles run along it).
        y_label: The vertical axis.
        tiles: One label per tile of the grid (e.g. map numbers), drawn above the tile.
        rows: One label per row of tiles, on the left (e.g. wavelengths).
        columns: One label per column of tiles, on top (e.g. seeds).
        x_ticks: ``(source pixel, text)`` along the bottom edge.
        y_ticks: ``(source pixel, text)`` along the left edge.
        legend: ``(mark, text)``: a mark of :data:`MARKS` or a colour such as ``"#d62728"``.
        colorbar: ``(colormap, low text, high text)``: the colour scale and its ends.
        note: A last line under the picture (e.g. the step of a frame).
    """

    title: str
    x_label: str = ""
    y_label: str = ""
    tiles: Sequence[str] = ()
    rows: Sequence[str] = ()
    columns: Sequence[str] = ()
    x_ticks: Sequence[tuple[float, str]] = ()
    y_ticks: Sequence[tuple[float, str]] = ()
    legend: Sequence[tuple[str, str]] = ()
    colorbar: tuple[str, str, str] | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip():
            raise ValueError("a labelled picture needs a title: a non-empty string")
        for mark, _ in self.legend:
            if mark not in MARKS and not str(mark).startswith("#"):
                raise ValueError(f"unknown legend mark {mark!r}; use one of {', '.join(MARKS)} or a colour '#rrggbb'")

    def description(self) -> str:
        """The words of the picture as one text (the PNG ``Description``, the GIF comment)."""
        parts = []
        if self.x_label:
            parts.append(f"x axis: {self.x_label}")
        if self.y_label:
            parts.append(f"y axis: {self.y_label}")
        if self.rows:
            parts.append(f"rows: {', '.join(self.rows)}")
        if self.columns:
            parts.append(f"columns: {', '.join(self.columns)}")
        if self.tiles:
            parts.append(f"tiles: {', '.join(self.tiles)}")
        parts += [f"legend: {text}" for _, text in self.legend]
        if self.colorbar:
            parts.append(f"colour scale ({self.colorbar[0]}): {self.colorbar[1]} to {self.colorbar[2]}")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)


#: Characters Pillow's built-in font lacks, drawn as plain text (the text chunks keep the originals).
_PLAIN = str.maketrans({"×": "x", "–": "-", "—": "-", "−": "-", "≥": ">=", "≤": "<=", "→": "->",
                        "λ": "wavelength ", "σ": "sigma ", "α": "alpha", "µ": "u", "√": "sqrt", "≈": "~"})


def _plain(text: str) -> str:
    return str(text).translate(_PLAIN)


def _text(draw: Any, xy: tuple[float, float], text: str, size: int, anchor: str) -> None:
    draw.text(xy, _plain(text), fill=_INK, font=_font(size), anchor=anchor)


@lru_cache(maxsize=8)
def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def _width(text: str, size: int) -> int:
    left, _, right, _ = _font(size).getbbox(_plain(text) or " ")
    return int(right - left)


def _wrap(text: str, size: int, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and _width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _text_height(size: int) -> int:
    return size + 4


def _swatch(mark: str, side: int = 14) -> Any:
    from PIL import Image, ImageDraw

    swatch = Image.new("RGB", (side, side), (140, 140, 140) if mark == "cross" else _PAPER)
    draw = ImageDraw.Draw(swatch)
    if mark == "cross":
        draw.line([(0, 0), (side - 1, side - 1)], fill=_INK)
        draw.line([(0, side - 1), (side - 1, 0)], fill=_INK)
    elif mark == "corner":
        draw.rectangle([0, 0, side - 1, side - 1], fill=(150, 150, 150), outline=_INK)
        for y in range(side * 2 // 3):
            for x in range(side * 2 // 3 - y):
                swatch.putpixel((x, y), _INK if (x + y) % 2 else _PAPER)
    elif mark == "outline":
        draw.rectangle([1, 1, side - 2, side - 2], outline=(214, 39, 40), width=2)
    elif mark in ("frame", "field"):
        draw.rectangle([0, 0, side - 1, side - 1], fill=(200, 200, 200) if mark == "frame" else (128, 128, 128))
        box = (0, side - 1) if mark == "frame" else (3, side - 4)
        for at in range(box[0], box[1] + 1):
            shade = _INK if (at // 2) % 2 else _PAPER
            for x, y in ((at, box[0]), (at, box[1]), (box[0], at), (box[1], at)):
                swatch.putpixel((x, y), shade)
    else:
        draw.rectangle([0, 0, side - 1, side - 1], fill=mark, outline=_INK)
    return swatch


def _with_tile_labels(picture: Any, grid: Grid, zoom: int, labels: Sequence[str]) -> tuple[Any, list[float]]:
    """The picture with a strip above each row of tiles carrying the tiles' labels; returns
    the new picture and the centre (y) of each row of tiles in it."""
    from PIL import Image, ImageDraw

    h, w = grid.tile[0] * zoom, grid.tile[1] * zoom
    step_y, step_x = (grid.tile[0] + grid.gap) * zoom, (grid.tile[1] + grid.gap) * zoom
    size = min((_fit_size(text, w) for text in labels), default=_TEXT_SIZE)
    strip = _text_height(size)
    out = Image.new("RGB", (picture.width, picture.height + grid.rows * strip), _PAPER)
    draw = ImageDraw.Draw(out)
    centres = []
    for row in range(grid.rows):
        top = row * step_y
        band = picture.crop((0, top, picture.width, min(top + step_y, picture.height)))
        out.paste(band, (0, top + (row + 1) * strip))
        centres.append(top + (row + 1) * strip + h / 2)
        for col in range(grid.columns):
            index = row * grid.columns + col
            if index < min(grid.count, len(labels)):
                x = col * step_x + w / 2
                _text(draw, (x, top + row * strip + strip / 2), labels[index], size, "mm")
    return out, centres


def _fit_size(text: str, width: int) -> int:
    """The largest text size up to the default that fits ``width`` (at least 8)."""
    for size in range(_TEXT_SIZE, 7, -1):
        if _width(text, size) <= width - 2:
            return size
    return 8


def compose(picture: Any, labels: Labels, *, grid: Grid | None = None, zoom: int = 1) -> Any:
    """The picture (a Pillow image, already enlarged ``zoom`` times) with its labels around it.

    Args:
        picture: The picture.
        labels: Its title, axes, indices and legend.
        grid: Where its tiles lie (needed for tile, row and column labels).
        zoom: The enlargement of ``picture`` over the grid's source pixels and the ticks' positions.

    Returns:
        An RGB Pillow image: title on top, column labels, the picture with row labels and
        y axis on the left, x ticks and label below, then the legend, colour bar and note.

    Raises:
        ValueError: Tile, row or column labels without a grid.
    """
    from PIL import Image, ImageDraw

    if grid is None and (labels.tiles or labels.rows or labels.columns):
        raise ValueError("tile, row and column labels need the grid of the picture")
    body = picture.convert("RGB")
    row_centres: list[float] = []
    if grid is not None:
        step_y = (grid.tile[0] + grid.gap) * zoom
        row_centres = [row * step_y + grid.tile[0] * zoom / 2 for row in range(grid.rows)]
        if labels.tiles:
            body, row_centres = _with_tile_labels(body, grid, zoom, list(labels.tiles))
    text_h = _text_height(_TEXT_SIZE)
    # left side: y label (rotated), row labels or y ticks
    side_texts = list(labels.rows) + [text for _, text in labels.y_ticks]
    side_w = max((_width(text, _TEXT_SIZE) for text in side_texts), default=0) + (_PAD if side_texts else 0)
    ylab_w = text_h + _PAD if labels.y_label else 0
    left = _PAD + ylab_w + side_w
    # top: column labels; bottom: x ticks
    top_cols = text_h if labels.columns else 0
    ticks_h = text_h if labels.x_ticks else 0
    bar_text = _width(labels.colorbar[1], _TEXT_SIZE) + _width(labels.colorbar[2], _TEXT_SIZE) + 16 \
        if labels.colorbar else 0
    width = max(left + body.width + _PAD, 200, bar_text + 2 * _PAD)
    inner = width - 2 * _PAD
    title_lines = _wrap(labels.title, _TITLE_SIZE, inner)
    title_h = len(title_lines) * _text_height(_TITLE_SIZE) + _PAD
    xlab_lines = _wrap(labels.x_label, _TEXT_SIZE, inner) if labels.x_label else []
    note_lines = _wrap(labels.note, _TEXT_SIZE, inner) if labels.note else []
    legend_rows = _legend_rows(labels.legend, inner)
    legend_h = sum(max(len(lines) for _, lines in row) * text_h + 4 for row in legend_rows)
    bottom = (ticks_h + len(xlab_lines) * text_h + legend_h
              + (text_h + 16 if labels.colorbar else 0) + len(note_lines) * text_h + _PAD)
    height = _PAD + title_h + top_cols + body.height + bottom + _PAD
    canvas = Image.new("RGB", (width, height), _PAPER)
    draw = ImageDraw.Draw(canvas)
    y = _PAD
    for line in title_lines:
        _text(draw, (width / 2, y), line, _TITLE_SIZE, "ma")
        y += _text_height(_TITLE_SIZE)
    y += _PAD
    if labels.columns and grid is not None:
        step_x = (grid.tile[1] + grid.gap) * zoom
        for col, text in enumerate(labels.columns[:grid.columns]):
            _text(draw, (left + col * step_x + grid.tile[1] * zoom / 2, y + text_h / 2), text, _TEXT_SIZE, "mm")
        y += top_cols
    body_top = y
    canvas.paste(body, (left, body_top))
    for centre, text in zip(row_centres, labels.rows):
        _text(draw, (left - _PAD / 2, body_top + centre), text, _TEXT_SIZE, "rm")
    for position, text in labels.y_ticks:
        at = body_top + (position + 0.5) * zoom
        _text(draw, (left - _PAD / 2, at), text, _TEXT_SIZE, "rm")
    if labels.y_label:
        _vertical(canvas, labels.y_label, _PAD, body_top, body.height)
    y = body_top + body.height
    for position, text in labels.x_ticks:
        at = left + (position + 0.5) * zoom
        draw.line([(at, y), (at, y + 3)], fill=_INK)
        _text(draw, (at, y + 3), text, _TEXT_SIZE, "ma")
    y += ticks_h
    for line in xlab_lines:
        _text(draw, (width / 2, y + 2), line, _TEXT_SIZE, "ma")
        y += text_h
    for entries in legend_rows:
        x = _PAD
        for mark, lines in entries:
            canvas.paste(_swatch(mark), (x, y + 2))
            for index, line in enumerate(lines):
                _text(draw, (x + 18, y + 2 + index * text_h), line, _TEXT_SIZE, "la")
            x += 18 + max(_width(line, _TEXT_SIZE) for line in lines) + 12
        y += max(len(lines) for _, lines in entries) * text_h + 4
    if labels.colorbar:
        _colorbar(canvas, labels.colorbar, _PAD, y + 2, min(max(200, bar_text), inner))
        y += text_h + 16
    for line in note_lines:
        _text(draw, (_PAD, y + 2), line, _TEXT_SIZE, "la")
        y += text_h
    return canvas


def _legend_rows(entries: Sequence[tuple[str, str]], width: int) -> list[list[tuple[str, list[str]]]]:
    """Legend entries laid in rows across ``width``; an entry too long for a row has it alone,
    its text wrapped over several lines."""
    rows: list[list[tuple[str, list[str]]]] = []
    used = width + 1
    for mark, text in entries:
        lines = [text] if 18 + _width(text, _TEXT_SIZE) <= width else _wrap(text, _TEXT_SIZE, width - 18)
        need = 18 + max(_width(line, _TEXT_SIZE) for line in lines) + 12
        if used + need > width or len(lines) > 1:
            rows.append([])
            used = 0
        rows[-1].append((mark, lines))
        used = width + 1 if len(lines) > 1 else used + need
    return rows


def _vertical(canvas: Any, text: str, x: int, top: int, height: int) -> None:
    """``text`` turned 90° (read bottom to top), centred beside ``top..top+height``."""
    from PIL import Image, ImageDraw

    size = _TEXT_SIZE
    width = min(_width(text, size) + 4, max(canvas.height - 4, 10))
    band = Image.new("RGB", (width, _text_height(size)), _PAPER)
    ImageDraw.Draw(band).text((2, 1), _plain(text), fill=_INK, font=_font(size))
    turned = band.rotate(90, expand=True)
    y = int(max(2, min(top + height / 2 - turned.height / 2, canvas.height - turned.height - 2)))
    canvas.paste(turned, (x, y))


def _colorbar(canvas: Any, colorbar: tuple[str, str, str], x: int, y: int, width: int) -> None:
    from PIL import Image, ImageDraw

    from .colour import palette

    colormap, low, high = colorbar
    table = np.frombuffer(palette(colormap), np.uint8).reshape(256, 3)[:255]
    ramp = table[np.linspace(0, 254, width).round().astype(int)]
    bar = Image.fromarray(np.ascontiguousarray(np.repeat(ramp[None], 10, axis=0)), mode="RGB")
    canvas.paste(bar, (x, y))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle([x, y, x + width - 1, y + 9], outline=_INK)
    _text(draw, (x, y + 11), low, _TEXT_SIZE, "la")
    _text(draw, (x + width, y + 11), high, _TEXT_SIZE, "ra")


def labelled_png(picture: Any, labels: Labels, *, grid: Grid | None = None, zoom: int = 1) -> bytes:
    """The picture composed with its labels (see :func:`compose`) as PNG bytes, its title and
    description also in the PNG's text chunks (``Title``, ``Description``)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Title", labels.title)
    info.add_text("Description", labels.description(), zip=False)
    info.add_text("Software", "cnn_widgets")
    buffer = io.BytesIO()
    compose(picture, labels, grid=grid, zoom=zoom).save(buffer, format="PNG", pnginfo=info, optimize=False)
    return buffer.getvalue()


def labelled_indices(indices: np.ndarray, colormap: str, labels: Labels, *, zoom: int = 1,
                     grid: Grid | None = None) -> bytes:
    """Palette indices (a :func:`~cnn_widgets.render.mosaic` picture) in ``colormap``, enlarged
    ``zoom`` times, with their labels, as PNG bytes: the notebooks' and slides' pictures."""
    from .encode import palette_image

    return labelled_png(palette_image(np.asarray(indices, np.uint8), colormap, zoom), labels, grid=grid, zoom=zoom)


def labelled_gif(frames: Sequence[Any], labels: Sequence[Labels], duration_ms: int, hold_ms: int, *,
                 grid: Grid | None = None, zoom: int = 1) -> bytes:
    """Frames, each composed with its own labels (e.g. the step in its note), as a looping
    animated GIF; the first frame's title and description are its comment."""
    if not frames or len(frames) != len(labels):
        raise ValueError(f"one set of labels per frame: got {len(frames)} frames and {len(labels)} labels")
    composed = [compose(frame, label, grid=grid, zoom=zoom) for frame, label in zip(frames, labels)]
    width = max(image.width for image in composed)
    height = max(image.height for image in composed)
    composed = [_padded(image, width, height).quantize(colors=256, method=2, dither=0) for image in composed]
    buffer = io.BytesIO()
    comment = f"{labels[0].title}. {labels[0].description()}".encode("utf-8")  # Pillow writes it in 255-byte blocks
    composed[0].save(buffer, format="GIF", save_all=True, append_images=composed[1:],
                     duration=[duration_ms] * (len(composed) - 1) + [hold_ms], loop=0, comment=comment)
    return buffer.getvalue()


def _padded(image: Any, width: int, height: int) -> Any:
    from PIL import Image

    if image.size == (width, height):
        return image
    out = Image.new("RGB", (width, height), _PAPER)
    out.paste(image, (0, 0))
    return out


def png_text(data: bytes) -> dict[str, str]:
    """The text chunks of PNG bytes (``Title``, ``Description``…); empty when there are none."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return {str(key): str(value) for key, value in getattr(image, "text", {}).items()}
