"""``cnn-widgets export``: one HTML file, opened from disk with every request blocked; the pad
draws with the real mouse, every view follows, hover and click work."""

from __future__ import annotations

import pytest

from cnn_widgets.delivery.page import export_page

from .conftest import save_screenshot
from .pages import draw_digit

_PAINTED = "() => [...document.querySelectorAll('.cnnw-live')].map((v) => Number(v.dataset.painted || 0))"


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    return export_page(tmp_path_factory.mktemp("page") / "page.html")


def test_the_page_is_small_enough_for_a_course_site(page_file):
    assert page_file.stat().st_size <= 2 * 1024 * 1024


def test_the_page_works_from_disk_with_every_request_blocked(browser, page_file):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []

    def refuse(route):
        if route.request.url == page_file.as_uri():
            route.continue_()  # the page itself, from disk
        else:
            requests.append(route.request.url)
            route.abort()

    context.route("**/*", refuse)  # every other request is failed and counted
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(page_file.as_uri())
        page.wait_for_selector("body[data-ready]", timeout=30_000)
        assert "draw a digit" in page.locator(".cnnw-live-prediction").inner_text()
        painted = page.evaluate(_PAINTED)
        assert len(painted) == 2 + 5 + 1 and all(n > 0 for n in painted)  # image, bars, 5 grids, dense
        draw_digit(page, 7)
        page.wait_for_function("() => (document.querySelector('.cnnw-live-predicted-class') || {}).innerText === '7'",
                               timeout=10_000)
        after = page.evaluate(_PAINTED)
        assert all(a > b + 3 for a, b in zip(after, painted))  # every view followed the pen, frame by frame
        overlay = page.locator(".cnnw-live-maps canvas.cnnw-live-overlay").first
        box = overlay.bounding_box()
        page.mouse.move(box["x"] + 4, box["y"] + 4)
        page.wait_for_function("() => document.querySelector('.cnnw-live-maps .cnnw-live-hover').innerText"
                               ".startsWith('conv1 · map 0 · cell (')")
        zoom = box["width"] / (8 * 27 - 1)
        page.mouse.click(box["x"] + (27 * 2 + 5.5) * zoom, box["y"] + 3.5 * zoom)
        assert page.locator("#cnnw-selected").inner_text() == "selected: conv1 · map 2 · cell (3, 5)"
        page.locator(".cnnw-page-grid select[data-trait=colormap]").first.select_option("grey")
        page.wait_for_function(f"(n) => ({_PAINTED})()[2] > n", arg=after[2])
        page.locator(".cnnw-clear").click()
        page.wait_for_function("() => document.querySelector('.cnnw-live-prediction').innerText.includes('draw a')")
        save_screenshot(page, "export_page")
    finally:
        context.close()
    assert requests == [] and errors == []


def test_the_slides_live_page_draws_inside_its_frame(browser, tmp_path):
    """What the offline deck's live slide holds (delivery/slides.py): the page in an iframe's
    srcdoc, made from the saved widget state; drawn in with the real mouse, from disk."""
    import ipywidgets

    from cnn_widgets import Session
    from cnn_widgets.delivery.page import live_page_for
    from cnn_widgets.widgets import DigitPad

    session = Session()
    box = ipywidgets.VBox([DigitPad(session)])
    frame = live_page_for(ipywidgets.Widget.get_manager_state(drop_defaults=False)["state"], box.model_id)
    box.close()
    session.close()
    deck = tmp_path / "deck.html"
    deck.write_text(f"<!DOCTYPE html><html><body><h2>Now you: draw a digit</h2>{frame}</body></html>")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.route("**/*", lambda route: route.continue_() if route.request.url == deck.as_uri() else route.abort())
    page = context.new_page()
    try:
        page.goto(deck.as_uri())
        inner = page.frame_locator("iframe.cnnw-live-page")
        inner.locator("body[data-ready]").wait_for(timeout=30_000)
        box = inner.locator("canvas.cnnw-pad-canvas").bounding_box()
        page.mouse.move(box["x"] + 140, box["y"] + 40)
        page.mouse.down()
        for k in range(1, 21):
            page.mouse.move(box["x"] + 140, box["y"] + 40 + 10 * k, steps=2)
        page.mouse.up()
        from playwright.sync_api import expect

        expect(inner.locator(".cnnw-live-predicted-class")).to_have_text("1", timeout=10_000)
    finally:
        context.close()
