"""Every exported picture says what it is: a drawn title band and axis labels, and the same
words in the PNG text chunks (Title, Description) or the GIF comment."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnn_widgets import CNNModel
from cnn_widgets.render import Grid, Labels, labelled_gif, labelled_png, mosaic, palette_image, png_text

from ..conftest import make_tiny_cnn, stripes


def ink_rows(data: bytes) -> np.ndarray:
    """Per pixel row of the picture: True where something is drawn (not white paper)."""
    with Image.open(io.BytesIO(data)) as image:
        pixels = np.asarray(image.convert("L"))
    return (pixels < 200).any(axis=1)


def assert_labelled(data: bytes, title: str, *axes: str) -> dict[str, str]:
    """PNG bytes with ``title`` in its Title chunk, each of ``axes`` in its Description, and the
    title drawn: dark pixels in the top band, above the picture."""
    text = png_text(data)
    assert text["Title"].startswith(title), text["Title"]
    for words in axes:
        assert words in text["Description"], (words, text["Description"])
    rows = ink_rows(data)
    assert rows[6:20].any(), "no title drawn in the title band"
    assert not rows[:4].any(), "the title band starts on white paper"
    return text


def test_a_picture_gets_its_title_axes_tile_numbers_and_legend_drawn_and_in_its_text_chunks():
    tiles = mosaic(np.random.default_rng(0).random((10, 10, 6)).astype(np.float32), columns=3)
    picture = palette_image(tiles.indices, "viridis", 4)
    labels = Labels("Six maps", x_label="map number above each tile", y_label="rows of maps",
                    tiles=[str(i) for i in range(6)], legend=[("cross", "no pattern"), ("corner", "silent")],
                    colorbar=("viridis", "0", "1"), note="step 5 of 5")
    data = labelled_png(picture, labels, grid=Grid.of(tiles), zoom=4)
    text = assert_labelled(data, "Six maps", "x axis: map number above each tile", "y axis: rows of maps",
                           "tiles: 0, 1, 2, 3, 4, 5", "legend: no pattern", "legend: silent", "step 5 of 5")
    assert text["Software"] == "cnn_widgets"
    with Image.open(io.BytesIO(data)) as image:
        assert image.width > picture.width and image.height > picture.height + 2 * 14  # title + number strips
    plain = labelled_png(picture, Labels("Six maps"), zoom=4)
    with Image.open(io.BytesIO(plain)) as image:
        assert image.height < Image.open(io.BytesIO(data)).height  # the labels took room of their own


def test_labels_refuse_what_cannot_be_drawn():
    with pytest.raises(ValueError, match="needs a title"):
        Labels("  ")
    with pytest.raises(ValueError, match="unknown legend mark 'star'; use one of cross, corner, outline"):
        Labels("x", legend=[("star", "a star")])
    picture = Image.new("RGB", (20, 20))
    with pytest.raises(ValueError, match="tile, row and column labels need the grid"):
        labelled_png(picture, Labels("x", tiles=["0"]))
    with pytest.raises(ValueError, match="one set of labels per frame: got 2 frames and 1 labels"):
        labelled_gif([picture, picture], [Labels("x")], 100, 100)
    assert png_text(labelled_png(picture, Labels("x")))["Title"] == "x"  # the same picture, labelled: accepted


def test_a_gif_carries_its_title_in_its_comment_and_each_frame_its_step():
    frames = [Image.new("RGB", (30, 30), (v, v, v)) for v in (0, 120, 240)]
    labels = [Labels("Growing", x_label="input column", note=f"step {s} of 20") for s in (0, 10, 20)]
    with Image.open(io.BytesIO(labelled_gif(frames, labels, 50, 500))) as gif:
        assert gif.n_frames == 3 and gif.info["comment"].decode().startswith("Growing. x axis: input column")
        drawn = []
        for index in range(3):
            gif.seek(index)
            drawn.append(np.asarray(gif.convert("L")))
    assert not np.array_equal(drawn[0][-20:], drawn[2][-20:])  # the step line differs frame by frame


@pytest.fixture(scope="module")
def tiny() -> CNNModel:
    return CNNModel(make_tiny_cnn(size=12, filters=4, seed=3))


def test_every_oip_export_is_labelled(tiny):
    from cnn_widgets.methods.oip import node_sweep, optimize, series

    grown = optimize(tiny, "conv", steps=4, frame_every=2)
    assert_labelled(grown.png_bytes(zoom=4), "OIPs of conv: 4 maps", "map number above each tile",
                    "tiles: 0, 1, 2, 3")
    assert_labelled(grown.png_bytes(1, zoom=4), "OIP of conv map 1", "x axis: input column", "y axis: input row")
    assert_labelled(grown.strip_png(1, zoom=4), "Emergence of the OIP of conv map 1", "tiles: step 0, step 2, step 4")
    grid = series(tiny, "conv", 1, seeds=2, wavelengths=[3, 5], steps=3, baseline=False)
    assert_labelled(grid.png_bytes(zoom=4), "OIP series of conv map 1", "y axis: start noise wavelength",
                    "rows: 3 px", "columns: seed 0, seed 1")
    nodes = node_sweep(tiny, "pool", 1, steps=2)
    assert_labelled(nodes.png_bytes(zoom=4), "Node OIPs of pool map 1", "x axis: node column", "y axis: node row",
                    "legend: node OIP: outside the node's receptive field greyed, the field outlined")
    with Image.open(io.BytesIO(grown.gif_bytes(zoom=4))) as gif:
        assert gif.n_frames == 3 and gif.info["comment"].decode().startswith("OIPs of conv")


def test_every_replay_export_is_labelled_the_confusion_matrix_and_ranking_with_their_axes():
    from cnn_widgets.data.training import training_data
    from cnn_widgets.training import SnapshotPlan, train_with_snapshots

    model = CNNModel(make_tiny_cnn(filters=4))
    run = train_with_snapshots(model, training_data(model, stripes(160), held_out=32),
                               plan=SnapshotPlan.for_model(model, oip_steps=2, first_epoch=1), epochs=1,
                               batch_size=32, learning_rate=0.1, standardize=True)
    replay = run.replay
    titles = {"kernels": ("First-layer kernels", "tiles: 0, 1"), "decoded": ("Decoded filters", "tiles: 0, 1"),
              "oip": ("OIP of", "y axis: input row"), "maps": ("Maps of", "tiles: 0, 1"),
              "ranking": ("Cohen's d per map", "y axis: Cohen's d"),
              "confusion": ("Confusion matrix", "y axis: true class")}
    for kind in replay.kinds():
        title, axis = titles[kind]
        assert "end of epoch 1" in assert_labelled(replay.png_bytes(kind, -1), title, axis)["Title"]
    confusion = png_text(replay.png_bytes("confusion", -1))["Description"]
    assert "x axis: predicted class" in confusion and "rows: 0, 1, 2" in confusion and "columns: 0, 1, 2" in confusion
    assert "x axis: map number" in png_text(replay.png_bytes("ranking", -1))["Description"]
    with Image.open(io.BytesIO(replay.gif_bytes("confusion"))) as gif:
        assert gif.n_frames == len(replay) and gif.info["comment"].decode().startswith("Confusion matrix, before")


def test_a_slide_shows_a_labelled_picture_with_its_title_as_alt_text():
    import base64

    from cnn_widgets.delivery.slides import static_widget

    data = labelled_png(Image.new("RGB", (20, 20)), Labels("Maps of conv1 <for one digit>", x_label="map"))
    state = {"pic": {"model_name": "ImageModel", "state": {"format": "png"},
                     "buffers": [{"path": ["value"], "data": base64.b64encode(data).decode()}]}}
    assert 'alt="Maps of conv1 &lt;for one digit&gt;"' in static_widget(state, "pic")


def test_maps_by_row_labels_each_image_and_refuses_what_does_not_fit():
    from cnn_widgets.render.rows import maps_by_row_png

    maps = np.random.default_rng(1).random((3, 5, 5, 20)).astype(np.float32)
    data = maps_by_row_png(maps, ["a 4", "a 1", "a 2"], "Three digits", first=4, last=12)
    text = assert_labelled(data, "Three digits", "x axis: map number (5x5 cells each)", "y axis: image",
                           "rows: a 4, a 1, a 2")
    assert "colour scale (viridis): 0 (not activated)" in text["Description"]
    with pytest.raises(ValueError, match="one row label per image: 3 images, 2 labels"):
        maps_by_row_png(maps, ["a", "b"], "x")
    with pytest.raises(ValueError, match=r"maps 4..24 are not a range of the 20 maps \(0..19\)"):
        maps_by_row_png(maps, ["a", "b", "c"], "x", first=4, last=25)
    with pytest.raises(ValueError, match=r"maps must be \(images, height, width, count\); got shape \(5, 5, 20\)"):
        maps_by_row_png(maps[0], ["a"], "x")
