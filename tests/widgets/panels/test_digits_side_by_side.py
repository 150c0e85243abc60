"""DigitsSideBySide: driven as the frontend does; the picture is the labelled export, the count
stands beside its chance level."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

from cnn_widgets.render import png_text
from cnn_widgets.session import Session
from cnn_widgets.widgets.panels.digits_side_by_side import DigitsSideBySide

from ..helpers import choose


@pytest.fixture(scope="module")
def session():
    shared = Session()   # the embedded CNN and the shipped test split
    yield shared
    shared.close()


def shown(panel: DigitsSideBySide) -> DigitsSideBySide:
    assert panel.session.worker.wait(120)
    return panel


def test_three_fours_a_one_and_a_two_side_by_side_with_chance(session):
    panel = shown(DigitsSideBySide(session))
    assert panel.layer == "conv3" and panel.classes == (4, 4, 4, 1, 2)
    text = png_text(panel.picture.value)
    assert text["Title"] == "conv3: maps 0-63 of 128 for test digits 4, 4, 4, 1, 2"
    labels = np.asarray(session.data.test_set.labels)
    fours = np.flatnonzero(labels == 4)[:3]
    assert f"rows: 4 (#{fours[0]}), 4 (#{fours[1]}), 4 (#{fours[2]})" in text["Description"]
    assert "x axis: map number (3x3 cells each)" in text["Description"]
    assert "maps dark for every 4 row but lit for another row" in panel.reading.value
    assert "random other digits in place of the 4s" in panel.reading.value and "chance" in panel.reading.value


def test_layer_and_digits_as_the_frontend_sends_them_bad_ones_refused(session):
    panel = shown(DigitsSideBySide(session))
    choose(panel.layer_picker, "conv2")
    shown(panel)
    assert panel.layer == "conv2" and png_text(panel.picture.value)["Title"].startswith("conv2: maps 0-63 of 64")
    panel.classes_text.set_state({"value": "7, 7, 3"})
    shown(panel)
    assert panel.classes == (7, 7, 3) and "for test digits 7, 7, 3" in png_text(panel.picture.value)["Title"]
    for text, message in (("7, x", "whole numbers separated by commas"), ("7, 12", "2–12 classes in 0–9"),
                          ("5", "2–12 classes in 0–9")):
        panel.classes_text.set_state({"value": text})
        assert panel.status_line.error and message in panel.status, text
        assert panel.classes == (7, 7, 3) and panel.classes_text.value == "7, 7, 3"  # kept, shown back
    with pytest.raises(traitlets.TraitError, match="has no maps to show side by side"):
        panel.layer = "dense"
    assert panel.layer == "conv2"
