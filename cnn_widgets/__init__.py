"""cnn_widgets: Jupyter widgets that show what a small convolutional network sees.

Importing the package is cheap: TensorFlow loads when a model is first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "CNNModel", "Session", "Explorer", "DigitPad", "MapGrid", "DenseView", "ProbabilityBars", "OIPExplorer",
    "FCPCompare", "FilterGallery", "ReceptiveField", "CellInspector", "ConfusionBrowser", "SaliencyView",
    "LiveModel", "to_mnist", "load_mnist", "load_fashion_mnist", "mnist_cnn",
    "TrainingLab", "FiltersTakeShape", "TrainingHistory", "fashion_cnn", "train_with_snapshots",
    "filters_take_shape", "match_filters",
]

_LAZY = {
    "CNNModel": "cnn_widgets.model.wrapper",
    "Session": "cnn_widgets.session.session",
    "Explorer": "cnn_widgets.widgets.explorer",
    "DigitPad": "cnn_widgets.widgets",
    "MapGrid": "cnn_widgets.widgets",
    "DenseView": "cnn_widgets.widgets",
    "ProbabilityBars": "cnn_widgets.widgets",
    "OIPExplorer": "cnn_widgets.widgets",
    "FCPCompare": "cnn_widgets.widgets",
    "FilterGallery": "cnn_widgets.widgets",
    "ReceptiveField": "cnn_widgets.widgets",
    "CellInspector": "cnn_widgets.widgets",
    "ConfusionBrowser": "cnn_widgets.widgets",
    "SaliencyView": "cnn_widgets.widgets",
    "LiveModel": "cnn_widgets.session.live",
    "to_mnist": "cnn_widgets.drawing.preprocess",
    "mnist_cnn": "cnn_widgets.model.wrapper",
    "load_mnist": "cnn_widgets.data.mnist",
    "load_fashion_mnist": "cnn_widgets.data.mnist",
    "TrainingLab": "cnn_widgets.widgets",
    "FiltersTakeShape": "cnn_widgets.widgets",
    "TrainingHistory": "cnn_widgets.widgets",
    "fashion_cnn": "cnn_widgets.training.snapshots",
    "train_with_snapshots": "cnn_widgets.training.snapshots",
    "filters_take_shape": "cnn_widgets.methods.shapes",
    "match_filters": "cnn_widgets.methods.matching",
}

if TYPE_CHECKING:  # pragma: no cover
    from .widgets.explorer import Explorer
    from .data.mnist import load_fashion_mnist, load_mnist
    from .session.live import LiveModel
    from .model.wrapper import CNNModel, mnist_cnn
    from .drawing.preprocess import to_mnist
    from .methods.matching import match_filters
    from .session.session import Session
    from .methods.shapes import filters_take_shape
    from .training.snapshots import fashion_cnn, train_with_snapshots
    from .widgets import (CellInspector, ConfusionBrowser, DenseView, DigitPad, FCPCompare, FilterGallery,
                          FiltersTakeShape, MapGrid, OIPExplorer, ProbabilityBars, ReceptiveField, SaliencyView,
                          TrainingHistory, TrainingLab)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cnn_widgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
