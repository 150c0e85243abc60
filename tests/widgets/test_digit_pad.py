"""DigitPad driven by frontend events: mouse, touch, undo, clear, samples, floods."""

from __future__ import annotations

import time

import numpy as np

from cnn_widgets.widgets import DigitPad

from .helpers import canvas_event, draw, touch_event


def test_mouse_strokes_set_the_image_and_the_preview(wire):
    pad = DigitPad()
    blank_preview = pad.preview.value
    changes = []
    pad.observe(lambda change: changes.append(change["new"]), "image")
    draw(pad.canvas, [(140, 40), (140, 120), (140, 240)])
    assert pad.updates.wait(5)
    assert changes and changes[-1].shape == (28, 28) and changes[-1].dtype == np.float32
    image = pad.image
    cols = np.flatnonzero(image.max(axis=0) > 0.5)
    assert image.max() == 1.0 and cols.size <= 6  # a vertical bar, centred by to_mnist
    assert abs(cols.mean() - 14) <= 1.5
    assert pad.preview.value != blank_preview
    assert wire.updates_to(pad.preview), "the preview picture was sent to the frontend"
    canvas_msgs = [m for m in wire if m.comm_id == pad.canvas._canvas_manager.model_id]
    assert canvas_msgs, "the stroke was drawn on the canvas"


def test_moves_without_a_pressed_button_draw_nothing():
    pad = DigitPad()
    canvas_event(pad.canvas, "mouse_move", 50, 50)
    canvas_event(pad.canvas, "mouse_move", 90, 90)
    assert pad.ink.empty and not pad.image.any()


def test_touch_draws_like_the_mouse():
    pad = DigitPad()
    touch_event(pad.canvas, "touch_start", [(60, 60)])
    touch_event(pad.canvas, "touch_move", [(200, 200)])
    touch_event(pad.canvas, "touch_end", [])
    assert pad.updates.wait(5)
    assert pad.image.sum() > 5


def test_undo_and_clear():
    pad = DigitPad()
    draw(pad.canvas, [(60, 60), (220, 60)])
    pad.updates.wait(5)
    one = pad.image.copy()
    draw(pad.canvas, [(60, 200), (220, 200)])
    pad.updates.wait(5)
    assert not np.array_equal(pad.image, one)
    pad.undo_button.click()
    pad.updates.wait(5)
    np.testing.assert_allclose(pad.image, one)
    pad.clear_button.click()
    pad.updates.wait(5)
    assert not pad.image.any() and pad.ink.empty


def test_brush_slider_sets_the_stroke_width():
    pad = DigitPad()
    pad.brush_slider.value = 40
    assert pad.brush == 40
    draw(pad.canvas, [(100, 100), (120, 100)])
    assert pad.ink.strokes[-1][0] == 40


def test_sample_button_loads_a_real_test_digit():
    images = np.zeros((3, 28, 28), np.uint8)
    images[1, 4:24, 12:16] = 255
    labels = np.array([0, 1, 2], np.uint8)
    pad = DigitPad(samples=lambda: ((images, labels), (images, labels)))
    pad.sample_class.value = 1
    pad.sample_button.click()
    np.testing.assert_allclose(pad.image, images[1] / 255.0)
    assert "class 1" in pad.status
    draw(pad.canvas, [(20, 20), (30, 30)])  # drawing on top keeps the sample under the new stroke
    pad.updates.wait(5)
    assert pad.ink.base.any() and pad.image.sum() > 0


def test_sample_without_data_says_why_and_the_pad_stays_usable():
    def offline():
        raise RuntimeError("could not download MNIST; set CNN_WIDGETS_MNIST")

    pad = DigitPad(samples=offline)
    pad.sample_button.click()
    assert "No sample" in pad.status and "CNN_WIDGETS_MNIST" in pad.status
    assert "cnnw-error" in pad.status_label.value
    draw(pad.canvas, [(100, 50), (100, 230)])
    assert pad.updates.wait(5) and pad.image.sum() > 0


def test_sample_from_the_real_test_set(mnist_path, monkeypatch):  # noqa: D103
    monkeypatch.setenv("CNN_WIDGETS_MNIST", str(mnist_path))
    pad = DigitPad()
    pad.load_sample(4)
    assert pad.image.shape == (28, 28) and pad.image.max() > 0.9
    assert "class 4" in pad.status


def test_a_flood_of_events_leaves_nothing_queued():
    """2,000 moves as fast as they can come: at most one update waits, none after."""
    pad = DigitPad()
    canvas_event(pad.canvas, "mouse_down", 20, 20)
    most_pending = 0
    for i in range(2000):
        canvas_event(pad.canvas, "mouse_move", 20 + (i * 7) % 240, 20 + (i * 3) % 240)
        most_pending = max(most_pending, int(pad.updates.pending))
    canvas_event(pad.canvas, "mouse_up", 0, 0)
    stopped = time.monotonic()
    assert pad.updates.wait(0.1), "work was still queued 100 ms after the flood"
    assert time.monotonic() - stopped <= 0.1
    assert most_pending <= 1
    assert pad.updates.done < pad.updates.submitted / 10  # latest wins: most moves were merged
    assert pad.updates.dropped + pad.updates.done == pad.updates.submitted
