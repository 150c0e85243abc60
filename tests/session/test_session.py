"""The session: one worker for heavy jobs, one data provider, one status line, close()."""

from __future__ import annotations

import socket
import threading

import numpy as np
import pytest

from cnn_widgets.session import Cancelled, Session, Worker

from cnn_widgets.data import DataSet

from ..conftest import make_tiny_cnn


@pytest.fixture(scope="module")
def mnist_model():
    from cnn_widgets import CNNModel

    return CNNModel.default()


@pytest.fixture
def tiny():
    from cnn_widgets import CNNModel

    return CNNModel(make_tiny_cnn())


# ---------------------------------------------------------------------- worker
def test_jobs_run_in_order_on_one_long_lived_thread():
    worker, seen = Worker(), []
    jobs = [worker.submit(lambda job, i=i: seen.append((i, threading.current_thread().name)) or i, name=f"job {i}")
            for i in range(5)]
    assert worker.wait(30)
    assert [i for i, _ in seen] == list(range(5)) and len({name for _, name in seen}) == 1
    assert [job.result for job in jobs] == list(range(5)) and all(job.state == "done" for job in jobs)
    worker.close()
    assert not worker.alive


def test_a_newer_job_with_the_same_key_replaces_the_waiting_one_and_cancels_the_running_one():
    worker = Worker()
    started, release = threading.Event(), threading.Event()
    order = []

    def slow(job):
        started.set()
        release.wait(30)
        order.append("slow")
        job.report(0.5)  # raises: it was cancelled meanwhile
        order.append("slow finished")

    first = worker.submit(slow, name="first", key="fcp")
    assert started.wait(30)
    second = worker.submit(lambda job: order.append("second"), name="second", key="fcp")
    third = worker.submit(lambda job: order.append("third"), name="third", key="fcp")
    assert second.state == "cancelled" and second.finished  # replaced before it started
    release.set()
    assert worker.wait(30)
    assert order == ["slow", "third"]
    assert (first.state, third.state) == ("cancelled", "done")
    worker.close()


def test_a_failing_job_reports_and_the_worker_carries_on():
    changes = []
    worker = Worker(on_change=lambda job: changes.append((job.name, job.state)))
    errors = []
    bad = worker.submit(lambda job: 1 / 0, name="bad", on_error=errors.append)
    good = worker.submit(lambda job: "fine", name="good")
    assert worker.wait(30)
    assert bad.state == "failed" and isinstance(errors[0], ZeroDivisionError) and good.result == "fine"
    assert ("bad", "failed") in changes and changes[-1] == ("good", "done")
    worker.close()


def test_progress_and_cancel_between_steps():
    worker = Worker()
    steps, reports = [], []
    three, cancelled = threading.Event(), threading.Event()

    def long(job):
        for step in range(1000):
            job.report(step / 1000, f"step {step}")
            steps.append(step)
            if step == 2:
                three.set()
                cancelled.wait(30)

    job = worker.submit(long, name="long", on_progress=lambda j: reports.append(j.progress))
    assert three.wait(30)
    job.cancel()
    cancelled.set()
    assert job.wait(30) and job.state == "cancelled"
    assert steps == [0, 1, 2] and reports == [0.0, 0.001, 0.002] and job.message == "step 2"
    with pytest.raises(Cancelled):
        job.check()
    worker.close()


def test_bad_jobs_are_refused_at_submit():
    worker = Worker()
    for work, name, message in ((5, "x", "work must be a function"), (lambda job: None, 3, "name must be"),
                                (lambda job: None, " ", "name must be")):
        with pytest.raises(TypeError, match=message):
            worker.submit(work, name=name)
    with pytest.raises(TypeError, match="on_done must be a function"):
        worker.submit(lambda job: None, name="x", on_done="print")
    assert not worker.alive  # nothing was started


def test_close_ends_the_thread_and_refuses_new_work():
    worker = Worker()
    worker.submit(lambda job: None, name="one").wait(30)
    assert worker.alive
    worker.close()
    assert not worker.alive
    with pytest.raises(RuntimeError, match="closed"):
        worker.submit(lambda job: None, name="two")


# ---------------------------------------------------------------------- data
def test_the_embedded_model_gets_the_shipped_test_split_without_network(monkeypatch, mnist_model):
    def no_network(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.delenv("CNN_WIDGETS_MNIST", raising=False)
    session = Session(mnist_model)
    data = session.data.test_set
    assert isinstance(data, DataSet) and data.images.shape == (10_000, 28, 28) and data.images.dtype == np.uint8
    assert np.bincount(data.labels, minlength=10).min() > 800
    assert "CC BY-SA 3.0" in data.source and "LeCun" in data.source
    assert session.data.test_set is data  # tried once
    session.close()


#: SHA-256 of the bytes of x_test then y_test of Keras' mnist.npz (the real MNIST test split).
MNIST_TEST_SHA256 = "c3f9adf9c66efb572b1f9326c3a511b45910c7173b97be66ceceeeeaef6b802b"


def test_the_shipped_split_is_the_real_mnist_test_split():
    import hashlib

    from cnn_widgets.data.mnist import mnist_test_split
    from ..conftest import mnist_file

    x, y = mnist_test_split()
    assert x.shape == (10_000, 28, 28) and x.dtype == np.uint8 and y.dtype == np.uint8
    assert hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest() == MNIST_TEST_SHA256
    if mnist_file() is not None:  # and, where the real file is, byte for byte the same
        with np.load(mnist_file(), allow_pickle=False) as real:
            assert np.array_equal(real["x_test"], x) and np.array_equal(real["y_test"], y)


def test_other_models_get_data_only_when_given(tiny, rng):
    session = Session(tiny)
    assert session.data.test_set is None and "give the session data" in session.data.message
    images = rng.random((6, 8, 8, 1)).astype(np.float32)
    given = Session(tiny, data=(images, np.array([0, 1, 2, 0, 1, 2])))
    assert len(given.data.test_set) == 6 and list(given.data.test_set.of_class(2)) == [2, 5]


@pytest.mark.parametrize("data, message", [
    ((np.zeros((3, 8, 8)), np.array([0, 1])), "3 images but 2 labels"),
    ((np.zeros((2, 8, 8)), np.array([0, 7])), "labels must lie in 0..2"),
    ((np.zeros((2, 5, 5)), np.array([0, 1])), "8×8"),
    ((np.zeros((2, 8, 8)), np.array([0.5, 1.0])), r"labels\[0\] = 0.5 is not a whole number"),
    ("images", "must be \\(images, labels\\)"),
])
def test_bad_data_gives_one_clear_message(tiny, data, message):
    session = Session(tiny, data=data)
    assert session.data.test_set is None
    assert pytest.importorskip("re").search(message, session.data.message)


def test_a_bare_keras_model_gets_a_clear_error():
    with pytest.raises(TypeError, match="give a CNNModel"):
        Session(make_tiny_cnn())
    with pytest.raises(TypeError, match="needs a CNNModel"):
        Session(object())


# ---------------------------------------------------------------------- status, observers, close
def test_status_is_one_plain_line(tiny):
    session = Session(tiny)
    session.worker.submit(lambda job: 1 / 0, name="FCP <4> vs 9").wait(30)
    session.worker.wait(30)
    assert session.status_error and session.status.startswith("FCP <4> vs 9 failed: ZeroDivisionError")
    session.say("line one\nline two")
    assert session.status == "line one line two" and not session.status_error
    session.say(None)
    assert session.status == ""
    session.worker.submit(lambda job: None, name="a stroke's saliency", quiet=True).wait(30)
    session.worker.wait(30)
    assert session.status == ""  # a quiet job stays out of the status line ...
    session.worker.submit(lambda job: 1 / 0, name="a stroke's saliency", quiet=True).wait(30)
    session.worker.wait(30)
    assert session.status.startswith("a stroke's saliency failed")  # ... unless it fails


def test_close_detaches_every_observer_and_ends_the_worker(tiny):
    session = Session(tiny)
    calls = []
    session.watch(session.live, lambda change: calls.append(1), "activations", view="view")
    session.live.image = np.ones((8, 8), np.float32) * 0.5
    assert calls == [1]
    session.worker.submit(lambda job: None, name="warm").wait(30)
    session.close()
    session.live.image = np.zeros((8, 8), np.float32)
    assert calls == [1] and not session.worker.alive and session.closed
    with pytest.raises(ValueError, match="closed"):
        Session.of(session)


def test_retraining_makes_the_oip_follow_the_new_standardisation(rng):
    """Caches are keyed on the model version: an OIP after train() uses the new standardisation."""
    from cnn_widgets import CNNModel
    from cnn_widgets.methods.oip.run import optimize

    model = CNNModel(make_tiny_cnn(filters=3))
    first = optimize(model, "conv", steps=10, seed=0)
    assert first.images.min() >= 0 and first.images.max() <= 1
    version = model.version
    images = (rng.random((64, 8, 8)) * 0.3 + 0.2).astype(np.float32)
    model.train(images, rng.integers(0, 3, 64), epochs=1, standardize=True, shift=0)
    assert model.version > version and model.mean[0] == pytest.approx(images.mean(), abs=1e-4)
    again = optimize(model, "conv", steps=30, seed=0, step_size=0.5)
    # the whole pixel range is reachable again (with a stale engine it stayed near the old mean)
    assert again.images.min() < 0.1 and again.images.max() > 0.9
    assert np.allclose(model.activations(again.images, "conv")["conv"].mean(axis=(1, 2))[np.arange(3), np.arange(3)],
                       again.history[-1], atol=1e-4)


def test_bad_live_models_and_observers_are_refused(tiny):
    from cnn_widgets.session import LiveModel

    with pytest.raises(TypeError, match="live must be a LiveModel"):
        Session(tiny, live=5)
    from cnn_widgets import CNNModel

    other = LiveModel(CNNModel(make_tiny_cnn()))
    with pytest.raises(ValueError, match="LiveModel of another model"):
        Session(tiny, live=other)
    with Session(tiny) as session:
        with pytest.raises(TypeError, match="owner must have traits"):
            session.watch(5, lambda change: None)
        with pytest.raises(TypeError, match="handler must be a function"):
            session.watch(session.live, 5)
        session.watch(session.live, lambda change: None, "image")  # still usable


def test_a_worker_callback_and_a_class_label_of_the_wrong_kind_are_refused(tiny, rng):
    with pytest.raises(TypeError, match="on_change must be a function of a Job"):
        Worker(on_change=5)
    data = DataSet(rng.random((6, 8, 8)).astype(np.float32), np.array([0, 1, 2, 0, 1, 2]), "test")
    for label in ("4", 1.0, True):
        with pytest.raises(TypeError, match="label must be a class index"):
            data.of_class(label)
    assert data.of_class(2).tolist() == [2, 5]


def test_a_job_reporting_nan_progress_fails_with_a_clear_error():
    worker = Worker()
    try:
        job = worker.submit(lambda job: job.report(float("nan"), "half"), name="nan progress")
        job.wait()
        assert job.state == "failed" and "progress must be a number in [0, 1]" in str(job.error)
        good = worker.submit(lambda job: job.report(0.5) or 7, name="fine")
        good.wait()
        assert good.state == "done" and good.result == 7  # the worker goes on
    finally:
        worker.close()


def test_the_status_line_ends_on_done_not_working(tiny):
    """Issue 22: after a background job the status line stayed on '… working …'."""
    session = Session(tiny)
    lines = []
    session.observe(lambda change: lines.append(change["new"]), "status")
    session.worker.submit(lambda job: job.report(0.5), name="an atlas").wait(30)
    session.worker.wait(30)
    assert session.status == "an atlas: done" and not session.status_error
    assert lines[-1] == "an atlas: done" and any("…" in line for line in lines[:-1])  # working, then done


def test_a_job_whose_panel_shows_its_error_leaves_no_working_line(tiny):
    """A refused OIP atlas: its panel says why; the session's line must not stay on '… working …'."""
    session = Session(tiny)
    errors = []
    job = session.worker.submit(lambda job: job.report(0.5) or 1 / 0, name="an atlas", on_error=errors.append)
    job.wait(30)
    session.worker.wait(30)
    assert job.state == "failed" and isinstance(errors[0], ZeroDivisionError)
    assert session.status == "an atlas: not done (its panel says why)" and "…" not in session.status
    session.close()
