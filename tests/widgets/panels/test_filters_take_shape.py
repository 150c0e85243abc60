"""FiltersTakeShape driven like the frontend: text fields, the drawing button, the frame slider."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from cnn_widgets import CNNModel
from cnn_widgets.render import to_png
from cnn_widgets.session import Session

from cnn_widgets.widgets import FiltersTakeShape

from ...conftest import make_tiny_cnn


def click(button) -> None:
    button._handle_button_msg(None, {"event": "click"}, [])


@pytest.fixture(scope="module")
def session():
    with Session() as shared:
        yield shared


def _widget(session, **settings) -> FiltersTakeShape:
    widget = FiltersTakeShape(session, **settings)
    assert session.worker.wait(120)
    return widget


def test_it_trains_on_a_test_image_and_shows_start_end_and_emergence(session):
    widget = _widget(session, sample=4, steps=60, learning_rate=0.01)
    result = widget.result
    test = session.data.test_set
    np.testing.assert_allclose(result.image, test.images[4] / 255.0)
    assert result.label == int(test.labels[4])
    assert widget.initial_view.value == to_png(result.picture(0), "diverging")
    assert widget.trained_view.value == to_png(result.picture(-1), "diverging")
    assert widget.frame == len(result.frames) - 1 == widget.frame_slider.max
    assert np.abs(result.similarity[-1]).max() > 0.4
    assert widget.map_index == int(np.argmax(np.abs(result.similarity[-1])))
    np.testing.assert_allclose(np.asarray(widget.curves.y), result.similarity.T, rtol=1e-6)
    # scrub the emergence
    widget.frame_slider.set_state({"value": 0})
    assert widget.emerging_view.value == to_png(result.picture(0), "diverging")
    assert "step 0 of 60" in widget.frame_label.value
    start = result.multiply_and_sum(widget.map_index, 0).total
    assert f"sum = {start:+.3f}" in widget.sum_label.value
    widget.frame_slider.set_state({"value": widget.frame_slider.max})
    assert f"sum = {result.multiply_and_sum(widget.map_index).total:+.3f}" in widget.sum_label.value
    # another filter in the multiply-and-sum view
    widget.filter_picker.set_state({"index": 1})
    assert widget.map_index == 1
    assert f"filter 1 at step 60: sum = {result.multiply_and_sum(1).total:+.3f}" in widget.sum_label.value


def test_a_new_sample_and_the_drawing_retrain(session):
    widget = _widget(session, sample=0, steps=20)
    first = widget.result
    widget.sample_box.set_state({"value": 7})
    assert session.worker.wait(120)
    assert widget.result is not first
    np.testing.assert_allclose(widget.result.image, session.data.test_set.images[7] / 255.0)
    drawing = np.zeros((28, 28), np.float32)
    drawing[6:22, 13:16] = 1.0  # a "1"
    session.live.image = drawing
    click(widget.drawing_button)
    assert session.worker.wait(120)
    np.testing.assert_array_equal(widget.result.image, drawing)
    assert "the drawing" in widget.status_line.text


def test_bad_values_show_an_error_and_never_land(session):
    widget = _widget(session, steps=20)
    count = len(session.data.test_set)
    for control, bad, message in ((widget.sample_box, count, f"test image must be 0–{count - 1}"),
                                  (widget.sample_box, -1, f"test image must be 0–{count - 1}"),
                                  (widget.rate_box, -0.5, "learning rate must be a number in (0, 10]"),
                                  (widget.steps_box, 0, "steps must be an integer 1–5000"),
                                  (widget.seed_box, -3, "seed must be an integer ≥ 0")):
        before = control.value
        control.set_state({"value": bad})
        assert control.value == before and widget.status_line.error
        assert message in widget.status_line.text
    session.live.image = np.zeros((28, 28), np.float32)
    click(widget.drawing_button)
    assert "the drawing is empty" in widget.status_line.text
    with pytest.raises(TypeError, match="unknown setting 'rate'"):
        FiltersTakeShape(session, rate=1)


def test_filter_picker_sent_no_or_a_wrong_index_stays_in_step(session):
    import traitlets

    widget = _widget(session, steps=20)
    count = len(widget.filter_picker.options)
    widget.filter_picker.set_state({"index": 1})
    assert widget.map_index == 1
    widget.filter_picker.set_state({"index": None})
    assert widget.map_index == 1 and widget.filter_picker.value == 1 and widget.status_line.error
    with pytest.raises(traitlets.TraitError, match=rf"filter: choice 99 is out of range; choose 0–{count - 1} \(0, 1"):
        widget.filter_picker.set_state({"index": 99})
    assert widget.map_index == 1 and widget.filter_picker.value == 1
    widget.filter_picker.set_state({"index": 0})
    assert widget.map_index == 0


def test_gif_download_and_a_session_without_test_images():
    from PIL import Image
    import io

    tiny = Session(CNNModel(make_tiny_cnn()), data=False)
    tiny.live.image = np.eye(8, dtype=np.float32)
    widget = FiltersTakeShape(tiny, steps=10)  # no test images: it takes the drawing
    assert tiny.worker.wait(120)
    assert widget.result.image.shape == (8, 8)
    click(widget.gif_button)
    data = base64.b64decode(re.search(r"base64,([^\"]+)\"", widget.downloads.value).group(1))
    assert Image.open(io.BytesIO(data)).n_frames == len(widget.result.frames)
    widget.sample_box.set_state({"value": 3})
    assert "no test images here" in widget.status_line.text
    widget.close()
    assert tiny.closed is False
    tiny.close()
