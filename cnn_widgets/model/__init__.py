"""The model layer: the only door to TensorFlow (:mod:`.backend`).

:class:`CNNModel` wraps a Keras CNN (:mod:`.wrapper`): images in (:mod:`.inputs`),
every layer's activations out, saved and loaded (:mod:`.persistence`), trained in
place (:mod:`.fitting`), logit gradients (:mod:`.gradients`), the layer table with
receptive fields (:mod:`.layers`), and untrained CNNs to start from (:mod:`.zoo`).
Importing this package imports TensorFlow.
"""

from .fitting import TrainingProgress
from .layers import LayerInfo, format_table
from .wrapper import CNNModel
from .zoo import FASHION_CLASSES, fashion_cnn, mnist_cnn, reinitialize

__all__ = ["CNNModel", "FASHION_CLASSES", "LayerInfo", "TrainingProgress", "fashion_cnn", "format_table",
           "mnist_cnn", "reinitialize"]
