"""SaliencyView: "4 rather than 9" on the drawing — the pixels that push B towards A."""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from ...render import image_png, rgb_png  # re-exported: cell_inspector and confusion_browser import them here
from ...methods.saliency import Saliency, overlay, saliency
from ...session import Job

from ..picture import Picture, size, style
from ..controls import Picker, keep_in_step
from ..view import SessionView, StatusLine

__all__ = ["SaliencyView", "image_png", "rgb_png"]

_A, _B = "#e6550d", "#3182bd"


class SaliencyView(SessionView, widgets.VBox):
    """Where the drawing reads as class A rather than class B, overlaid on the image.

    Beside the drawing, first occlusion (red: blanking this ink lowers A against B) —
    the convincing picture — then SmoothGrad of ``logit A − logit B`` (red: ink here
    makes it more an A than a B; blue: more a B), its noise stated in its caption.
    ``pictures`` stay ``[drawing, gradient, occlusion]``; only their order on screen
    puts occlusion second. Computed on the session's worker while you draw, at most
    one computation at a time and then the newest drawing: one frame behind.

    Args:
        session: The :class:`~cnn_widgets.session.session.Session` (its drawing), or a model.
        classes: ``(A, B)``; default 4 and 9 (0 and 1 for fewer than ten classes).
        samples: Noisy copies for SmoothGrad.
        noise: Their spread in pixel units.
        occlusion: Also compute the occlusion map.
        lazy: Compute nothing until ``active`` is set (e.g. when a
            dashboard tab shows the widget).

    Attributes:
        result: The :class:`~cnn_widgets.methods.saliency.Saliency` shown, or None.
        computed: Maps computed so far.
    """

    class_a = traitlets.Int(4, help="the class pushed towards")
    class_b = traitlets.Int(9, help="the class pushed away from")
    samples = traitlets.Int(16, help="noisy copies for SmoothGrad")
    noise = traitlets.Float(0.15, help="spread of the SmoothGrad noise, in pixel units")
    occlusion = traitlets.Bool(True, help="also compute the occlusion map")
    active = traitlets.Bool(True, help="recompute while the drawing changes")
    result = traitlets.Instance(Saliency, allow_none=True, help="the maps shown, or None")
    status = traitlets.Unicode("", help="the last message, plain text")

    def __init__(self, session: Any = None, *, classes: tuple[int, int] | None = None, samples: int = 16,
                 noise: float = 0.15, occlusion: bool = True, lazy: bool = False, **kwargs: Any) -> None:
        self._attach(session)
        self.model, self.live = self.session.model, self.session.live
        self._lock = threading.Lock()
        self._running = False
        self._dirty = False
        self._running_request: tuple[Any, ...] | None = None
        self._done_request: tuple[Any, ...] | None = None
        self._job: Job | None = None
        self.following: Any = None  # the FCPCompare whose pair it takes (see follow)
        self.computed = 0
        if classes is None:
            classes = (4, 9) if self.model.classes >= 10 else (0, 1)
        names = [(f"{i} ({n})" if n != str(i) else n, i) for i, n in enumerate(self.model.class_names)]
        self.a_picker = Picker(options=names, description="A", layout=size("140px"))
        self.b_picker = Picker(options=names, description="rather than B", layout=size("200px"),
                               style={"description_width": "90px"})
        self.noise_slider = widgets.FloatSlider(noise, min=0.0, max=0.5, step=0.05, description="noise",
                                                layout=size("220px"))
        self.occlusion_box = widgets.Checkbox(occlusion, description="occlusion", indent=False, layout=size("100px"))
        for widget, css in ((self.a_picker, "cnnw-saliency-a"), (self.b_picker, "cnnw-saliency-b")):
            widget.add_class(css)
        self.pictures = [Picture(f"cnnw-saliency-{name}") for name in ("image", "gradient", "occlusion")]
        self.captions = [widgets.HTML(layout=size("176px")) for _ in range(3)]  # as wide as the pictures
        self.reading = widgets.HTML()
        self.reading.add_class("cnnw-saliency-reading")
        self.status_line = StatusLine("cnnw-saliency-status")
        super().__init__([
            style(), widgets.HTML("<b>A rather than B</b> — the pixels that push the prediction from B towards A"),
            widgets.HBox([self.a_picker, self.b_picker, self.noise_slider, self.occlusion_box]),
            self.status_line, self.reading,
            # occlusion leads (beside the drawing), SmoothGrad second
            widgets.HBox([widgets.VBox([self.captions[i], self.pictures[i]]) for i in (0, 2, 1)]),
        ], **kwargs)
        self.add_class("cnnw-saliency-view")
        if lazy:
            self.active = False
            self._say("computed when this tab is opened")
        with self.hold_trait_notifications():
            self.class_a, self.class_b = classes
            self.samples, self.noise, self.occlusion = samples, noise, occlusion
        keep_in_step(self, "class_a", self.a_picker)
        keep_in_step(self, "class_b", self.b_picker)
        traitlets.link((self, "noise"), (self.noise_slider, "value"))
        traitlets.link((self, "occlusion"), (self.occlusion_box, "value"))
        self._watch(self.live, self._drawing_changed, "image")
        self.refresh()

    # ------------------------------------------------------------------ settings
    def _valid_class(self, proposal: dict[str, Any]) -> int:
        value = proposal["value"]
        if not 0 <= value < self.model.classes:
            raise traitlets.TraitError(f"a class is 0–{self.model.classes - 1}; got {value}")
        return value

    @traitlets.validate("class_a")
    def _valid_a(self, proposal: dict[str, Any]) -> int:
        return self._valid_class(proposal)

    @traitlets.validate("class_b")
    def _valid_b(self, proposal: dict[str, Any]) -> int:
        return self._valid_class(proposal)

    @traitlets.validate("samples")
    def _valid_samples(self, proposal: dict[str, Any]) -> int:
        if not 1 <= proposal["value"] <= 256:
            raise traitlets.TraitError(f"samples must be 1–256; got {proposal['value']}")
        return proposal["value"]

    @traitlets.validate("noise")
    def _valid_noise(self, proposal: dict[str, Any]) -> float:
        if not 0.0 <= proposal["value"] <= 1.0:  # NaN fails too
            raise traitlets.TraitError(f"noise must be in 0–1 (pixel units); got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("class_a", "class_b", "samples", "noise", "occlusion")
    def _settings_changed(self, change: dict[str, Any]) -> None:
        self.refresh()

    def follow(self, fcp: Any) -> None:
        """Take classes A and B from an :class:`~cnn_widgets.widgets.FCPCompare` (its pair is the default)."""

        def copy(change: dict[str, Any]) -> None:
            with self.hold_trait_notifications():
                self.class_a, self.class_b = fcp.class_a, fcp.class_b

        copy({})
        self._watch(fcp, copy, ["class_a", "class_b"])
        self.following = fcp

    # ------------------------------------------------------------------ computing
    @traitlets.observe("active")
    def _following(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.refresh()

    def _drawing_changed(self, change: dict[str, Any]) -> None:
        if self.active:
            self.refresh()

    def _request(self) -> tuple[Any, ...]:
        return (self.live.image, self.class_a, self.class_b, self.samples, self.noise, self.occlusion,
                self.model.version)

    @staticmethod
    def _same(first: tuple[Any, ...] | None, second: tuple[Any, ...]) -> bool:
        return first is not None and first[0] is second[0] and first[1:] == second[1:]

    def refresh(self, force: bool = False) -> Job | None:
        """Compute the maps for the current drawing and classes on the worker.

        While one computation runs, newer requests wait as one: when it ends, the
        newest drawing and settings are computed (latest wins, one frame behind).
        Nothing is computed when drawing and settings are those of the maps shown,
        unless ``force``.
        """
        if self.closed or not self.active:
            return None
        if self.class_a == self.class_b:
            self._say(f"class A and class B are both {self.class_a}: pick two different classes", error=True)
            return None
        request = self._request()
        with self._lock:
            if self._running and self._job is not None and self._job.finished and self._job.state == "cancelled":
                self._running = False  # cancelled from outside (e.g. worker.cancel()): no answer will come
            if self._running:
                self._dirty = True  # computed when the running one ends, if still different
                return None
            if not force and self._same(self._done_request, request):
                return None
            self._running, self._dirty, self._running_request = True, False, request
        image, a, b, samples, noise, occlusion, _ = request
        name = f"{self.model.class_names[a]} rather than {self.model.class_names[b]}"

        def work(job: Job) -> tuple[np.ndarray, Saliency]:
            picture = self.model.prepare(image)[0]
            return picture, saliency(self.model, picture, a, b, samples=samples, noise=noise, occlusion=occlusion)

        try:
            self._job = self.session.worker.submit(work, name=name, key=("saliency", id(self)), quiet=True,
                                                   on_done=self._computed, on_error=self._failed)
            return self._job
        except RuntimeError as error:  # the session is closed
            self._running = False
            self._say(str(error), error=True)
            return None

    def _finished(self, delivered: bool) -> None:
        with self._lock:
            self._running = False
            if delivered:
                self._done_request = self._running_request
            again = self._dirty and not self._same(self._running_request, self._request())
        if again and not self.closed:
            self.refresh()

    def _computed(self, done: tuple[np.ndarray, Saliency]) -> None:
        try:
            if not self.closed:
                image, result = done
                self.computed += 1
                self.result = result
                self._draw(image, result)
                if self.status:
                    self._say("")
        finally:
            self._finished(True)

    def _failed(self, error: BaseException) -> None:
        try:
            if not self.closed:
                self._say(f"cannot compute A rather than B: {error}", error=True)
        finally:
            self._finished(False)

    # ------------------------------------------------------------------ drawing
    def _draw(self, image: np.ndarray, result: Saliency) -> None:
        """Show ``result`` over ``image`` (the drawing it was computed for, ``(H, W, C)``)."""
        names = [html.escape(self.model.class_names[c]) for c in (result.class_a, result.class_b)]
        a, b = names
        zoom = max(1, 168 // image.shape[1])
        shape = (image.shape[1], image.shape[0])
        grey = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image

        with self.hold_sync():
            self.pictures[0].show(image_png(grey), shape, zoom)
            self.pictures[1].show(rgb_png(overlay(grey, result.pixels)), shape, zoom)
            self.captions[0].value = "<small>the drawing</small>"
            smooth = (f"SmoothGrad: mean gradient of {result.samples} noisy copies (noise σ {result.noise:g} in "
                      f"pixel units)" if result.samples > 1 else "plain gradient (no noise)")
            self.captions[1].value = (f"<small>{smooth}: <b style='color:{_A}'>red</b> more {a}, "
                                      f"<b style='color:{_B}'>blue</b> more {b}</small>")
            if result.occlusion is not None:
                self.pictures[2].layout.display = None
                self.pictures[2].show(rgb_png(overlay(grey, result.occlusion)), shape, zoom)
                self.captions[2].value = (f"<small>occlusion ({result.patch}×{result.patch}): "
                                          f"<b style='color:{_A}'>red</b> ink that makes it {a} not {b}</small>")
            else:
                self.pictures[2].layout.display = "none"
                self.captions[2].value = "<small>occlusion off: tick it for the clearer picture</small>"
            leaning = a if result.difference > 0 else b
            self.reading.value = (f"logit {a} − logit {b} = <b>{result.difference:+.2f}</b>: "
                                  f"the network reads it as more <b>{leaning}</b> than "
                                  f"{b if leaning == a else a}")

    def _closing(self) -> None:
        self.session.worker.cancel(("saliency", id(self)))
