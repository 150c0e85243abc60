"""The memory budget of batched OIP calls (issue 21): estimated before the run, refused above the limit
with the estimate, the limit and how many images fit."""

from __future__ import annotations

import pytest

from cnn_widgets import CNNModel
from cnn_widgets.methods.oip import OIPSettings, node_sweep, optimize, series
from cnn_widgets.methods.oip.budget import (BUDGET_ENV, MemoryBudgetError, budget_bytes, estimate_bytes,
                                            set_budget)


@pytest.fixture
def budget():
    """Restore the default budget after the test."""
    yield set_budget
    set_budget(None)


@pytest.fixture(scope="module")
def embedded() -> CNNModel:
    return CNNModel.default()


def test_the_estimate_for_the_embedded_cnn_is_near_the_measured_half_megabyte_per_image(embedded):
    per_image = estimate_bytes(embedded, "conv3", 1, OIPSettings())
    assert 0.4 * 2 ** 20 <= per_image <= 0.6 * 2 ** 20  # measured 0.40 MB (benchmark note in budget.py)
    assert estimate_bytes(embedded, "conv1", 1, OIPSettings()) < per_image  # fewer layers below


def test_a_million_seeds_are_refused_before_any_work_with_figure_and_limit(embedded):
    with pytest.raises(MemoryBudgetError, match=r"grows 8,000,000 images at once on 'conv3': about [\d.]+ GB of "
                                                r"memory, over the limit of 1.0 GB .* at most [\d,]+ images fit"):
        series(embedded, "conv3", 3, seeds=10 ** 6)
    with pytest.raises(MemoryBudgetError, match="grows 8,000,000,000 images"):  # no list of 10⁹ seeds is made
        series(embedded, "conv3", 3, seeds=10 ** 9)
    with pytest.raises(ValueError, match="over the limit"):  # a ValueError, as every refusal of a setting
        series(embedded, "conv3", 3, seeds=2000)


def test_positions_and_maps_are_counted_too(tiny, budget):
    optimize(tiny, "conv", None, steps=2)  # accepted at the default budget
    budget(0.01)  # 10 kB: one image of the tiny model fits, four do not
    with pytest.raises(MemoryBudgetError, match=r"grows 4 images at once on 'conv'.*limit of 10 kB.* at most 1 "):
        optimize(tiny, "conv", None, steps=2)
    with pytest.raises(MemoryBudgetError, match="grows 100 images at once on 'conv'"):
        node_sweep(tiny, "conv", 1, steps=2)
    budget(None)
    sweep = node_sweep(tiny, "conv", 1, positions=[(0, 0), (3, 4)], steps=2)  # accepted again
    assert sweep.result.images.shape[0] == 2


@pytest.mark.parametrize("value, outcome", [(512, 512 * 2 ** 20), ("abc", "must be a number of MB > 0"),
                                            ("-3", "must be a number of MB > 0")])
def test_the_budget_from_the_environment(monkeypatch, value, outcome):
    monkeypatch.setenv(BUDGET_ENV, str(value))
    if isinstance(outcome, int):
        assert budget_bytes() == outcome
    else:
        with pytest.raises(ValueError, match=outcome):
            budget_bytes()


@pytest.mark.parametrize("value", [0, -1, float("nan"), "1", True])
def test_set_budget_refuses_what_is_no_size(value):
    with pytest.raises(ValueError, match="the OIP memory budget must be a number of MB > 0"):
        set_budget(value)


def test_cli_series_with_a_million_seeds_exits_2_at_once_with_one_line(tmp_path, capsys):
    from cnn_widgets.delivery.cli import main

    out = tmp_path / "series.png"
    assert main(["oip", "--layer", "conv3", "--map", "3", "--series", "--seeds", "1000000", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cnn-widgets: error: this OIP run grows 8,000,000 images") and "\n" not in err
    assert "limit of 1.0 GB" in err and not out.exists()
