"""Widget tests record the messages each widget would send to the frontend."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterator

import comm
import pytest
from comm.base_comm import BaseComm


@dataclass
class Message:
    comm_id: str
    msg_type: str
    data: dict
    buffers: list[bytes] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Bytes on the wire, about: the JSON plus the binary buffers."""
        return len(json.dumps(self.data, default=str)) + sum(len(b) for b in self.buffers)


class Wire(list):
    """Every message sent, in order."""

    def updates_to(self, widget) -> list[Message]:
        return [m for m in self if m.comm_id == widget.model_id and m.data.get("method") == "update"]

    def mark(self) -> int:
        return len(self)

    def since(self, mark: int) -> list[Message]:
        return self[mark:]


@pytest.fixture
def wire(monkeypatch) -> Iterator[Wire]:
    log = Wire()

    class RecordingComm(BaseComm):
        def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
            log.append(Message(self.comm_id, msg_type, data or {}, [bytes(b) for b in buffers or []]))

    monkeypatch.setattr(comm, "create_comm", lambda *args, **kwargs: RecordingComm(*args, **kwargs))
    # ipycanvas draws through one manager widget made at import: record its messages too.
    from ipycanvas.canvas import _CANVAS_MANAGER

    original = _CANVAS_MANAGER.comm
    _CANVAS_MANAGER.comm = RecordingComm(comm_id=original.comm_id, primary=False)
    yield log
    _CANVAS_MANAGER.comm = original


@pytest.fixture(scope="session")
def mnist_model():
    from cnn_widgets import CNNModel

    return CNNModel.default()
