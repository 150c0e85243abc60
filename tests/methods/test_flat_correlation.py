"""A flat image has no correlation with a filter (issue 21): reported as undefined (NaN; "undefined"
in the panel), never as 0.0."""

from __future__ import annotations

import numpy as np

from cnn_widgets.methods.shapes import filters_take_shape


def test_filters_trained_on_a_flat_image_have_an_undefined_correlation_with_it():
    run = filters_take_shape(np.full((8, 8), 0.5, np.float32), 1, filters=3, steps=4)
    assert run.similarity.shape == (len(run.frames), 3) and np.isnan(run.similarity).all()


def test_a_picture_with_contrast_still_has_its_correlations():
    picture = np.zeros((8, 8), np.float32)
    picture[2:6, 3] = 1.0
    run = filters_take_shape(picture, 1, filters=3, steps=4)
    assert np.isfinite(run.similarity).all() and np.abs(run.similarity).max() <= 1.0 + 1e-6


def test_the_panel_says_undefined_for_a_flat_image():
    from cnn_widgets.widgets.panels.filters_take_shape import _correlation_text

    assert _correlation_text(float("nan")) == "undefined (a flat image)"
    assert _correlation_text(0.0) == "+0.00" and _correlation_text(-0.25) == "-0.25"
