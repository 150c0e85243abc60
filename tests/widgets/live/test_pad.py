"""DigitPad driven by the messages its browser module sends: strokes, undo, clear, brush, floods."""

from __future__ import annotations

import base64
import io
import itertools
import math

import re

import numpy as np
import pytest
import traitlets
from PIL import Image

from cnn_widgets.drawing.ink import Ink
from cnn_widgets.drawing.preprocess import to_mnist
from cnn_widgets.widgets import DigitPad
from cnn_widgets.drawing.drawing import BRUSH_MAX
from cnn_widgets.session import LiveModel, Session

from ...conftest import make_tiny_cnn
from ..helpers import click

_ids = itertools.count()


def send(pad: DigitPad, content) -> None:
    """One custom message from the pad's browser module."""
    pad.canvas._handle_custom_msg(content, [])


def stroke(pad: DigitPad, points, width: float = 20, per_message: int = 3, stroke_id: str | None = None) -> str:
    """A stroke as the browser sends it: the points in batches (one per animation frame)."""
    stroke_id = stroke_id or f"test-{next(_ids)}"
    flat = [float(v) for point in points for v in point]
    batches = [flat[i:i + 2 * per_message] for i in range(0, len(flat), 2 * per_message)]
    for number, batch in enumerate(batches):
        send(pad, {"type": "stroke", "id": stroke_id, "width": width, "points": batch,
                   "start": number == 0, "end": number == len(batches) - 1})
    return stroke_id


def png_pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), np.float32) / 255.0


def canvas_updates(wire, pad: DigitPad, since: int = 0) -> list[dict]:
    return [m.data["state"] for m in wire.since(since)
            if m.comm_id == pad.canvas.model_id and m.data.get("method") == "update"]


def test_strokes_from_the_browser_set_the_image_and_the_preview(wire, mnist_model):
    pad = DigitPad(mnist_model)
    blank_preview = pad.preview.value
    changes = []
    pad.live.observe(lambda change: changes.append(change["new"]), "image")
    mark = wire.mark()
    stroke(pad, [(140, 40), (140, 80), (140, 120), (140, 160), (140, 200), (140, 240)])
    assert pad.wait(5)
    assert changes and changes[-1].shape == (28, 28) and changes[-1].dtype == np.float32
    image = pad.image
    cols = np.flatnonzero(image.max(axis=0) > 0.5)
    assert image.max() == 1.0 and cols.size <= 6  # a vertical bar, centred by to_mnist
    assert abs(cols.mean() - 14) <= 1.5
    assert pad.preview.value != blank_preview and wire.updates_to(pad.preview)
    # The kernel never draws the ink: at pen-up it answers with that stroke alone.
    assert canvas_updates(wire, pad, mark) == []
    answers = canvas_messages(wire, pad, mark)
    assert [a["type"] for a in answers] == ["committed"]
    assert answers[0]["stroke"]["points"][:4] == [140.0, 40.0, 140.0, 80.0]
    assert pad.canvas.strokes == pad.drawing.strokes()  # the kernel's copy of the browser's state, in step


def canvas_messages(wire, pad: DigitPad, since: int = 0) -> list[dict]:
    """The custom messages the kernel sent to the pad's browser module."""
    return [m.data["content"] for m in wire.since(since)
            if m.comm_id == pad.canvas.model_id and m.data.get("method") == "custom"]


def test_stroke_traffic_does_not_grow_with_the_strokes_before(wire, mnist_model):
    """Issue 21: every pen-up used to send every stroke back. Now the bytes the kernel sends
    for one more stroke are the same after 1 stroke and after 500."""
    pad = DigitPad(mnist_model)

    def one_more(k: int) -> int:
        mark = wire.mark()
        stroke(pad, [(40 + k % 200, 40), (60 + k % 200, 120), (80 + k % 200, 200)], stroke_id=f"s-{k}")
        return sum(m.size for m in wire.since(mark) if m.comm_id == pad.canvas.model_id)

    first = one_more(0)
    for k in range(1, 499):
        one_more(k)
    late = one_more(499)
    assert len(pad.drawing.ids) == 500 and pad.canvas.strokes == pad.drawing.strokes()
    assert 0 < first and abs(late - first) <= 8, (first, late)  # the id's digits, not the history
    assert first < 400
    mark = wire.mark()
    send(pad, {"type": "undo"})  # undone in the browser: answered with the id alone
    assert [a["type"] for a in canvas_messages(wire, pad, mark)] == ["removed"]
    assert sum(m.size for m in wire.since(mark) if m.comm_id == pad.canvas.model_id) < 200
    assert len(pad.canvas.strokes) == 499 and pad.canvas.strokes[-1]["id"] == "s-498"
    pad.set_strokes([(10, [(5, 5), (9, 9)])])  # made in code: the whole drawing, once
    assert canvas_updates(wire, pad, mark)[-1]["strokes"][0]["points"] == [5.0, 5.0, 9.0, 9.0]


def test_a_drawn_stroke_and_the_same_stroke_in_code_give_one_image(mnist_model):
    points = [(60, 200), (90, 120), (140, 60), (190, 120), (220, 200)]
    drawn, coded = DigitPad(mnist_model), DigitPad(mnist_model)
    stroke(drawn, points, width=18, per_message=2)
    coded.set_strokes([(18, points)])
    ink = Ink(280, 280)
    ink.begin(*points[0], 18)
    for point in points[1:]:
        ink.extend(*point)
    assert drawn.wait(5) and coded.wait(5)
    np.testing.assert_array_equal(drawn.drawing.ink.raster, ink.raster)
    np.testing.assert_array_equal(drawn.image, coded.image)
    np.testing.assert_array_equal(drawn.image, to_mnist(ink.raster))
    assert coded.canvas.strokes[0]["points"] == [v for p in points for v in map(float, p)]


def test_undo_and_clear_from_the_browser_and_from_python(wire, mnist_model):
    pad = DigitPad(mnist_model)
    stroke(pad, [(60, 60), (220, 60)])
    pad.wait(5)
    one = pad.image.copy()
    stroke(pad, [(60, 200), (220, 200)])
    pad.wait(5)
    assert not np.array_equal(pad.image, one) and len(pad.canvas.strokes) == 2
    send(pad, {"type": "undo"})
    pad.wait(5)
    np.testing.assert_allclose(pad.image, one)
    assert len(pad.canvas.strokes) == 1  # the browser's view of the drawing follows
    stroke(pad, [(60, 200), (220, 200)])
    pad.undo()
    pad.wait(5)
    np.testing.assert_allclose(pad.image, one)
    send(pad, {"type": "clear"})
    pad.wait(5)
    assert not pad.image.any() and pad.drawing.ink.empty and pad.canvas.strokes == []
    pad.undo()  # nothing left to undo: no error
    assert pad.drawing.ink.empty


@pytest.mark.parametrize("bad", [
    {"points": [float("nan"), 50.0]},
    {"points": [float("inf"), 50.0, 60.0, 70.0]},
    {"points": [None, 50.0]},
    {"points": ["10", 50.0]},
    {"points": [10.0, 50.0, 60.0]},          # odd: half a point
    {"points": "10,50"},
    {"points": [1e9, 5.0]},
    {"width": float("nan")},
    {"width": 0},
    {"width": None},
    {"id": None},
    {"id": 7},
])
def test_bad_stroke_messages_are_refused_and_nothing_drawn_is_lost(wire, bad, mnist_model):
    pad = DigitPad(mnist_model)
    stroke(pad, [(60, 60), (220, 60)])
    pad.wait(5)
    before, strokes = pad.drawing.ink.raster.copy(), list(pad.canvas.strokes)
    mark = wire.mark()
    message = {"type": "stroke", "id": "bad-1", "width": 20, "points": [100.0, 100.0, 120.0, 120.0],
               "start": True, "end": True, **bad}
    send(pad, message)
    assert pad.wait(5)
    assert "Ignored a pointer message" in pad.status and pad.status_line.error
    np.testing.assert_array_equal(pad.drawing.ink.raster, before)
    assert pad.canvas.strokes == strokes
    if isinstance(message["id"], str):  # the browser is told to drop that stroke
        sent = [m.data for m in wire.since(mark) if m.comm_id == pad.canvas.model_id and m.data.get("method") == "custom"]
        assert {"type": "rejected", "id": "bad-1"} in [m["content"] for m in sent]
    send(pad, {"type": "undo"})  # and the pad goes on working
    pad.wait(5)
    assert pad.drawing.ink.empty and not pad.image.any()


@pytest.mark.parametrize("message", [None, [], "stroke", {"type": "scribble"}, {"no": "type"}])
def test_messages_of_unknown_shape_are_refused(message, mnist_model):
    pad = DigitPad(mnist_model)
    send(pad, message)
    assert "Ignored a pointer message" in pad.status and pad.drawing.ink.empty


def test_a_refused_batch_mid_stroke_keeps_what_was_drawn(mnist_model):
    pad = DigitPad(mnist_model)
    send(pad, {"type": "stroke", "id": "s", "width": 10, "points": [50, 50, 100, 50], "start": True, "end": False})
    send(pad, {"type": "stroke", "id": "s", "width": 10, "points": [math.nan, 0], "start": False, "end": False})
    assert pad.canvas.strokes[0]["points"] == [50, 50, 100, 50]  # kept and shown
    # the browser goes on sending the rest of that stroke: it becomes a stroke of its own
    send(pad, {"type": "stroke", "id": "s", "width": 10, "points": [100, 90, 150, 90], "start": False, "end": True})
    assert len(pad.drawing.ink.strokes) == 2 and pad.drawing.ink.strokes[1][1] == [(100, 90), (150, 90)]


def test_brush_is_shared_and_validated(wire, mnist_model):
    with pytest.raises(ValueError, match="brush must be a whole number in 1–64 pad pixels; got 0"):
        DigitPad(mnist_model, brush=0)
    with pytest.raises(TypeError, match="brush must be a whole number of pad pixels, 1–64; got str"):
        DigitPad(mnist_model, brush="thick")
    pad = DigitPad(mnist_model, brush=12)
    assert pad.canvas.brush == 12
    with pytest.raises(ValueError, match="brush"):
        pad.brush = BRUSH_MAX + 1
    assert pad.brush == 12 == pad.canvas.brush
    send(pad, {"type": "brush", "value": 30})  # the browser's slider
    assert pad.brush == 30 == pad.canvas.brush
    mark = wire.mark()
    send(pad, {"type": "brush", "value": float("nan")})
    assert pad.brush == 30 and "brush" in pad.status and pad.status_line.error
    assert {"brush": 30} in canvas_updates(wire, pad, mark)  # the slider is put back
    pad.brush = 40
    assert pad.canvas.brush == 40


def test_size_and_rate_are_checked(mnist_model):
    from cnn_widgets.drawing.drawing import Drawing

    with pytest.raises(ValueError, match="size must be a whole number in 28–2000 pixels; got 0"):
        Drawing(size=0)
    with pytest.raises(ValueError, match="rate must be a finite number ≥ 0"):
        LiveModel(mnist_model, rate=float("nan"))
    live = LiveModel(mnist_model, rate=12)
    pad = DigitPad(live)
    assert pad.canvas.rate == 12  # the browser sends no more often than the kernel updates
    with pytest.raises(TypeError, match="unexpected keyword arguments: size"):
        DigitPad(mnist_model, size=400)  # the pad shows its session's drawing, whose size is the session's


def test_load_from_the_session_test_set(mnist_model):
    from cnn_widgets.session import Session

    images = np.zeros((3, 28, 28), np.uint8)
    images[1, 4:24, 12:16] = 255
    labels = np.array([0, 1, 2], np.uint8)
    session = Session(mnist_model, data=(images, labels))
    pad = DigitPad(session)
    assert not pad.sample_button.disabled
    pad.sample_class.set_state({"index": 1})
    click(pad.sample_button)
    assert pad.wait(5)
    np.testing.assert_allclose(pad.image, images[1] / 255.0)  # the test image exactly as it is
    assert pad.live.source == "test image #1 (class 1)"
    assert "class 1" in pad.status and not pad.status_line.error
    np.testing.assert_allclose(png_pixels(pad.canvas.base), images[1] / 255.0, atol=1 / 255)  # what the browser draws
    assert pad.canvas.strokes == []
    stroke(pad, [(20, 20), (30, 30)])  # drawing on top keeps the sample under the new stroke
    pad.wait(5)
    assert pad.drawing.ink.base.any() and pad.image.sum() > images[1].sum() / 255 * 0.5
    pad.sample_class.set_state({"index": 5})
    click(pad.sample_button)
    assert "no image of class 5" in pad.status and pad.status_line.error
    session.close()
    assert pad._closed


@pytest.mark.parametrize("index", [99, -2])
def test_sample_class_out_of_range_names_the_choices(index, mnist_model):
    pad = DigitPad(mnist_model)
    pad.sample_class.set_state({"index": 3})
    with pytest.raises(traitlets.TraitError, match=r"choice .* is out of range; choose 0–9 \(0, 1, 2"):
        pad.sample_class.set_state({"index": index})
    assert pad.sample_class.index == 3 and pad.sample_class.value == 3
    pad.close()


def test_sample_class_sent_no_index_keeps_the_last_class_and_says_so(mnist_model):
    pad = DigitPad(mnist_model)
    pad.sample_class.set_state({"index": 4})
    pad.sample_class.set_state({"index": None})
    assert pad.sample_class.value == 4 and pad.sample_class.index == 4
    assert "no sample class chosen" in pad.status and pad.status_line.error
    click(pad.sample_button)  # still usable
    assert pad.wait(5)
    assert re.fullmatch(r"test image #\d+ \(class 4\)", pad.status) and not pad.status_line.error
    pad.close()


def test_without_a_test_set_load_is_disabled_with_one_reason(mnist_model):
    from cnn_widgets.session import Session

    session = Session(mnist_model, data=False)
    pad = DigitPad(session)
    assert pad.sample_button.disabled and pad.sample_class.disabled
    assert pad.status.startswith("load: ") and not pad.status_line.error
    assert "\n" not in pad.status_line.value and pad.status_line.layout.height == "22px"
    stroke(pad, [(100, 50), (100, 230)])
    assert pad.wait(5) and pad.image.sum() > 0


def test_a_pad_made_from_a_model_samples_the_shipped_split(mnist_model):
    pad = DigitPad(mnist_model)
    pad.load_sample(4)
    assert pad.wait(5)
    assert pad.image.shape == (28, 28) and pad.image.max() > 0.9
    assert re.fullmatch(r"test image #\d+ \(class 4\)", pad.status) and pad.live.source == pad.status


def test_a_reloaded_page_gets_the_same_ink(mnist_model):
    """What the browser module renders on load is the canvas state: strokes and base."""
    pad = DigitPad(mnist_model)
    picture = np.zeros((28, 28), np.float32)
    picture[10:18, 10:18] = 1.0
    pad.load_picture(picture)
    stroke(pad, [(30, 30), (250, 250)], width=14)
    state = pad.canvas.get_state()
    replay = Ink(280, 280)
    replay.load(np.kron(png_pixels(state["base"]), np.ones((10, 10), np.float32)))
    for item in state["strokes"]:
        p = item["points"]
        replay.begin(p[0], p[1], item["width"])
        for i in range(2, len(p), 2):
            replay.extend(p[i], p[i + 1])
    np.testing.assert_allclose(replay.raster, pad.drawing.ink.raster, atol=1 / 255)
    assert state["brush"] == pad.brush and state["size"] == 280


def test_load_image_rejects_what_is_not_a_picture(mnist_model):
    pad = DigitPad(mnist_model)
    with pytest.raises(ValueError, match="2-D"):
        pad.load_picture(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pad.load_picture(np.full((28, 28), 3.0))
    with pytest.raises(ValueError, match="finite"):
        pad.set_strokes([(10, [(1, math.inf)])])
    with pytest.raises(TypeError, match="stroke 0"):
        pad.set_strokes([5])
    assert pad.drawing.ink.empty


def test_a_saved_notebook_shows_the_last_drawing(mnist_model):
    """The widget state that a saved or exported notebook keeps carries the ink as a PNG."""
    from ipywidgets.embed import dependency_state

    pad = DigitPad(mnist_model)
    stroke(pad, [(40, 140), (240, 140)], width=24)
    assert pad.wait(5)
    state = dependency_state(pad)
    pictures = [s for s in state.values()
                if s["model_name"] == "ImageModel" and "cnnw-pad-ink" in s["state"].get("_dom_classes", [])]
    assert len(pictures) == 1
    (buffer,) = [b for b in pictures[0]["buffers"] if b["path"] == ["value"]]
    shown = png_pixels(base64.b64decode(buffer["data"]))
    expected = pad.drawing.ink.raster[::2, ::2]
    assert shown.shape == expected.shape
    assert np.abs(shown - expected).max() <= 1 / 255 + 1e-6


def test_a_flood_of_batches_leaves_nothing_queued_and_the_image_matches_the_ink(wire, mnist_model):
    """2,000 browser messages as fast as they can come: at most one update waits, none after."""
    pad = DigitPad(mnist_model)
    send(pad, {"type": "stroke", "id": "f", "width": 16, "points": [20, 20], "start": True, "end": False})
    most_pending = 0
    for i in range(2000):
        x, y = 20 + (i * 7) % 240, 20 + (i * 3) % 240
        send(pad, {"type": "stroke", "id": "f", "width": 16, "points": [x, y, x + 1, y + 2],
                   "start": False, "end": i == 1999})
        most_pending = max(most_pending, int(pad.live.runner.pending))
    assert pad.wait(5)
    runner = pad.live.runner
    assert most_pending <= 1
    assert runner.done < runner.submitted / 10  # latest wins: most batches were merged
    assert runner.dropped + runner.done == runner.submitted
    np.testing.assert_array_equal(pad.image, to_mnist(pad.drawing.ink.raster))
    assert len(pad.canvas.strokes) == 1 and len(pad.canvas.strokes[0]["points"]) == 2 * 4001


def test_close_stops_the_worker_and_sends_nothing_more(wire, mnist_model):
    pad = DigitPad(mnist_model)
    pad.close()
    mark = wire.mark()
    send(pad, {"type": "clear"})
    pad.clear()
    assert not wire.since(mark)
    assert pad.canvas.comm is None and pad.preview.comm is None and pad.comm is None


def test_an_exported_notebook_carries_the_last_drawing(tmp_path):
    """``jupyter nbconvert --execute --to html``: the page's widget state holds the ink as a PNG
    (a standard Image widget, rendered without the pad's own module or a kernel)."""
    import json
    import os
    import re
    import subprocess
    import sys

    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "from cnn_widgets.widgets import DigitPad\n"
        "pad = DigitPad()\n"
        "pad.set_strokes([(24, [(40, 140), (240, 140)])])\n"
        "assert pad.wait(10)\n"
        "pad")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "pad.ipynb"
    nbformat.write(notebook, path)
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "html", str(path)],
                   check=True, capture_output=True, timeout=300, env=dict(os.environ, HOME=str(tmp_path)))
    page = (tmp_path / "pad.html").read_text()
    (state,) = re.findall(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', page, re.S)
    models = json.loads(state)["state"]
    (picture,) = [m for m in models.values()
                  if m["model_name"] == "ImageModel" and "cnnw-pad-ink" in m["state"].get("_dom_classes", [])]
    (buffer,) = [b for b in picture.get("buffers", []) if b["path"] == ["value"]]
    shown = png_pixels(base64.b64decode(buffer["data"]))
    ink = Ink(280, 280)
    ink.begin(40, 140, 24)
    ink.extend(240, 140)
    assert np.abs(shown - ink.raster[::2, ::2]).max() <= 1 / 255 + 1e-6


def test_a_pad_works_from_a_model_a_live_model_or_a_session(mnist_model):
    from_model = DigitPad(mnist_model)
    live = LiveModel(mnist_model)
    from_live = DigitPad(live)
    session = Session(mnist_model)
    from_session = DigitPad(session)
    assert from_live.session.live is live and from_session.session is session
    assert len({id(from_model.session), id(from_live.session), id(session)}) == 3
    for pad in (from_model, from_live, from_session):
        pad.set_strokes([(18, [(140, 40), (140, 240)])])
        assert pad.wait(10)
        assert pad.live.source == "your drawing" and int(np.argmax(pad.live.probabilities)) == 1
    second = DigitPad(session)  # two pads on one session show one drawing
    assert second.drawing is from_session.drawing and second.canvas.strokes == from_session.canvas.strokes
    session.close()
    assert from_session.closed and second.closed


def test_a_model_that_takes_colour_images_has_no_pad():
    from cnn_widgets import CNNModel

    rgb = CNNModel(make_tiny_cnn(channels=3))
    with pytest.raises(ValueError, match=r"takes 8×8×3 images; the pad draws grey images"):
        DigitPad(rgb)


def test_strokes_are_computed_off_the_comm_thread_once_per_update(mnist_model):
    """The message handler only records the points; the live model's runner turns the
    newest drawing into the image and runs one forward pass for it."""
    import threading

    pad = DigitPad(mnist_model)
    threads = []
    pad.live.observe(lambda change: threads.append(threading.current_thread()), "activations")
    before = pad.live.updates
    stroke(pad, [(60 + 10 * i, 60 + 7 * i) for i in range(12)], per_message=1)
    assert pad.wait(10)
    assert threads and all(thread is not threading.main_thread() for thread in threads)
    runner = pad.live.runner
    assert pad.live.updates - before == runner.done == len(threads)  # one forward pass per request run
    assert runner.submitted == 12 and runner.done + runner.dropped == 12  # one request per message
    np.testing.assert_array_equal(pad.image, to_mnist(pad.drawing.ink.raster))
