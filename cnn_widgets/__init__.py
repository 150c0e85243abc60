"""cnn_widgets: Jupyter widgets that show what a small convolutional network sees.

The tree shows the layers, each using only those below it:

- :mod:`.model` — the only door to TensorFlow: :class:`CNNModel`, the layer table, the model zoo;
- :mod:`.data` — the shipped MNIST test split, full data sets, training data;
- :mod:`.drawing`, :mod:`.render` — ink and preprocessing; colour maps, mosaics, PNG/GIF;
- :mod:`.methods` — OIP, FCP, filter decoding, cells, saliency, confusion, shapes, matching;
- :mod:`.training` — snapshots while a network trains, and their replay;
- :mod:`.session` — the session under every widget: model, live model, data, worker, status;
- :mod:`.widgets` — the views (``live/`` follow the drawing, ``panels/`` are the dashboard's tabs);
- :mod:`.delivery` — the command line, the Voila server, the offline slides.

Importing the package is cheap: every name below loads its module when first used
(TensorFlow with the first model).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    # the model, its data, the session
    "CNNModel": "cnn_widgets.model", "mnist_cnn": "cnn_widgets.model", "fashion_cnn": "cnn_widgets.model",
    "load_mnist": "cnn_widgets.data", "load_fashion_mnist": "cnn_widgets.data",
    "mnist_test_split": "cnn_widgets.data", "training_data": "cnn_widgets.data",
    "Session": "cnn_widgets.session", "LiveModel": "cnn_widgets.session",
    "to_mnist": "cnn_widgets.drawing",
    # the methods
    "OIPSettings": "cnn_widgets.methods", "optimize": "cnn_widgets.methods", "series": "cnn_widgets.methods",
    "node_sweep": "cnn_widgets.methods",
    "consistency": "cnn_widgets.methods", "class_patterns": "cnn_widgets.methods",
    "compare_classes": "cnn_widgets.methods", "decode_filters": "cnn_widgets.methods",
    "response_error": "cnn_widgets.methods", "responses": "cnn_widgets.methods",
    "top_images": "cnn_widgets.methods", "decoded_top_images": "cnn_widgets.methods",
    "raw_kernels": "cnn_widgets.methods", "explain_cell": "cnn_widgets.methods", "saliency": "cnn_widgets.methods",
    "confusion_matrix": "cnn_widgets.methods", "filters_take_shape": "cnn_widgets.methods",
    "match_filters": "cnn_widgets.methods", "train_with_snapshots": "cnn_widgets.training",
    # the widgets
    "Explorer": "cnn_widgets.widgets", "DigitPad": "cnn_widgets.widgets", "MapGrid": "cnn_widgets.widgets",
    "DenseView": "cnn_widgets.widgets", "ProbabilityBars": "cnn_widgets.widgets",
    "ReceptiveField": "cnn_widgets.widgets", "OIPExplorer": "cnn_widgets.widgets",
    "FCPCompare": "cnn_widgets.widgets", "FilterGallery": "cnn_widgets.widgets",
    "CellInspector": "cnn_widgets.widgets", "ConfusionBrowser": "cnn_widgets.widgets",
    "SaliencyView": "cnn_widgets.widgets", "TrainingLab": "cnn_widgets.widgets",
    "TrainingHistory": "cnn_widgets.widgets", "FiltersTakeShape": "cnn_widgets.widgets",
    "DigitsSideBySide": "cnn_widgets.widgets", "ImageSource": "cnn_widgets.widgets",
}
__all__ = sorted(_LAZY)

if TYPE_CHECKING:  # pragma: no cover (the names of __all__, for type checkers)
    from .data import load_fashion_mnist, load_mnist, mnist_test_split, training_data
    from .drawing import to_mnist
    from .methods import (OIPSettings, class_patterns, compare_classes, confusion_matrix, consistency, decode_filters,
                          decoded_top_images, explain_cell, filters_take_shape, match_filters, node_sweep, optimize,
                          raw_kernels, response_error, responses, saliency, series, top_images)
    from .model import CNNModel, fashion_cnn, mnist_cnn
    from .session import LiveModel, Session
    from .training import train_with_snapshots
    from .widgets import (CellInspector, ConfusionBrowser, DenseView, DigitPad, DigitsSideBySide, Explorer,
                          FCPCompare, FilterGallery, FiltersTakeShape, ImageSource, MapGrid, OIPExplorer, ProbabilityBars, ReceptiveField,
                          SaliencyView, TrainingHistory, TrainingLab)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cnn_widgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
