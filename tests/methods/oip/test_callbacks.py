"""Callbacks: their order, ``on_end`` in every case, and copies of the images only for frames
and previews (never per step). No clock of the wall: the throttles get a clock of their own."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from cnn_widgets.methods.oip import OIPCallback, ProgressBar, ReportProgress, ThrottledPreview, optimize


class Recorder(OIPCallback):
    def __init__(self, cancel_at: int | None = None, cancel: threading.Event | None = None,
                 fail_at: int | None = None) -> None:
        self.seen: list[tuple] = []
        self.cancel_at, self.cancel, self.fail_at = cancel_at, cancel, fail_at

    def on_begin(self, maps, steps):
        self.seen.append(("begin", list(maps), steps))

    def on_step(self, step, objectives):
        self.seen.append(("step", step, objectives.shape))
        if step == self.cancel_at:
            self.cancel.set()
        if step == self.fail_at:
            raise RuntimeError("the listener broke")

    def on_end(self, result):
        self.seen.append(("end", None if result is None else result.cancelled))

    def steps(self) -> list[int]:
        return [entry[1] for entry in self.seen if entry[0] == "step"]


class Clock:
    """Seconds that move only when told (``tick`` per reading)."""

    def __init__(self, tick: float = 0.0) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def _count_copies(model, monkeypatch) -> list[int]:
    """Count the copies of the images to the host (each goes back to the pixel scale once)."""
    copies = [0]
    original = model.unstandardize

    def counted(batch):
        copies[0] += 1
        return original(batch)

    monkeypatch.setattr(model, "unstandardize", counted)
    return copies


def test_callbacks_hear_begin_every_step_and_end_in_order(tiny):
    recorder = Recorder()
    result = optimize(tiny, "conv", [0, 1], steps=12, frame_every=5, callbacks=[recorder])
    assert recorder.seen[0] == ("begin", [0, 1], 12) and recorder.seen[-1] == ("end", False)
    assert recorder.steps() == list(range(1, 13)) and recorder.seen[1][2] == (2,)
    assert not result.cancelled and result.frame_steps == [0, 5, 10, 12]


def test_a_cancel_stops_at_the_end_of_the_stretch_and_keeps_what_grew(tiny):
    cancel = threading.Event()
    recorder = Recorder(cancel_at=3, cancel=cancel)
    result = optimize(tiny, "conv", [0, 1], steps=50, frame_every=5, callbacks=recorder, cancel=cancel)
    assert recorder.seen[-1] == ("end", True)
    assert recorder.steps() == [1, 2, 3, 4, 5]  # the stretch up to the next frame finishes
    assert result.cancelled and result.history.shape == (6, 2) and result.frame_steps == [0, 5]


def test_a_cancel_before_the_first_step_still_ends(tiny):
    cancel = threading.Event()
    cancel.set()
    recorder = Recorder()
    result = optimize(tiny, "conv", [2], steps=20, callbacks=recorder, cancel=cancel)
    assert recorder.seen == [("begin", [2], 20), ("end", True)]
    assert result.cancelled and result.frame_steps == [0] and result.history.shape == (1, 1)


def test_on_end_is_told_after_an_error_and_the_error_goes_on(tiny):
    broken, other = Recorder(fail_at=2), Recorder()
    with pytest.raises(RuntimeError, match="the listener broke"):
        optimize(tiny, "conv", [0], steps=10, callbacks=[broken, other])
    assert broken.seen[-1] == ("end", None) and other.seen[-1] == ("end", None)
    assert other.steps() == [1]  # the second listener heard step 1; step 2 broke in the first


def test_progress_alone_copies_the_images_only_for_the_frames(tiny, monkeypatch):
    copies = _count_copies(tiny, monkeypatch)
    told = []
    result = optimize(tiny, "conv", steps=40, frame_every=20,
                      callbacks=ReportProgress(lambda fraction, message: told.append((fraction, message)),
                                               clock=Clock(tick=1.0)))
    assert result.frame_steps == [0, 20, 40]
    assert copies[0] == 3  # the three frames; none for the 40 steps
    assert len(told) == 40 and told[0] == (1 / 40, "step 1 of 40") and told[-1] == (1.0, "step 40 of 40")


def test_a_throttled_preview_copies_at_most_once_a_stretch_and_only_when_due(tiny, monkeypatch):
    copies = _count_copies(tiny, monkeypatch)
    drawn: list[tuple[int, tuple]] = []
    eager = ThrottledPreview(lambda step, images: drawn.append((step, images.shape)), clock=Clock(tick=1.0))
    optimize(tiny, "conv", steps=40, frame_every=20, callbacks=eager)
    # stretches of at most 10 steps: previews after steps 10, 20, 30, 40; frames at 0, 20, 40
    assert [step for step, _ in drawn] == [10, 20, 30, 40] and drawn[0][1] == (4, 12, 12, 1)
    assert copies[0] == 5 and eager.drawn == 4  # frames 0, 20, 40 plus previews 10, 30 (20 and 40 share)
    copies[0], drawn[:] = 0, []
    frozen = ThrottledPreview(lambda step, images: drawn.append((step, images.shape)), clock=Clock(tick=0.0))
    optimize(tiny, "conv", steps=40, frame_every=20, callbacks=frozen)
    assert [step for step, _ in drawn] == [10]  # the first stretch is shown; then no time passes
    assert copies[0] == 4


def test_a_slow_drawing_is_asked_for_less_often(tiny):
    def run(share: float) -> list[int]:
        clock = Clock(tick=1.0)  # a second a reading; the drawing takes 5 more
        drawn: list[int] = []

        def draw(step, images):
            drawn.append(step)
            clock.now += 5.0

        optimize(tiny, "conv", [0], steps=40, frame_every=20, callbacks=ThrottledPreview(draw, share=share,
                                                                                          clock=clock))
        return drawn

    assert run(share=1.0) == [10, 20, 30, 40]  # no limit but 10 a second
    assert run(share=0.5) == [10]  # it took 6 s: the next one after 6 s more, past the run's end


def test_previews_are_in_the_pixel_range_and_at_most_per_second(tiny):
    clock = Clock(tick=0.04)  # each reading 40 ms later: a preview is due every third reading or so
    seen: list[np.ndarray] = []
    preview = ThrottledPreview(lambda step, images: seen.append(images), per_second=10, clock=clock)
    optimize(tiny, "conv", steps=100, frame_every=1, callbacks=preview)
    assert 0 < len(seen) < 100 and all(0 <= images.min() and images.max() <= 1 for images in seen)
    assert preview.drawn == len(seen)


def test_the_progress_bar_prints_the_objective(tiny, capsys):
    optimize(tiny, "conv", [1], steps=6, callbacks=ProgressBar())
    out = capsys.readouterr().out
    assert "6/6" in out and "objective" in out


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: ThrottledPreview(5), TypeError, "draw must be a function of"),
        (lambda: ThrottledPreview(print, per_second=0), ValueError, "per_second must be a finite number > 0"),
        (lambda: ReportProgress(print, per_second=float("nan")), ValueError, "per_second must be a finite number"),
        (lambda: ReportProgress(None), TypeError, "report must be a function of"),
        (lambda: ThrottledPreview(print, clock=3), TypeError, "clock must be a function"),
        (lambda: ThrottledPreview(print, share=0), ValueError, "share must be a finite number > 0 and ≤ 1"),
        (lambda: ThrottledPreview(print, share=1.5), ValueError, "share must be a finite number > 0 and ≤ 1"),
    ],
)
def test_bad_callback_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_the_base_callback_does_nothing_and_wants_no_preview(tiny):
    quiet = OIPCallback()
    result = optimize(tiny, "conv", [0], steps=3, callbacks=[quiet, quiet])
    assert quiet.wants_preview(1) is False and result.history.shape == (4, 1)
