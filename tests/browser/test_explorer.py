"""The Explorer in Voila, driven by a real mouse in Debian's Chromium."""

from __future__ import annotations

import json

from .conftest import ARTIFACTS, save_screenshot
from .pages import clear, draw_digit, stroke_latencies, summary


def test_drawing_a_digit_updates_prediction_and_maps(explorer_page):
    from playwright.sync_api import expect

    conv1 = explorer_page.locator("img.cnnw-grid-picture").first
    before = conv1.get_attribute("src")
    expect(explorer_page.locator(".cnnw-live-prediction")).to_contain_text("draw a digit")  # blank: no guess
    draw_digit(explorer_page, 7)
    expect(explorer_page.locator(".cnnw-live-predicted-class")).to_have_text("7", timeout=15_000)
    expect(explorer_page.locator(".cnnw-predicted-class")).to_have_text("7", timeout=15_000)  # the kernel's too
    assert conv1.get_attribute("src") != before  # the kernel's picture, for a saved notebook
    save_screenshot(explorer_page, "explorer_drawn_7")

    clear(explorer_page)
    draw_digit(explorer_page, 3, left=120, top=150, size=90)  # small, in a corner: to_mnist recentres it
    expect(explorer_page.locator(".cnnw-predicted-class")).to_have_text("3", timeout=15_000)


def test_every_stroke_repaints_every_view(explorer_page):
    samples = stroke_latencies(explorer_page, moves=40)
    figures = summary(samples)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "stroke_latency.json").write_text(json.dumps({**figures, "samples": samples}, indent=1))
    assert figures["lost"] == 0, f"some strokes never repainted every view: {samples}"


def test_pick_a_map_grow_its_oip_and_play_the_emergence(explorer_page):
    from playwright.sync_api import expect

    conv3 = explorer_page.locator(".cnnw-map-grid").nth(4).locator("canvas.cnnw-live-overlay")  # conv3: 16 a row
    conv3.scroll_into_view_if_needed()
    box = conv3.bounding_box()
    tile = box["width"] / (16 * 3 + 15)  # screen pixels per picture pixel
    explorer_page.mouse.click(box["x"] + (5 * 4 + 1.5) * tile, box["y"] + (1 * 4 + 1.5) * tile)  # map 21
    oip = explorer_page.locator(".cnnw-oip-explorer")
    expect(oip.locator(".widget-inline-hbox input[type=number]").first).to_have_value("21", timeout=10_000)
    layer = explorer_page.locator(".cnnw-oip-explorer .widget-dropdown select").first
    assert layer.evaluate("s => s.options[s.selectedIndex].text") == "conv3"
    plain = explorer_page.locator("img.cnnw-oip-plain")
    before = plain.get_attribute("src")
    explorer_page.locator(".cnnw-oip-run").click()
    expect(explorer_page.locator(".cnnw-oip-status")).to_contain_text("objective", timeout=60_000)
    assert plain.get_attribute("src") != before
    last_frame = plain.get_attribute("src")
    readout = explorer_page.locator(".cnnw-oip-frame .widget-readout")
    end = readout.inner_text()
    explorer_page.locator(".cnnw-oip-play button").first.click()  # play from the start
    expect(readout).not_to_have_text(end, timeout=10_000)
    expect(plain).not_to_have_attribute("src", last_frame, timeout=10_000)
    save_screenshot(explorer_page, "explorer_oip")


def test_switching_fcp_classes_changes_the_mosaics(explorer_page):
    from playwright.sync_api import expect

    explorer_page.locator(".cnnw-explorer-tabs .lm-TabBar-tab, .cnnw-explorer-tabs .p-TabBar-tab").nth(1).click()
    status = explorer_page.locator(".cnnw-fcp-status")
    expect(status).to_contain_text("of 4 and", timeout=30_000)
    mean_b = explorer_page.locator("img.cnnw-fcp-b")
    difference = explorer_page.locator("img.cnnw-fcp-diff")
    before = (mean_b.get_attribute("src"), difference.get_attribute("src"))
    explorer_page.locator(".cnnw-fcp-class-b select").select_option(label="7")
    expect(status).to_contain_text("of 7 on", timeout=30_000)
    expect(mean_b).not_to_have_attribute("src", before[0], timeout=10_000)
    expect(difference).not_to_have_attribute("src", before[1], timeout=10_000)
    save_screenshot(explorer_page, "explorer_fcp")
