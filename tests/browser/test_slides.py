"""The offline deck in Chromium: no request leaves the file, every slide shows its picture and fits 1280×800."""

from __future__ import annotations

import nbformat
import pytest

from ..conftest import SLIDES
from .conftest import chromium, save_screenshot


def picture_slides() -> list[str]:
    """Titles of the slides whose cells show a picture or a widget (from the notebook itself)."""
    notebook = nbformat.read(SLIDES, as_version=4)
    titles: list[str] = []
    pictures: dict[str, bool] = {}
    for cell in notebook.cells:
        kind = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        if kind == "skip":
            continue
        if kind in ("slide", "subslide") and cell.cell_type == "markdown":
            title = next((line.lstrip("# ").strip() for line in cell.source.splitlines() if line.strip()), "")
            titles.append(title)
            pictures[title] = False
        elif cell.cell_type == "code" and titles:
            pictures[titles[-1]] |= "Image(" in cell.source or "Explorer(" in cell.source
    return [title for title in titles if pictures[title]]


@pytest.fixture
def deck(slides_run):
    """The offline deck of the slides notebook, executed once per test run (``slides_run``)."""
    chromium()  # skip when there is no browser
    assert slides_run.returncode == 0, slides_run.stderr
    return slides_run.deck


_SLIDE_STATE = """() => {
    const slide = Reveal.getCurrentSlide();
    const shown = (el) => {
        for (let node = el; node && node !== slide.parentNode; node = node.parentElement) {
            const style = getComputedStyle(node);
            if (style.visibility === 'hidden' || style.display === 'none' || style.opacity === '0') return false;
        }
        return true;
    };
    const view = document.querySelector('.reveal').getBoundingClientRect();
    const pictures = [...slide.querySelectorAll('img, svg')].filter((el) => {
        const box = el.getBoundingClientRect();
        const loaded = el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0);
        return loaded && shown(el) && box.width > 4 && box.height > 4 && box.bottom > view.top
            && box.top < view.bottom && box.right > view.left && box.left < view.right;
    });
    // a live page (the network in the deck) counts once its pad is drawn
    const live = [...slide.querySelectorAll('iframe.cnnw-live-page')].filter((frame) => {
        const doc = frame.contentDocument;
        const pad = doc && doc.querySelector('canvas');
        return shown(frame) && pad && pad.getBoundingClientRect().width > 4;
    });
    const heading = slide.querySelector('h1, h2, h3');
    return {title: heading ? heading.textContent.replace(/¶/g, '').trim() : '',
            pictures: pictures.length + live.length, index: Reveal.getIndices().h,
            overflow: slide.scrollHeight - slide.clientHeight};
}"""


def test_the_deck_runs_offline_and_every_slide_shows_its_picture(browser, deck):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    requests: list[str] = []

    def only_the_file(route):
        requests.append(route.request.url)
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_the_file)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(deck.as_uri(), wait_until="load")
        page.wait_for_function("typeof Reveal !== 'undefined' && Reveal.isReady()", timeout=15_000)
        assert page.locator(".reveal.ready .slides section").count() >= len(picture_slides())
        seen: dict[str, int] = {}
        overflowing: dict[str, int] = {}
        for _ in range(200):  # one step per fragment and slide, to the end
            state = page.evaluate(_SLIDE_STATE)
            seen[state["title"]] = max(seen.get(state["title"], 0), state["pictures"])
            if state["overflow"] > 1:
                overflowing[state["title"]] = state["overflow"]
            if page.evaluate("Reveal.isLastSlide() && !Reveal.availableFragments().next"):
                break
            before = page.evaluate("JSON.stringify(Reveal.getIndices())")
            page.keyboard.press("ArrowRight")
            page.wait_for_function(f"JSON.stringify(Reveal.getIndices()) !== {before!r}")
            page.wait_for_function("[...Reveal.getCurrentSlide().querySelectorAll('.fragment.visible')]"
                                   ".every((el) => getComputedStyle(el).opacity === '1')")
        save_screenshot(page, "slides_last")
        assert page.evaluate("Reveal.isLastSlide()"), "stepping never reached the last slide"
        assert [url for url in requests if not url.startswith("file:")] == [], "the deck asked the network"
        assert not errors, errors
        expected = picture_slides()
        assert len(expected) >= 6
        missing = [title for title in expected if seen.get(title, 0) < 1]
        assert not missing, f"slides without a visible picture: {missing}; seen {seen}"
        assert overflowing == {}, f"slides taller than the 1280×800 slide (px beyond it): {overflowing}"
    finally:
        context.close()
