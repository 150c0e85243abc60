"""The Explorer in Voila, driven by a real mouse in Debian's Chromium."""

from __future__ import annotations

import json

from .conftest import ARTIFACTS, open_page, save_screenshot
from .pages import stroke_latencies, summary, draw_digit, wait_for_explorer


def test_drawing_a_digit_updates_prediction_and_maps(browser, explorer_server):
    from playwright.sync_api import expect

    context, page = open_page(browser, explorer_server.url)
    try:
        wait_for_explorer(page)
        conv1 = page.locator("img.cnnw-grid-picture").first
        before = conv1.get_attribute("src")
        draw_digit(page, 7)
        expect(page.locator(".cnnw-predicted-class")).to_have_text("7", timeout=15_000)
        assert conv1.get_attribute("src") != before
        save_screenshot(page, "explorer_drawn_7")

        page.locator(".cnnw-clear").click()
        draw_digit(page, 3, left=120, top=150, size=90)  # small, in a corner: to_mnist recentres it
        expect(page.locator(".cnnw-predicted-class")).to_have_text("3", timeout=15_000)
    finally:
        context.close()


def test_every_stroke_repaints_every_view(browser, explorer_server):
    context, page = open_page(browser, explorer_server.url)
    try:
        wait_for_explorer(page)
        samples = stroke_latencies(page, moves=40)
        figures = summary(samples)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "stroke_latency.json").write_text(json.dumps({**figures, "samples": samples}, indent=1))
        assert figures["lost"] == 0, f"some strokes never repainted every view: {samples}"
    finally:
        context.close()
