"""SaliencyView: 'A rather than B' on the worker, one frame behind the drawing, pickers as the frontend sends them."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

from cnn_widgets.methods.saliency import saliency
from cnn_widgets.session import Session

from cnn_widgets.widgets import FCPCompare, SaliencyView

from ...methods.test_saliency import _linear_model
from ..helpers import choose


@pytest.fixture(scope="module")
def digits():
    from cnn_widgets.data.mnist import mnist_test_split

    images, labels = mnist_test_split()
    return images[np.flatnonzero(labels == 4)[:4]], images[np.flatnonzero(labels == 9)[:4]]


@pytest.fixture
def session(mnist_model, digits):
    session = Session(mnist_model)
    session.live.image = digits[1][0]
    yield session
    session.close()


def shown(view: SaliencyView) -> SaliencyView:
    assert view.session.worker.wait(120)
    return view


def test_a_nine_reads_as_nine_rather_than_four(session, mnist_model, digits):
    view = shown(SaliencyView(session, samples=8))
    result = view.result
    assert (result.class_a, result.class_b) == (4, 9) and view.computed == 1
    logits = mnist_model.logits(digits[1][0])[0]
    assert result.difference == pytest.approx(logits[4] - logits[9], rel=1e-4)
    assert "more <b>9</b> than 4" in view.reading.value
    assert all(p.image.value for p in view.pictures)
    expected = saliency(mnist_model, mnist_model.prepare(digits[1][0])[0], 4, 9, samples=8)
    np.testing.assert_allclose(result.gradient, expected.gradient, atol=1e-6)
    np.testing.assert_allclose(result.occlusion, expected.occlusion, atol=1e-5)
    row = view.children[-1].children  # on screen: the drawing, occlusion (the clearer picture), SmoothGrad
    assert [column.children[1] for column in row] == [view.pictures[0], view.pictures[2], view.pictures[1]]
    assert "occlusion (4×4)" in row[1].children[0].value
    assert "SmoothGrad: mean gradient of 8 noisy copies (noise σ 0.15 in pixel units)" in row[2].children[0].value


def test_follows_the_drawing_one_frame_behind(session, mnist_model, digits):
    view = shown(SaliencyView(session, samples=4, occlusion=False))
    strokes = [*digits[0], *digits[1][1:]]
    for image in strokes:  # faster than the worker: the newest drawing wins
        session.live.image = image
    shown(view)
    assert 2 <= view.computed <= 1 + len(strokes)
    last = saliency(mnist_model, mnist_model.prepare(strokes[-1])[0], 4, 9, samples=4, occlusion=False)
    np.testing.assert_allclose(view.result.gradient, last.gradient, atol=1e-6)
    assert view.result.occlusion is None and view.pictures[2].layout.display == "none"


def test_pickers_and_the_same_class_twice(session):
    view = shown(SaliencyView(session, samples=4))
    computed = view.computed
    choose(view.a_picker, 9)  # A == B on the way to another pair
    assert view.status_line.error and "both 9" in view.status
    shown(view)
    assert view.computed == computed
    choose(view.b_picker, 7)
    shown(view)
    assert not view.status_line.error and (view.result.class_a, view.result.class_b) == (9, 7)
    for name, value in (("class_a", 10), ("class_b", -1), ("noise", float("nan")), ("samples", 0)):
        with pytest.raises(traitlets.TraitError):
            setattr(view, name, value)
    assert (view.class_a, view.class_b, view.a_picker.value) == (9, 7, 9)
    view.noise_slider.set_state({"value": 0.0})
    shown(view)
    assert view.result.noise == 0.0 and view.result.samples == 1


def test_class_pickers_sent_no_or_a_wrong_index_stay_in_step(session):
    view = shown(SaliencyView(session, samples=4))
    computed = view.computed
    for name, picker in (("class_a", view.a_picker), ("class_b", view.b_picker)):
        before = getattr(view, name)
        picker.set_state({"index": None})
        assert picker.value == before == getattr(view, name) and picker.index == before
        assert view.status_line.error and f"no {name} chosen" in view.status
        with pytest.raises(traitlets.TraitError, match=r"choice 99 is out of range; choose 0–9 \(0, 1, 2"):
            picker.set_state({"index": 99})
        assert picker.value == before == getattr(view, name)
    shown(view)
    assert view.computed == computed
    choose(view.a_picker, 3)  # still usable
    shown(view)
    assert (view.class_a, view.result.class_a) == (3, 3)
    view.class_b = 8  # and the other way
    assert view.b_picker.value == 8


def test_defaults_to_the_fcp_pair(session):
    fcp = FCPCompare(session, lazy=True, classes=(3, 8))
    view = SaliencyView(session, samples=4)
    view.follow(fcp)
    shown(view)
    assert (view.class_a, view.class_b) == (3, 8) and (view.result.class_a, view.result.class_b) == (3, 8)
    choose(fcp.b_picker, 5)
    shown(view)
    assert view.class_b == 5 and view.result.class_b == 5


def test_linear_model_through_the_widget_is_its_weight_difference():
    model, effective = _linear_model(3, classes=3)
    session = Session(model, data=False)
    session.live.image = np.random.default_rng(6).random((6, 6, 3)).astype(np.float32)
    view = shown(SaliencyView(session, noise=0.0))
    assert (view.class_a, view.class_b) == (0, 1)
    np.testing.assert_allclose(view.result.gradient, effective[..., 0] - effective[..., 1], rtol=1e-5, atol=1e-5)
    assert view.pictures[1].size == (6, 6)
    session.close()


def test_close_stops_computing_and_sends_nothing(session, digits, wire):
    view = shown(SaliencyView(session, samples=4))
    ids = {p.image.model_id for p in view.pictures} | {view.reading.model_id}
    computed = view.computed
    view.close()
    mark = wire.mark()
    session.live.image = digits[0][2]
    shown(view)
    assert view.computed == computed
    assert not [m for m in wire.since(mark) if m.comm_id in ids]


def test_a_job_cancelled_from_outside_does_not_stall_the_view(session, digits):
    import threading

    view = shown(SaliencyView(session, samples=4, occlusion=False))
    release = threading.Event()
    session.worker.submit(lambda job: release.wait(30), name="something long")
    session.live.image = digits[0][0]  # queued behind it
    session.worker.cancel(("saliency", id(view)))
    release.set()
    shown(view)
    computed = view.computed
    session.live.image = digits[0][1]
    shown(view)
    assert view.computed == computed + 1


def test_lazy_computes_nothing_until_shown(session, digits):
    view = SaliencyView(session, samples=4, lazy=True)
    session.live.image = digits[0][3]
    view.class_b = 7
    shown(view)
    assert view.computed == 0 and view.result is None and "when this tab is opened" in view.status
    view.active = True
    shown(view)
    assert view.computed == 1 and view.result.class_b == 7 and view.status == ""


def test_same_drawing_is_computed_once_per_model_version(session):
    view = shown(SaliencyView(session, samples=4, occlusion=False))
    computed = view.computed
    view.refresh()
    shown(view)
    assert view.computed == computed  # nothing new
    session.model.changed()  # what train() does
    view.refresh()
    shown(view)
    assert view.computed == computed + 1


def test_in_the_explorer_it_takes_the_fcp_pair_and_computes_only_while_shown():
    from cnn_widgets import Explorer

    explorer = Explorer()
    explorer.tabs.set_state({"selected_index": explorer.titles.index("A rather than B")})
    view = shown(explorer.saliency)
    assert view.computed == 1 and (view.class_a, view.class_b) == (4, 9) and "FCP" not in explorer._panels
    explorer.tabs.set_state({"selected_index": explorer.titles.index("FCP")})  # built now: the pair follows it
    choose(explorer.fcp.b_picker, 7)
    explorer.tabs.set_state({"selected_index": explorer.titles.index("A rather than B")})
    shown(view)
    assert view.class_b == 7 and view.result.class_b == 7 and view.following is explorer.fcp
    explorer.tabs.set_state({"selected_index": explorer.titles.index("OIP")})
    computed = view.computed
    explorer.session.live.image = np.zeros((28, 28), np.float32)
    shown(view)
    assert view.computed == computed and not view.active
    explorer.close()


def test_in_the_explorer_an_fcp_opened_first_gives_its_pair_at_once():
    from cnn_widgets import Explorer

    explorer = Explorer()
    explorer.tabs.set_state({"selected_index": explorer.titles.index("FCP")})
    choose(explorer.fcp.a_picker, 3)
    view = explorer.saliency  # built without a tab change
    assert view.following is explorer.fcp and (view.class_a, view.class_b) == (3, 9)
    explorer.close()
