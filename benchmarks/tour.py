"""The full tour of the dashboard, driven in code, with the kernel's memory after each part.

Used by ``bench_deliver.py`` twice: inside a Voila kernel (the dashboard page open in
Chromium, ``tensorflow-cpu`` as on Binder) and in a plain Python process (the full
``tensorflow`` wheel). Each step is what a lecturer does in the page: draw, open every
tab, grow an atlas of every layer, compare 4 and 9 on every layer, then grow the same
atlas ten times (memory must stay flat).
"""

from __future__ import annotations

import gc
import json
from typing import Any, Callable


def rss_mb() -> float:
    """Resident memory of this process, in MB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def tour(explorer: Any, report: Callable[[str, float], None], repeats: int = 10) -> dict[str, Any]:
    """Walk ``explorer`` (a :class:`cnn_widgets.Explorer`) through everything; ``report`` each step."""
    from cnn_widgets.methods.oip import optimize

    session = explorer.session
    model, data = session.model, session.data.test_set
    figures: dict[str, Any] = {}

    def step(name: str) -> None:
        session.worker.wait()
        gc.collect()
        figures[name] = round(rss_mb())
        report(name, figures[name])

    step("dashboard open")
    for index in (int(i) for i in data.of_class(4)[:3]):  # three drawings through the live path
        session.live.image = data.images[index].astype("float32") / 255
    step("after drawing")
    for index in range(len(explorer.tabs.children)):
        explorer.tabs.selected_index = index
        session.worker.wait()
    explorer.tabs.selected_index = 0
    step("every tab opened")
    for layer in model.spatial_layers:
        optimize(model, layer, steps=100, seed=0)
    step("atlases of every layer")
    for layer in model.layer_names[:-1]:
        explorer.fcp.layer = layer
        session.worker.wait()
    step("FCP on every layer")
    repeated = []
    for _ in range(repeats):
        optimize(model, "conv3", steps=100, seed=0)
        gc.collect()
        repeated.append(round(rss_mb()))
    figures["repeated atlases"] = repeated
    report("ten repeated conv3 atlases (min–max)", max(repeated) - min(repeated))
    return figures


def main() -> None:
    """Plain process: build the Explorer headless and print the tour's figures as JSON."""
    before = rss_mb()
    import cnn_widgets.model.backend  # noqa: F401  (TensorFlow, quietly: its own cost, measured apart)

    imported = rss_mb()
    from cnn_widgets import Explorer

    explorer = Explorer()
    figures = tour(explorer, lambda name, value: None)
    figures["python"] = round(before)
    figures["tensorflow imported"] = round(imported)
    print(json.dumps(figures))
    explorer.close()


if __name__ == "__main__":
    main()
