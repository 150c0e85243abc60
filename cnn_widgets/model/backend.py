"""The only door to TensorFlow and Keras: imported once, quietly.

Every module that needs TensorFlow takes ``tf`` and ``keras`` from here, so the C++
start-up lines are silenced once and the widgets never import TensorFlow themselves.
"""

from __future__ import annotations

import logging
import os
from typing import Any

__all__ = ["CONV_TYPES", "keras", "tf"]


def _import_tensorflow() -> tuple[Any, Any]:
    """Import TensorFlow and Keras without their C++ start-up lines on stderr.

    TensorFlow's native code logs oneDNN and CUDA notices straight to file
    descriptor 2 while it imports and while its first device initialises (before
    ``TF_CPP_MIN_LOG_LEVEL`` or absl logging can filter them). They would land in
    notebook outputs, on the dashboard and in ``serve``'s terminal, so descriptor 2
    points at /dev/null for those few seconds. Python errors are not affected:
    they are raised after it is restored. ``CNN_WIDGETS_DEBUG=1`` keeps them.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("CNN_WIDGETS_DEBUG"):
        import keras as keras_module
        import tensorflow as tf_module

        return keras_module, tf_module
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        import keras as keras_module
        import tensorflow as tf_module

        tf_module.constant(0.0)  # the first op initialises the devices (the CUDA probe logs here)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return keras_module, tf_module


keras, tf = _import_tensorflow()

#: The 2-D convolutions a CNNModel accepts.
CONV_TYPES = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D)


class _NoRetracingNotice(logging.Filter):
    """Drops TensorFlow's "N out of the last M calls … triggered tf.function retracing".

    A snapshot or a panel calls several compiled helpers of the model (each traced
    once, with a fixed signature); TensorFlow counts them together as if one function
    were retraced and prints that notice into notebooks. Nothing else is filtered.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


logging.getLogger("tensorflow").addFilter(_NoRetracingNotice())
