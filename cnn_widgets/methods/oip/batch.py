"""One OIP run: every item (map, objective, start) in one batch, step by step.

:func:`grow` reads as the run goes: start noise; the dead revived with longer
wavelengths; the rescue planned (who ascends its pre-activation, who may start from a
real image); then stretches of compiled steps up to the next frame, with the
callbacks told of every step, the real images put in for items that never fired, and
the images copied to the host only for a frame or a preview; the end.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, NamedTuple

import numpy as np

from .callbacks import Callbacks
from .engine import engine, masks_for
from .marks import field_boxes, pixel_correlation
from .noise import start_image
from .rescue import image_starts, node_starts, revive_by_wavelength, standardized_image
from .results import OIPResult
from .settings import OIPSettings

__all__ = ["Items", "grow"]

#: Most steps in one compiled stretch: a cancel or a preview waits at most this long.
MAX_STRETCH = 10


class Items(NamedTuple):
    """What each image of a run is about: its map, node (``(-1, -1)``: the map's mean),
    seed and wavelength of its start noise."""

    maps: np.ndarray
    nodes: np.ndarray
    seeds: np.ndarray
    wavelengths: np.ndarray


def grow(model: Any, layer: str, items: Items, settings: OIPSettings, images: np.ndarray | None,
         callbacks: Callbacks, cancel: threading.Event | None) -> OIPResult:
    """Run every item in one batch; ``callbacks.end`` is told in every case (a ``finally``)."""

    def stopped() -> bool:
        return cancel is not None and cancel.is_set()

    steps, result = settings.steps, None
    try:
        callbacks.begin(items.maps, steps)
        batch = _Batch(model, layer, items, settings)
        batch.revive_by_wavelength(stopped)
        batch.plan_rescue(images)
        frames, frame_steps = [batch.pixels()], [0]
        while batch.step < steps and not stopped():
            first = batch.step + 1
            rows = batch.ascend(min(steps, _next_frame(batch.step, settings.frame_every),
                                    batch.step + MAX_STRETCH))
            callbacks.steps(first, rows)
            batch.restart_late(images)
            framed = batch.step % settings.frame_every == 0 or batch.step == steps
            wanting = callbacks.wanting_preview(batch.step)
            if framed or wanting:  # the only copies of the images to the host
                pixels = batch.pixels()
                if framed:
                    frames.append(pixels)
                    frame_steps.append(batch.step)
                for callback in wanting:
                    callback.on_preview(batch.step, pixels)
        if frame_steps[-1] != batch.step:  # cancelled between frames: keep where it stopped
            frames.append(batch.pixels())
            frame_steps.append(batch.step)
        result = batch.finish(np.stack(frames), frame_steps, cancelled=batch.step < steps)
        return result
    finally:
        callbacks.end(result)


def _next_frame(step: int, every: int) -> int:
    return (step // every + 1) * every


class _Batch:
    """Where the items of one run stand: start images, the live subset on the compiled
    side, who is being rescued, how each came alive, the objective of every step."""

    def __init__(self, model: Any, layer: str, items: Items, settings: OIPSettings) -> None:
        info = model.layer(layer)
        self.model, self.layer, self.items, self.settings = model, layer, items, settings
        self.engine = engine(model, layer, settings.restandardize)
        self.masks = masks_for(items.nodes, int(info.output_shape[0]), int(info.output_shape[1]))
        self.count = count = len(items.maps)
        self.starts = np.stack([self._noise(i) for i in range(count)])  # standardised, every item
        self.revival = [""] * count
        self.dead = np.zeros(count, bool)
        self.history: list[np.ndarray] = []  # history[k]: the objectives after k steps
        self.step = 0
        self.silent: list[int] | None = None
        self.start_index = np.full(count, -1, np.int64)  # the real image an item restarted from
        self.start_objective = np.full(count, np.nan, np.float32)  # its objective on that image
        self.start_pixels: dict[int, np.ndarray] = {}  # item → that image in the pixel range

    def _noise(self, item: int, attempt: int = 0) -> np.ndarray:
        items = self.items
        return start_image(self.model, items.seeds[item], items.maps[item], float(items.wavelengths[item]),
                           self.settings.octaves, attempt)

    # ------------------------------------------------------------------ before the ascent
    def revive_by_wavelength(self, stopped: Callable[[], bool]) -> None:
        """1. Dead on the first noise → noise of longer wavelengths."""
        items, settings = self.items, self.settings
        self.dead, revived = revive_by_wavelength(self.model, self.engine, self.starts, items.maps, self.masks,
                                                  items.seeds, items.wavelengths, settings.octaves,
                                                  settings.rescue_tries, stopped)
        for position in np.flatnonzero(revived):
            self.revival[position] = "wavelength"

    def plan_rescue(self, images: np.ndarray | None) -> None:
        """2. Still dead → ascend the pre-activation (from the first noise) until it fires;
        3. with real images, those that fire on one may start from it after a quarter of the steps."""
        from ...model.backend import tf

        items = self.items
        self.best = np.zeros(self.count, np.int64)
        self.fires = np.zeros(self.count, bool)  # per item: its map (or node) fires on a real image
        if images is not None:
            self.best, self.fires = image_starts(self.model, self.layer, images, items.maps)
            self.silent = sorted({int(items.maps[i]) for i in range(self.count) if not self.fires[i]})
        if self.engine.has_pre:
            for position in np.flatnonzero(self.dead):
                self.starts[position] = self._noise(position)
        self.live = np.flatnonzero(~self.dead | self.engine.has_pre | (images is not None))
        self.node_checked = items.nodes[:, 0] < 0  # a node item's own best image is found when needed
        self.rescuing = self.dead[self.live].copy()  # per live item: on its pre-activation / waiting for an image
        self.fired = np.zeros(self.live.size, np.int32)
        self.switch_at = max(10, self.settings.steps // 4)
        self.maps_t = tf.constant(items.maps[self.live])
        self.masks_t = tf.constant(self.masks[self.live])
        self.x = tf.constant(self.starts[self.live]) if self.live.size else None
        self.kernel = self.engine.kernel(self.settings.blur_sigma)
        self.blur_due = False  # a stretch stopped on a blur step for a real image: blur after it goes in

    # ------------------------------------------------------------------ the ascent
    def objectives(self, values: np.ndarray | None) -> np.ndarray:
        """Objectives of the live items → one per item (0 for the dead)."""
        full = np.zeros(self.count, np.float32)
        if values is not None and self.live.size:
            full[self.live] = values
        return full

    def ascend(self, until: int) -> list[np.ndarray]:
        """Compiled steps up to step ``until`` (fewer when an item waits for a real image);
        the objectives of each step, one row per step."""
        if self.x is None:  # nothing alive: the steps pass with nothing to grow
            rows = [self.objectives(None) for _ in range(until - self.step)]
            self.step = until
            self.history.extend(rows)
            return rows
        settings = self.settings
        stretch = self.engine.ascend(
            self.x, self.maps_t, self.masks_t, self.rescuing, self.fired, self.fires[self.live],
            epsilon=settings.step_size, first=self.step, count=until - self.step, switch_at=self.switch_at,
            blur_every=settings.blur_every, kernel=self.kernel)
        self.x, self.rescuing, self.fired = stretch.x, stretch.rescuing, stretch.fired
        self.blur_due = stretch.blur_due
        for position in np.flatnonzero(stretch.revived):
            self.revival[self.live[position]] = "pre-activation"
        rows = [self.objectives(row) for row in stretch.rows]
        self.history.extend(rows)
        self.step += stretch.done
        return rows

    def restart_late(self, images: np.ndarray | None) -> None:
        """3. Items still rescuing past a quarter of the steps start from their best real image."""
        if self.x is None or images is None:
            return
        live, nodes = self.live, self.items.nodes
        late = self.rescuing & self.fires[live] & (self.step >= self.switch_at)
        unknown = late & ~self.node_checked[live]
        if unknown.any():  # a node's own best image: one pass over the images, only now
            chosen = live[unknown]
            self.best[chosen], self.fires[chosen] = node_starts(self.model, self.layer, images,
                                                                self.items.maps[chosen], nodes[chosen])
            self.node_checked[chosen] = True
            late &= self.fires[live]
        if late.any():
            from ...model.backend import tf

            moved = self.x.numpy()
            restarted = np.flatnonzero(late)
            for position in restarted:
                item, index = int(live[position]), int(self.best[live[position]])
                moved[position] = standardized_image(self.model, images, index)
                self.revival[item] = "data"
                self.start_index[item] = index
                self.start_pixels[item] = self.model.prepare(np.asarray(images[index]))[0]
            self.start_objective[live[restarted]] = self.engine.probe(
                tf.constant(moved[restarted]), tf.constant(self.items.maps[live[restarted]]),
                tf.constant(self.masks[live[restarted]]))[0]
            self.rescuing = self.rescuing & ~late
            self.x = tf.constant(moved)
        if self.blur_due:  # the blur of the step that stopped the stretch, after the new starts
            self.x = self.engine.blur(self.x, self.kernel)
            self.blur_due = False

    def pixels(self) -> np.ndarray:
        """Every item's image now, in the pixel range (a copy to the host)."""
        images = self.starts.copy()
        if self.x is not None:
            images[self.live] = self.x.numpy()
        return np.clip(self.model.unstandardize(images), 0.0, 1.0).astype(np.float32)

    # ------------------------------------------------------------------ the end
    def finish(self, frames: np.ndarray, frame_steps: list[int], cancelled: bool) -> OIPResult:
        """What never fired has no pattern; the final objectives; the result."""
        final = None
        if self.x is not None:
            final = self.engine.probe(self.x, self.maps_t, self.masks_t)[0]
            if self.engine.has_pre:
                self.rescuing = self.rescuing | (final == 0)
            self.dead[self.live] = self.rescuing
            final = np.where(self.rescuing, 0.0, final)
        for position in np.flatnonzero(self.dead):
            self.revival[position] = "dead"
        self.history.append(self.objectives(final))
        items, maps, nodes = self.items, self.items.maps, self.items.nodes
        start_correlation = np.full(self.count, np.nan, np.float32)
        for item, start in self.start_pixels.items():
            start_correlation[item] = pixel_correlation(frames[-1][item], start)
        same_node = bool((nodes[:, 0] >= 0).all()) and bool((nodes == nodes[0]).all())
        return OIPResult(
            layer=self.layer, maps=maps.copy(), images=frames[-1].copy(), frames=frames, frame_steps=frame_steps,
            history=np.stack(self.history), node=(int(nodes[0, 0]), int(nodes[0, 1])) if same_node else None,
            nodes=nodes.copy(), seeds=np.asarray(items.seeds).copy(),
            wavelengths=np.asarray(items.wavelengths, np.float64).copy(), revival=self.revival,
            rescued=sorted({int(maps[p]) for p in range(self.count) if self.revival[p] not in ("", "dead")}),
            dead=sorted({int(maps[p]) for p in np.flatnonzero(self.dead)}), silent=self.silent,
            cancelled=cancelled, settings=self.settings, start_index=self.start_index.copy(),
            start_objective=self.start_objective.copy(), start_correlation=start_correlation,
            fields=field_boxes(self.model.layer(self.layer), nodes))
