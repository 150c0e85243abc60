"""The pad's last bad inputs (issue 21): one bad stroke refuses the set without touching the
drawing; a refused message leaves the status line once drawing works again."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnn_widgets.session import Session


@pytest.fixture
def pad(mnist_model):
    from cnn_widgets.widgets import DigitPad

    session = Session(mnist_model)
    pad = DigitPad(session)
    pad.set_strokes([(20, [(80, 60), (200, 60), (200, 220)])])
    assert pad.wait(60)
    yield pad
    pad.close()
    session.close()


def test_set_strokes_with_one_bad_stroke_refuses_them_all_and_keeps_the_drawing(pad):
    ids, image = list(pad.drawing.ids), pad.image.copy()
    with pytest.raises(ValueError, match="stroke 1: points must be finite"):
        pad.set_strokes([(20, [(10, 10), (90, 90)]), (20, [(math.nan, 3)])])
    with pytest.raises(ValueError, match="stroke 0: width must be a number"):
        pad.set_strokes([(-4, [(10, 10)])])
    assert pad.wait(60)
    assert pad.drawing.ids == ids and np.array_equal(pad.image, image)  # nothing the user made is lost


@pytest.mark.parametrize("good", [
    {"type": "stroke", "id": "g", "width": 20, "start": True, "end": True, "points": [100, 100, 150, 150]},
    {"type": "undo"}, {"type": "clear"}, {"type": "brush", "value": 12}])
def test_a_refused_message_clears_once_drawing_works_again(pad, good):
    pad.canvas._handle_custom_msg({"type": "stroke", "id": "b", "width": 20, "start": True, "end": True,
                                   "points": [math.nan, 1, 2, 3]}, [])
    assert pad.status.startswith("Ignored a pointer message: points must be finite") and pad.status_line.error
    pad.canvas._handle_custom_msg(good, [])
    assert pad.status == "" and not pad.status_line.error
