"""A user's Keras model made fit for one compiled call of all its layers.

Two things Keras accepts and TensorFlow's graph mode does not handle the way the
dashboard needs:

* **Layer names**: Keras takes any name without ``/`` (``"conv 1"``, ``"bloc:1"``,
  ``"Schicht ä"``), but inside a ``tf.function`` each layer opens a name scope, and
  TensorFlow refuses scopes outside ``[A-Za-z0-9_.>-]``. Such layers are renamed in
  place (``"conv 1"`` → ``"conv_1"``), and :func:`usable_graph` says which.
* **Nested models**: a ``Sequential`` or functional model used as a layer hides its
  convolutions (``keras_model.layers`` lists the sub-model, not them). The model is
  rebuilt flat: a copy of each layer (same configuration, same weights) called one
  by one on the outer tensors. The dashboard then works on that copy: training it
  leaves the user's own model object as it was. A sub-model of another kind (a subclassed ``keras.Model``) cannot be
  looked into, and is refused by name.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["usable_graph"]

_SCOPE = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.>-]*$")


def _safe(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.>-]", "_", name) or "layer"
    if not re.match(r"[A-Za-z0-9.]", base[0]):
        base = "L" + base
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}_{number}"
    return candidate


def _rename(keras_model: Any) -> dict[str, str]:
    """Rename the layers TensorFlow cannot use as a name scope; old → new name."""
    taken = {layer.name for layer in keras_model.layers}
    renamed = {}
    for layer in keras_model.layers:
        if not _SCOPE.match(layer.name):
            new = _safe(layer.name, taken)
            taken.add(new)
            renamed[layer.name] = new
            layer.name = new
    return renamed


def _graph_of(model: Any) -> Any:
    """The functional graph of a Sequential or functional model; None for other kinds."""
    from .backend import keras

    if isinstance(model, keras.Sequential):
        return getattr(model, "_functional", None)
    return model if hasattr(model, "_run_through_graph") and hasattr(model, "_nodes_by_depth") else None


def _nested(keras_model: Any) -> list[Any]:
    from .backend import keras

    return [layer for layer in keras_model.layers if isinstance(layer, keras.Model)]


def _flat(keras_model: Any) -> Any:
    """The same layers as one flat functional model (nested sub-models opened)."""
    from .backend import keras

    def opened(operation: Any) -> Any:
        if not isinstance(operation, keras.Model):
            return _copied(operation)
        graph = _graph_of(operation)
        if graph is None:
            raise ValueError(
                f"the sub-model {operation.name!r} ({type(operation).__name__}) is not a Sequential or functional "
                "model, so its layers cannot be looked into; build the model as one functional or Sequential "
                "model (see keras.Model(inputs, outputs))")

        def run(*args: Any, **kwargs: Any) -> Any:
            inputs = args[0] if args else kwargs.get("inputs")
            return graph._run_through_graph(inputs, operation_fn=opened)

        return run

    graph = _graph_of(keras_model)
    if graph is None:
        raise ValueError(f"the model {keras_model.name!r} ({type(keras_model).__name__}) is not a Sequential or "
                         "functional model; its layers cannot be looked into")
    source = keras_model.inputs[0]
    inputs = keras.Input(tuple(source.shape[1:]))
    outputs = graph._run_through_graph(inputs, operation_fn=opened)
    names = [layer.name for layer in _all_layers(keras_model)]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"layer names {twice} are used in more than one sub-model; flattened, they would clash: "
                         "give the layers unique names")
    return keras.Model(inputs, outputs, name=keras_model.name)


def _copied(layer: Any) -> Any:
    """A function calling a copy of ``layer`` (same configuration and weights): a layer has one
    output per call, and the flat model's layers must have theirs in the flat graph only."""

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            copy = type(layer).from_config(layer.get_config())
        except (TypeError, ValueError, NotImplementedError) as error:
            raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) of a sub-model cannot be copied into "
                             f"a flat model ({error}); build the model as one functional or Sequential model") from None
        outputs = copy(*args, **kwargs)
        copy.set_weights(layer.get_weights())
        return outputs

    return run


def _all_layers(model: Any) -> list[Any]:
    from .backend import keras

    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(_all_layers(layer))
        elif not isinstance(layer, keras.layers.InputLayer):
            found.append(layer)
    return found


def usable_graph(keras_model: Any) -> tuple[Any, list[str]]:
    """``keras_model`` with nested sub-models opened and unusable layer names renamed.

    Args:
        keras_model: A built Keras model with one image input.

    Returns:
        The model to use (the same object when nothing was nested) and the notes
        saying what changed (one line each; empty when nothing did).

    Raises:
        ValueError: A sub-model that is not Sequential or functional, or layer names
            that clash once the sub-models are opened.
    """
    notes = []
    nested = _nested(keras_model)
    if nested:
        keras_model = _flat(keras_model)
        notes.append("sub-models opened into one flat model: " + ", ".join(repr(m.name) for m in nested))
    renamed = _rename(keras_model)
    if renamed:
        pairs = ", ".join(f"{old!r} → {new!r}" for old, new in renamed.items())
        notes.append(f"layers renamed for TensorFlow: {pairs}")
    return keras_model, notes
