"""The live path: latest-wins scheduling and the model that follows an image."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from cnn_widgets import CNNModel
from cnn_widgets.session import LatestWins, LiveModel

from ..conftest import make_tiny_cnn


def test_latest_job_wins_and_at_most_one_waits():
    started = threading.Event()
    release = threading.Event()
    seen: list[int] = []

    def work(job: int) -> None:
        seen.append(job)
        started.set()
        release.wait(5)

    worker = LatestWins(work, rate=None)
    worker.submit(0)
    assert started.wait(5)
    for job in range(1, 100):  # the first job is still running: each replaces the last
        worker.submit(job)
        assert worker.pending
    release.set()
    assert worker.wait(5)
    assert seen == [0, 99]
    assert worker.dropped == 98 and worker.done == 2 and worker.submitted == 100


def test_rate_caps_job_starts():
    starts: list[float] = []
    worker = LatestWins(lambda job: starts.append(time.monotonic()), rate=20)
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        worker.submit(1)
        time.sleep(0.001)
    assert worker.wait(1)
    gaps = np.diff(starts)
    assert len(starts) <= 0.5 * 20 + 2
    assert gaps.min() >= 0.05 - 0.005


def test_failing_job_is_reported_and_the_worker_carries_on():
    errors: list[str] = []
    done: list[int] = []

    def work(job: int) -> None:
        if job == 1:
            raise ValueError("bad job")
        done.append(job)

    worker = LatestWins(work, rate=None, on_error=lambda error, text: errors.append(str(error)))
    worker.submit(1)
    worker.wait(5)
    worker.submit(2)
    worker.wait(5)
    assert errors == ["bad job"] and done == [2]


def test_closed_worker_refuses_jobs():
    worker = LatestWins(lambda job: None)
    worker.close()
    with pytest.raises(RuntimeError, match="closed"):
        worker.submit(1)


def test_live_model_gives_every_layer_from_one_image(rng):
    model = CNNModel(make_tiny_cnn())
    live = LiveModel(model)
    assert set(live.activations) == set(model.layer_names)  # the blank image, at start
    image = rng.random((8, 8)).astype(np.float32)
    changes = []
    live.observe(lambda change: changes.append(change["name"]), ["activations", "probabilities"])
    live.image = image
    expected = model.activations(image)
    for name, value in live.activations.items():
        np.testing.assert_allclose(value, expected[name][0], rtol=1e-5)
    np.testing.assert_allclose(live.probabilities, model.predict(image)[0], rtol=1e-5)
    assert sorted(changes) == ["activations", "probabilities"]


def test_live_model_reports_bad_images_and_keeps_the_last_good_one(rng):
    live = LiveModel(CNNModel(make_tiny_cnn()))
    live.image = rng.random((8, 8)).astype(np.float32)
    good = dict(live.activations)
    live.image = np.full((8, 8), np.nan, np.float32)
    assert "NaN" in live.error
    assert live.activations.keys() == good.keys()
    live.image = rng.random((8, 8)).astype(np.float32)
    assert live.error == ""
