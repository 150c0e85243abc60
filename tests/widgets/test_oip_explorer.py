"""OIPExplorer driven by trait changes and button clicks."""

from __future__ import annotations

import time

import numpy as np
import pytest

from cnn_widgets import CNNModel
from cnn_widgets.live import LiveModel
from cnn_widgets.widgets import MapGrid, OIPExplorer

from ..conftest import make_tiny_cnn
from .helpers import canvas_event


@pytest.fixture
def tiny():
    return CNNModel(make_tiny_cnn(size=12, filters=4, seed=3))


def test_run_grows_a_pattern_and_animates_it(tiny, wire):
    oip = OIPExplorer(tiny)
    assert oip.layer == "conv" and oip.map_picker.max == 3
    oip.map = 3
    oip.steps.value = 20
    oip.wavelength.value = 3
    oip.seed.value = 2
    oip.run_button.click()
    assert oip.wait(30)
    result = oip.result
    assert result is not None and result.maps.tolist() == [3]
    assert oip.plain.value and oip.enhanced.value and oip.plain.value != oip.enhanced.value
    assert oip.frame.max == len(result.frames) - 1 == oip.play.max
    assert list(oip.curve.y) == pytest.approx(list(result.history[:, 0]))
    assert "objective" in oip.status and not oip.running and not oip.run_button.disabled
    last = oip.plain.value
    oip.frame.value = 0  # what the Play widget does, frame by frame
    assert oip.plain.value != last
    before = oip.enhanced.value
    oip.contrast.value = 3.0
    assert oip.enhanced.value != before


def test_atlas_mode_grows_every_map(tiny):
    oip = OIPExplorer(tiny)
    oip.mode.value = "atlas"
    oip.steps.value = 10
    oip.run(wait=True)
    assert oip.result.maps.tolist() == [0, 1, 2, 3]
    assert "mean objective of 4 maps" in oip.chart.title


def test_cancel_stops_within_200_ms():
    oip = OIPExplorer(CNNModel.default(), "conv3")
    oip.mode.value = "atlas"
    oip.steps.value = 500
    oip.run()
    deadline = time.monotonic() + 30
    while oip.progress.value < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert oip.running
    start = time.monotonic()
    oip.cancel_button.click()
    assert oip.wait(5)
    assert time.monotonic() - start <= 0.2
    assert oip.result.cancelled and "cancelled" in oip.status


def test_node_picker_and_exports(tiny):
    oip = OIPExplorer(tiny)
    assert (oip.node_row.max, oip.node_col.max) == (9, 9)
    oip.use_node.value = True
    oip.node_row.value, oip.node_col.value = 4, 5
    oip.map = 3
    oip.steps.value = 10
    oip.seed.value = 2
    oip.run(wait=True)
    assert oip.result.node == (4, 5)
    oip.gif_button.click()
    assert 'download="oip_conv_3.gif"' in oip.downloads.value and "data:image/gif;base64," in oip.downloads.value
    oip.png_button.click()
    assert "data:image/png;base64," in oip.downloads.value


def test_follows_the_map_clicked_in_a_grid(tiny):
    live = LiveModel(tiny, image=np.random.default_rng(0).random((12, 12)).astype(np.float32))
    grid = MapGrid(live, "pool")
    oip = OIPExplorer(tiny)
    oip.follow(grid)
    x, y = grid._mosaic.origin(2)
    canvas_event(grid.picture.overlay, "mouse_down", (x + 1) * grid.picture.zoom, (y + 1) * grid.picture.zoom)
    assert (oip.layer, oip.map) == ("pool", 2)
    assert oip.node_row.max == 4


def test_bad_settings_show_an_error_and_the_widget_stays_usable(tiny):
    oip = OIPExplorer(tiny)
    oip.wavelength.max = 50
    oip.wavelength.value = 40  # larger than the 12 px image
    oip.run(wait=True)
    assert "wavelength must be" in oip.status and "cnnw-error" in oip.status_label.value
    assert not oip.running and not oip.run_button.disabled and oip.result is None
    oip.wavelength.value = 3
    oip.steps.value = 5
    oip.run(wait=True)
    assert oip.result is not None


def test_a_layer_without_maps_is_refused(tiny):
    with pytest.raises(ValueError, match="has no maps"):
        OIPExplorer(tiny, "out")
