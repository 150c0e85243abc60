"""A picture for a view that has nothing to show yet: light grey, saying what to do, never an
empty image (a browser draws a broken-image icon for one)."""

from __future__ import annotations

import io
from typing import Any

from .figure import _PAD, _TEXT_SIZE, Labels, _text, _text_height, _wrap

__all__ = ["placeholder_png"]


def placeholder_png(text: str, width: int = 224, height: int = 224) -> bytes:
    """A light grey picture saying ``text`` (what to do to get a picture), for a view that has
    nothing to show yet: never an empty image (a browser draws a broken-image icon)."""
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (width, height), (238, 238, 238))
    draw = ImageDraw.Draw(canvas)
    lines = _wrap(text, _TEXT_SIZE + 1, width - 2 * _PAD)
    top = height / 2 - len(lines) * _text_height(_TEXT_SIZE + 1) / 2
    for index, line in enumerate(lines):
        _text(draw, (width / 2, top + index * _text_height(_TEXT_SIZE + 1)), line, _TEXT_SIZE + 1, "ma")
    labels = Labels(text)
    return _with_text(canvas, labels)


def _with_text(image: Any, labels: Labels) -> bytes:
    """``image`` as it is (no bands added) with the labels' words in its PNG text chunks."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Title", labels.title)
    info.add_text("Description", labels.description(), zip=False)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()
