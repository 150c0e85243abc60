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
