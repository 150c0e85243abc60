"""A new user's first run: no network, no data file — everything works and nothing is printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # a subprocess

_FIRST_RUN = r"""
import json, socket, sys

import numpy as np

def refuse(*args, **kwargs):
    raise OSError("the network is blocked in this test")

socket.socket.connect = refuse          # any connection attempt fails at once (and is recorded)
attempts = []
_create = socket.create_connection
def create(*args, **kwargs):
    attempts.append(args)
    refuse()
socket.create_connection = create

from cnn_widgets import Explorer
from cnn_widgets.methods.decode import response_error

explorer = Explorer()
session = explorer.session
pad, fcp, filters = explorer.pad, explorer.fcp, explorer.filters
result = {"sample offered": not pad.sample_button.disabled}
pad.load_sample(4)
assert pad.wait(30)  # computed on the live model's runner
result["predicted after a sample 4"] = explorer.probabilities.prediction
shown = session.live.image                                          # a random test "4", as it is
test = session.data.test_set
result["sample is a test 4"] = any(bool(np.allclose(test.images[i] / 255.0, shown, atol=1e-6))
                                   for i in test.of_class(4))
best = int(session.model.predict(shown[None]).argmax())
result["the model says"] = session.model.class_names[best]         # a real mistake is shown as one
explorer.tabs.selected_index = explorer.tabs.children.index(fcp)    # the FCP tab: 4 vs 9
assert session.worker.wait(120)
result["fcp counts"] = [fcp.comparison.a.count, fcp.comparison.b.count]
filters.map_index = 3                                              # top images of a decoded filter
assert session.worker.wait(120)
result["top images"] = len(filters.top_network)
data = session.data.test_set
error = response_error(session.model, "conv2", data.images[:500])
result["decoding error table"] = bool(error.mean > 0)
result["source"] = data.source
result["status"] = session.status
result["attempts"] = len(attempts)
session.close()
with open(sys.argv[1], "w") as out:
    json.dump(result, out)
"""


def test_first_run_offline_without_a_data_file(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNN_WIDGETS_", "TF_CPP", "KERAS"))}
    env.update(HOME=str(tmp_path), KERAS_HOME=str(tmp_path / "keras"))
    script = tmp_path / "first_run.py"
    script.write_text(_FIRST_RUN)
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "result.json")], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout == "" and out.stderr == "", "nothing is printed: " + (out.stdout + out.stderr)[:2000]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["sample offered"] and result["sample is a test 4"]
    assert result["predicted after a sample 4"] == result["the model says"]
    assert result["fcp counts"] == [982, 1009]  # every 4 and every 9 of the MNIST test split
    assert result["top images"] == 8 and result["decoding error table"]
    assert "shipped with cnn_widgets" in result["source"] and result["attempts"] == 0
    assert "failed" not in result["status"]
    assert not (tmp_path / "keras" / "datasets").exists(), "nothing was downloaded"
