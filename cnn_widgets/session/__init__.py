"""The session under every widget: model, live model, data, one worker, one status line.

:class:`Session` (:mod:`.session`) is what the views share; :class:`LiveModel`
(:mod:`.live`) follows the image in front of the network; :mod:`.worker` holds the
concurrency tools (the job worker, latest-wins, the pause gate). Nothing here
imports ipywidgets.
"""

from .live import LiveModel
from .session import Session
from .worker import Cancelled, Job, LatestWins, PauseGate, Worker

__all__ = ["Cancelled", "Job", "LatestWins", "LiveModel", "PauseGate", "Session", "Worker"]
