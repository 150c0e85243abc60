"""Every notebook runs top to bottom headless (one kernel each) and shows what it should.

Each notebook in ``notebooks/`` gets the generic checks: it executes, no cell ends in
an error, nothing is written to stderr, and at least one picture or widget is shown.
``EXPECTED`` adds per-notebook checks (pictures, widgets, key text); a new notebook
without an entry still gets the generic ones.

The notebooks run with no network: downloads go to an unreachable proxy, and
``CNN_WIDGETS_MNIST`` is set only for a notebook that loads the full MNIST (its
training split); the others use the test split shipped in the package.

The offline deck (``cnn-widgets slides``) is checked here for what makes it
self-contained; ``tests/browser/test_slides.py`` opens it in Chromium. The slides
notebook is executed once per test run (the ``slides_run`` fixture) for its own
check, the deck's and the browser's.

Executing notebooks is ``slow``; checking outputs and the deck's arguments is not.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

import nbformat
import pytest

from .conftest import DATA_VARIABLES, REPO, SLIDES, execute_notebook, mnist_file, offline_environment

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
_PICTURE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@dataclass(frozen=True)
class Expect:
    """What one notebook's outputs must hold, beyond the generic checks.

    Attributes:
        pictures: Fewest image outputs (PNG, JPEG, GIF, SVG).
        widgets: Fewest widget outputs.
        text: Strings that must appear in the text outputs (stdout, results).
        shows: Whether it must show at least one picture or widget (the generic check).
        without_data: What it must show instead when the data set it loads is not
            here (a notebook that says what is missing); None: it is skipped then.
    """

    pictures: int = 0
    widgets: int = 0
    text: tuple[str, ...] = field(default_factory=tuple)
    shows: bool = True
    without_data: "Expect | None" = None


EXPECTED: dict[str, Expect] = {
    "00_explorer.ipynb": Expect(widgets=1),
    "01_draw_and_see.ipynb": Expect(widgets=1, text=("conv1", "18×18", "total", "predicted")),
    "02_oip_emergence.ipynb": Expect(pictures=2, widgets=1, text=("wavelength",)),
    "03_fcp_4_vs_9.ipynb": Expect(widgets=1, text=("fours and", "map", "d = ")),
    "04_decoded_filters.ipynb": Expect(widgets=2, text=("conv1", "conv3")),
    "05_your_own_model.ipynb": Expect(widgets=2, text=("test accuracy",), without_data=Expect(
        widgets=2, text=("no training split here", "test accuracy"))),
    "06_training_replay.ipynb": Expect(widgets=3, text=("snapshots took",)),
    "07_filters_take_shape.ipynb": Expect(widgets=3, text=("change = c · image", "control, the same networks untrained")),
    "08_fashion_mnist.ipynb": Expect(pictures=5, without_data=Expect(
        pictures=4, text=("Fashion-MNIST is not available here", "CNN_WIDGETS_FASHION_MNIST",
                          "STAND-IN (MNIST, not Fashion-MNIST): Adam"))),
    "10_seed000_maps_across_digits.ipynb": Expect(pictures=5, widgets=1, text=(
        "dead maps of 128", "beyond what three random other digits give", "receptive field 18x18 px")),
    "11_seed002_cnn_arithmetic.ipynb": Expect(pictures=3, widgets=1, text=(
        "Keras equals the hand computation: True", "4 layers until one cell sees", "Keras counts 1,568,512")),
    "09_inside_a_cell.ipynb": Expect(pictures=1, widgets=3, text=("the network:", "pixel (", "accuracy")),
    "slides.ipynb": Expect(pictures=9, widgets=1, text=("the network:", "most confused", "pairs")),
}
#: Data sets a notebook may load beyond the shipped MNIST test split: loader → variable.
DATA_SETS = {"load_mnist": "CNN_WIDGETS_MNIST", "load_fashion_mnist": "CNN_WIDGETS_FASHION_MNIST"}


def data_sets_needed(notebook: Any) -> list[str]:
    """The variables naming the data files a notebook's code loads (``load_mnist(`` → MNIST's)."""
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    return [variable for loader, variable in DATA_SETS.items() if re.search(rf"\b{loader}\(", code)]


def data_file(variable: str) -> str | None:
    """The local file for a data set variable: MNIST beside the repository, else the variable."""
    import os

    if variable == "CNN_WIDGETS_MNIST":
        found = mnist_file()
        return None if found is None else str(found)
    named = os.environ.get(variable)
    return named if named and os.path.isfile(named) else None


def problems(notebook: Any, expect: Expect) -> list[str]:
    """Everything wrong with an executed notebook's outputs; empty when all is well."""
    found: list[str] = []
    pictures = widgets = 0
    text = []
    for index, cell in enumerate(notebook.cells):
        where = f"cell {index} ({cell.source.strip().splitlines()[0][:60] if cell.source.strip() else 'empty'!r})"
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "error":
                found.append(f"{where} raised {output.get('ename')}: {output.get('evalue')}")
            elif kind == "stream":
                if output.get("name") == "stderr":
                    found.append(f"{where} wrote to stderr: {output.get('text', '')[:300]!r}")
                text.append(output.get("text", ""))
            else:
                data = output.get("data", {})
                pictures += sum(mime in data for mime in _PICTURE_MIMES)
                widgets += _WIDGET_MIME in data
                if _WIDGET_MIME not in data:
                    text.append(str(data.get("text/plain", "")))
    if expect.shows and pictures + widgets == 0:
        found.append("the notebook shows no picture and no widget")
    if pictures < expect.pictures:
        found.append(f"{pictures} pictures shown; expected at least {expect.pictures}")
    if widgets < expect.widgets:
        found.append(f"{widgets} widgets shown; expected at least {expect.widgets}")
    joined = "\n".join(text)
    found += [f"no output contains {wanted!r}" for wanted in expect.text if wanted not in joined]
    return found


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No network for the kernel: an unreachable proxy, an empty home and Keras cache, no data file."""
    for name in DATA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in offline_environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.mark.slow
@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.xdist_group("slides")) if p == SLIDES else p
                                  for p in NOTEBOOKS], ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_shows_its_outputs(path, offline, tmp_path, request):
    expect = EXPECTED.get(path.name, Expect())
    if path == SLIDES:  # executed once for this test, the deck's and the browser's
        notebook = request.getfixturevalue("slides_run").notebook
        assert data_sets_needed(notebook) == []  # it ran with no data file
        found = problems(notebook, expect)
        assert not found, f"{path.name}:\n" + "\n".join(found)
        return
    notebook = nbformat.read(path, as_version=4)
    for variable in data_sets_needed(notebook):
        file = data_file(variable)
        if file is not None:
            offline.setenv(variable, file)
        elif expect.without_data is not None:
            expect = expect.without_data
        else:
            pytest.skip(f"{path.name} loads a data set that is not here (set {variable})")
    work = tmp_path / "run"  # whatever a notebook writes lands here, not in notebooks/
    work.mkdir()
    execute_notebook(notebook, work, path.name)
    found = problems(notebook, expect)
    assert not found, f"{path.name}:\n" + "\n".join(found)


def _executed(*cells: tuple[str, list[dict[str, Any]]]) -> Any:
    notebook = nbformat.v4.new_notebook()
    for source, outputs in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        notebook.cells.append(cell)
    return notebook


def test_the_output_checks_catch_what_they_should():
    png = {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Image>"},
           "metadata": {}}
    good = _executed(("print('conv1')", [{"output_type": "stream", "name": "stdout", "text": "conv1\n"}]),
                     ("show()", [png]))
    assert problems(good, Expect(pictures=1, text=("conv1",))) == []
    bad = _executed(
        ("1/0", [{"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
                  "traceback": []}]),
        ("warn()", [{"output_type": "stream", "name": "stderr", "text": "UserWarning: careful\n"}]),
    )
    found = problems(bad, Expect(pictures=2, widgets=1, text=("conv3",)))
    assert any("cell 0 ('1/0') raised ZeroDivisionError: division by zero" in p for p in found)
    assert any("wrote to stderr" in p and "careful" in p for p in found)
    assert "the notebook shows no picture and no widget" in found
    assert "0 pictures shown; expected at least 2" in found
    assert "0 widgets shown; expected at least 1" in found
    assert "no output contains 'conv3'" in found


def test_every_notebook_is_known_or_checked_generically():
    """The table names only notebooks that exist (a renamed notebook must not drop its checks)."""
    names = {p.name for p in NOTEBOOKS}
    assert set(EXPECTED) <= names, f"EXPECTED names missing notebooks: {set(EXPECTED) - names}"


def test_notebooks_that_need_a_data_file_are_recognised():
    uses = _executed(("(x, y), _ = load_mnist()", []), ("f = load_fashion_mnist(path)", []))
    shipped = _executed(("x_test, y_test = mnist_test_split()", []))
    assert data_sets_needed(uses) == ["CNN_WIDGETS_MNIST", "CNN_WIDGETS_FASHION_MNIST"]
    assert data_sets_needed(shipped) == []


# ---------------------------------------------------------------------- the offline deck
@pytest.fixture
def deck(slides_run) -> str:
    """``cnn-widgets slides`` (of the slides notebook executed once per run): the deck's HTML."""
    failed = [output for cell in slides_run.notebook.cells for output in cell.get("outputs", [])
              if output.get("output_type") == "error"]
    assert failed == [], "a cell of the slides failed (see the notebook's own test)"
    assert slides_run.returncode == 0, slides_run.stderr
    assert slides_run.stderr == "", slides_run.stderr
    return slides_run.deck.read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.xdist_group("slides")  # with the one run of the slides notebook
def test_the_slides_notebook_reads_without_warnings(slides_run):
    assert slides_run.warnings == ()  # e.g. nbformat 4.5 cells without ids


@pytest.mark.slow
@pytest.mark.xdist_group("slides")  # with the one run of the slides notebook
def test_the_deck_needs_nothing_but_itself(deck):
    assert "Reveal.initialize(" in deck and "reveal.js 5." in deck
    assert not re.search(r"<script[^>]+src=", deck), "a script is loaded from elsewhere"
    assert not re.search(r"<link[^>]+href=", deck), "a style sheet is loaded from elsewhere"
    assert not re.search(r"@import", deck), "a style sheet imports another"
    assert not re.search(r"""<img[^>]+src=["'](?!data:)""", deck), "a picture is not inline"
    assert "require(" not in deck and "widget-state+json" not in deck and "MathJax.Hub" not in deck


@pytest.mark.slow
@pytest.mark.xdist_group("slides")  # with the one run of the slides notebook
def test_every_picture_of_the_deck_is_inline_and_the_live_slide_keeps_its_state(deck):
    pictures = re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', deck)
    for picture in pictures:
        data = base64.b64decode(picture)
        assert data.startswith(b"\x89PNG") and len(data) > 60
    sections = re.findall(r"<section[^>]*>(.*?)</section>", deck, flags=re.S)
    live = [s for s in sections if "cnnw-static" in s]
    assert len(live) == 1, "the Explorer slide is a static picture of its last state"
    assert 'class="cnnw-live-page"' in live[0]  # the network in the deck, first
    assert live[0].index("cnnw-live-page") < live[0].index('<details class="cnnw-last-shown">')  # then its state
    assert live[0].count("<img ") >= 8  # the pad's view, the receptive field, every map grid
    assert "<svg" in live[0]  # the probability bars
    assert len(pictures) >= 5 + 8


# ---------------------------------------------------------------------- widgets frozen into pictures
def _png() -> bytes:
    from cnn_widgets.render import to_png

    import numpy as np

    return to_png(np.arange(16, dtype=np.uint8).reshape(4, 4))


def _widget_state() -> dict[str, Any]:
    """A saved widget state as nbclient stores it: a box of a title, a picture, a hidden
    picture, a tab and probability bars; texts with markup that must stay text."""
    png = base64.b64encode(_png()).decode()
    y = base64.b64encode(np_bytes([0.1, 0.7, 0.2])).decode()

    def model(name, state, buffers=()):
        return {"model_name": name, "model_module": "@jupyter-widgets/controls", "state": state,
                "buffers": list(buffers)}

    return {
        "box": model("VBoxModel", {"children": ["IPY_MODEL_title", "IPY_MODEL_picture", "IPY_MODEL_hidden",
                                                "IPY_MODEL_tabs", "IPY_MODEL_figure", "IPY_MODEL_canvas"],
                                   "layout": "IPY_MODEL_layout"}),
        "layout": model("LayoutModel", {"width": "100%"}),
        "title": model("HTMLModel", {"value": "<style>.x{}</style><b>class <img src=x onerror=alert(1)></b>"}),
        "picture": model("ImageModel", {"format": "png", "layout": "IPY_MODEL_layout"},
                         [{"path": ["value"], "data": png, "encoding": "base64"}]),
        "hidden": model("ImageModel", {"format": "png", "layout": "IPY_MODEL_gone"},
                        [{"path": ["value"], "data": png, "encoding": "base64"}]),
        "gone": model("LayoutModel", {"display": "none"}),
        "tabs": model("TabModel", {"children": ["IPY_MODEL_first", "IPY_MODEL_second"], "selected_index": 1,
                                   "titles": ["A", "<script>alert(2)</script>"]}),
        "first": model("LabelModel", {"value": "not shown"}),
        "second": model("LabelModel", {"value": "<script>alert(3)</script>"}),
        "figure": model("FigureModel", {"marks": ["IPY_MODEL_bars"], "title": "p(<i>)"}),
        "bars": {"model_name": "BarsModel", "state": {"x": ["<b>4</b>", "7", "9"],
                                                       "y": {"dtype": "float64", "shape": [3]},
                                                       "scales": {"y": "IPY_MODEL_yscale"}, "colors": ["steelblue"]},
                 "buffers": [{"path": ["y", "value"], "data": y, "encoding": "base64"}]},
        "yscale": model("LinearScaleModel", {"min": 0.0, "max": 1.0}),
        "canvas": model("CanvasModel", {"width": 280}),
    }


def np_bytes(values) -> bytes:
    import numpy as np

    return np.asarray(values, np.float64).tobytes()


def test_a_frozen_widget_shows_its_pictures_and_escapes_every_text():
    from cnn_widgets.delivery.slides import static_widget

    page = static_widget(_widget_state(), "box")
    pictures = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert [base64.b64decode(p) for p in pictures] == [_png()]  # the hidden one is left out
    # an HTML widget's markup is read as markup: its text stays, its tags and styles go
    assert '<div class="cnnw-static-text">class</div>' in page and "onerror" not in page and ".x{}" not in page
    assert "<script" not in page and "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page and "not shown" not in page
    assert page.count("<rect ") == 3 and "&lt;b&gt;4&lt;/b&gt;" in page and "p(&lt;i&gt;)" in page
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', page)]
    assert heights[1] > heights[2] > heights[0] > 0  # the bars keep their order of size
    assert static_widget(_widget_state(), "canvas") == "" and static_widget({}, "box") == ""


def test_freezing_replaces_widget_outputs_and_drops_the_widget_state():
    from cnn_widgets.delivery.slides import freeze_widgets

    notebook = _executed(("Explorer()", [{"output_type": "display_data", "metadata": {}, "data": {
        _WIDGET_MIME: {"model_id": "box", "version_major": 2, "version_minor": 0}, "text/plain": "VBox()"}}]),
        ("gone()", [{"output_type": "display_data", "metadata": {}, "data": {
            _WIDGET_MIME: {"model_id": "unknown"}, "text/plain": "X()"}}]))
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": _widget_state(), "version_major": 2, "version_minor": 0}}
    assert freeze_widgets(notebook) == 2
    first, second = (cell.outputs[0]["data"] for cell in notebook.cells)
    assert list(first) == ["text/html"] and "data:image/png;base64," in first["text/html"]
    assert "without a running kernel" in second["text/html"]
    assert "widgets" not in notebook.metadata


@pytest.mark.parametrize(
    "notebook, out, error, message",
    [
        ("missing.ipynb", "deck.html", FileNotFoundError, "no notebook at"),
        ("notes.txt", "deck.html", ValueError, "must be an '.ipynb' file"),
        ("bad.ipynb", "deck.html", ValueError, "is not a readable notebook"),
        ("good.ipynb", "deck.pdf", ValueError, r"must end in '.html' or '.htm' \(got '.pdf'\)"),
        ("good.ipynb", "a_file/deck.html", ValueError, "a_file is a file, not a folder"),
        ("good.ipynb", "folder.html", ValueError, "is a folder"),
        (5, "deck.html", TypeError, "notebook must be a file path"),
    ],
)
def test_bad_slides_arguments_are_refused_before_anything_runs(tmp_path, notebook, out, error, message):
    from cnn_widgets.delivery.slides import build_slides

    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "good.ipynb")
    (tmp_path / "bad.ipynb").write_text("{not json")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "folder.html").mkdir()
    source = tmp_path / notebook if isinstance(notebook, str) else notebook
    with pytest.raises(error, match=message):
        build_slides(source, tmp_path / out)
    assert not (tmp_path / "deck.html").exists()


@pytest.mark.slow
def test_a_failing_cell_is_reported_with_its_error(tmp_path):
    from cnn_widgets.delivery.slides import build_slides

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("raise ValueError('no data here')")]
    nbformat.write(notebook, tmp_path / "broken.ipynb")
    with pytest.raises(RuntimeError, match="broken.ipynb: a cell failed: ValueError: no data here"):
        build_slides(tmp_path / "broken.ipynb", tmp_path / "deck.html")
    assert not (tmp_path / "deck.html").exists()


def test_saved_outputs_make_a_deck_without_running_anything(tmp_path):
    """``--no-execute``: the notebook's saved pictures and widget state, no kernel."""
    from cnn_widgets.delivery.slides import build_slides

    png = {"output_type": "display_data", "metadata": {},
           "data": {"image/png": base64.b64encode(_png()).decode(), "text/plain": "<Image>"}}
    widget = {"output_type": "display_data", "metadata": {},
              "data": {_WIDGET_MIME: {"model_id": "box", "version_major": 2, "version_minor": 0}, "text/plain": "X"}}
    notebook = _executed(("raise SystemExit('never run')", [png]), ("Explorer()", [widget]))
    title = nbformat.v4.new_markdown_cell("# Maps & more", metadata={"slideshow": {"slide_type": "slide"}})
    notebook.cells.insert(0, title)
    notebook.cells[2].metadata["slideshow"] = {"slide_type": "slide"}
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": _widget_state(), "version_major": 2, "version_minor": 0}}
    nbformat.write(notebook, tmp_path / "saved.ipynb")
    page = build_slides(tmp_path / "saved.ipynb", tmp_path / "out" / "deck.html", execute=False).read_text()
    assert page.count('src="data:image/png;base64,') == 2 and "cnnw-static" in page
    assert "Maps &amp; more" in page and "never run" not in page
    assert page.count("<section") >= 2 and "Reveal.initialize(" in page
