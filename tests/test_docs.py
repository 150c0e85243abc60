"""The worked example of docs/adding-a-panel.md runs as written: its panel, its place in the
Explorer and its test."""

from __future__ import annotations

import re

from .conftest import REPO


def test_adding_a_panel_runs_as_written():
    text = (REPO / "docs" / "adding-a-panel.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 3  # the panel, into the Explorer, its test
    scope: dict = {}
    for block in blocks:
        exec(compile(block, "docs/adding-a-panel.md", "exec"), scope)  # noqa: S102 - our own documentation
    explorer = scope["explorer"]
    assert "Favourites" in explorer.titles
    explorer.tabs.set_state({"selected_index": explorer.titles.index("Favourites")})  # as the frontend does
    panel = explorer.panel("Favourites")
    assert panel.session is explorer.session and explorer.session.worker.wait(60)
    assert panel.picture.value and "map 0 of conv3" in panel.status
    explorer.close()
    assert panel.closed
