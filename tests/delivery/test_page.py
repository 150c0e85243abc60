"""``cnn-widgets export``: the page's contents, and the models it refuses (in one line)."""

from __future__ import annotations

import json
import re

import pytest

from cnn_widgets.delivery.cli import main
from cnn_widgets.delivery.page import page_html


def test_export_writes_one_page_with_the_weights_and_the_code_inside(tmp_path, capsys):
    out = tmp_path / "site" / "page.html"
    assert main(["export", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    text = out.read_text()
    assert out.stat().st_size <= 2 * 1024 * 1024
    assert not re.search(r"""(src|href)=["']?https?:""", text)  # nothing from the network
    data = json.loads(re.search(r'<script id="cnnw-data" type="application/json">(.*?)</script>', text, re.S)[1])
    assert [layer["name"] for layer in data["config"]["header"]["layers"]][:2] == ["conv1", "pool1"]
    assert len(data["config"]["weights"]) == 4 * ((4 * 174_092 + 2) // 3)  # base64 of every float32 weight
    assert set(data["sources"]) == {"network", "pad", "views"}
    assert [view["state"]["kind"] for view in data["config"]["views"]] == ["image", "bars"] + ["maps"] * 5 + ["dense"]
    assert "conv3 — 128 maps of 3×3" in text  # every picture has its title


def test_a_model_the_browser_cannot_run_is_refused_in_one_line(tmp_path, capsys):
    import keras

    from cnn_widgets import CNNModel

    net = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(2, 3, name="conv"),
                            keras.layers.UpSampling2D(name="up"), keras.layers.Flatten(),
                            keras.layers.Dense(3, activation="softmax")])
    path = CNNModel(net).save(tmp_path / "up.keras")
    assert main(["export", "--out", str(tmp_path / "p.html"), "--model", str(path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == ("cnn-widgets: error: the browser cannot compute layer 'up' (UpSampling2D): this layer type has "
                     "no browser code; the live views are computed in the kernel")
    assert not (tmp_path / "p.html").exists()


def test_a_model_of_colour_images_is_refused_naming_its_input():
    from ..network_zoo import rgb32

    with pytest.raises(ValueError, match="takes 32×32×3 images; the exported page draws grey images"):
        page_html(rgb32())


def test_a_bad_out_is_refused_before_any_work(tmp_path, capsys):
    assert main(["export", "--out", str(tmp_path / "page.png")]) == 2
    assert "--out must end in '.html' or '.htm'" in capsys.readouterr().err


def test_a_saved_pad_computed_in_the_browser_becomes_the_live_page(mnist_model_state):
    import html

    from cnn_widgets.delivery.page import live_page_for

    state, box_id, grid_id = mnist_model_state
    frame = live_page_for(state, box_id)
    assert frame.startswith('<iframe class="cnnw-live-page"')
    page = html.unescape(frame.split('srcdoc="', 1)[1].split('" style=', 1)[0])
    assert "conv3 — 128 maps of 3×3" in page and '<script id="cnnw-data"' in page
    assert live_page_for(state, grid_id) == ""  # a grid alone has no pad: its pictures stay


@pytest.fixture
def mnist_model_state():
    import ipywidgets

    from cnn_widgets import Session
    from cnn_widgets.widgets import DigitPad, MapGrid

    session = Session()
    box = ipywidgets.VBox([DigitPad(session)])
    grid = MapGrid(session, "conv2")
    state = ipywidgets.Widget.get_manager_state(drop_defaults=False)["state"]
    yield state, box.model_id, grid.model_id
    box.close()
    session.close()
