"""Heads of the OIP engine: image n's map ``maps[n]`` of a layer, and only that one.

- a plain Conv2D: only each image's own map is computed (one kernel per image on
  extracted patches), before the activation; for conv3 of the embedded model that
  skips 127 of 128 output maps;
- a max-pooling layer right over such a convolution with a monotone activation: the
  pooled pre-activation (max-pooling and the activation commute);
- anything else: the layer's output, every map computed; no pre-activation.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["heads"]

#: Activations f with max(f(z)) = f(max z): a max-pool commutes with them.
MONOTONE = {"relu", "relu6", "elu", "selu", "leaky_relu", "sigmoid", "tanh", "softplus", "hard_sigmoid"}

Head = Callable[[Any, Any], Any]


def heads(net: Any, target: Any) -> tuple[Head, Callable[[Any], Any] | None]:
    """Image n's map ``maps[n]`` of ``target`` before its activation, and that activation
    (None when the head gives the layer's output itself)."""
    from ...model.backend import keras

    if _plain_conv(target):
        return _conv_head(net, target), _nonlinear(target)
    if type(target) is keras.layers.MaxPooling2D and target.data_format == "channels_last":
        from ...model.layers import inbound_names

        parents = inbound_names(target)
        below = net.get_layer(parents[0]) if len(parents) == 1 else None
        if below is not None and _plain_conv(below) and (
                _nonlinear(below) is None or getattr(below.activation, "__name__", "") in MONOTONE):
            return _pooled(_conv_head(net, below), target), _nonlinear(below)
    return _all_maps(net, target), None


def _plain_conv(layer: Any) -> bool:
    from ...model.backend import keras

    return type(layer) is keras.layers.Conv2D and layer.groups == 1 and layer.data_format == "channels_last"


def _nonlinear(layer: Any) -> Callable[[Any], Any] | None:
    name = getattr(layer.activation, "__name__", "linear")
    return None if name == "linear" else layer.activation


def _pooled(conv: Head, pool: Any) -> Head:
    """The max-pooling ``pool`` of each image's own map of ``conv``."""
    size, strides, padding = pool.pool_size, pool.strides, pool.padding.upper()

    def pooled(x: Any, maps: Any) -> Any:
        from ...model.backend import tf

        own = conv(x, maps)[..., None]
        return tf.nn.max_pool2d(own, size, strides, padding)[..., 0]

    return pooled


def _all_maps(net: Any, target: Any) -> Head:
    """Image n's map ``maps[n]`` of ``target``, computing every map of the layer."""
    from ...model.backend import keras, tf

    head = keras.Model(net.inputs[0], target.output)

    def own_maps(x: Any, maps: Any) -> Any:
        out = head(x, training=False)  # (N, h, w, C)
        return tf.gather(tf.transpose(out, (0, 3, 1, 2)), maps, axis=1, batch_dims=1)

    return own_maps


def _conv_head(net: Any, target: Any) -> Head:
    """For a plain Conv2D: each image's own map, before the activation function.

    The layers below run as usual; the target convolution is applied with one
    kernel per image (``maps[n]``) on extracted patches.
    """
    from ...model.backend import keras, tf

    below = keras.Model(net.inputs[0], target.input)
    kh, kw = target.kernel_size
    sh, sw = target.strides
    dh, dw = target.dilation_rate
    padding = target.padding.upper()

    def own_maps(x: Any, maps: Any) -> Any:
        inputs = below(x, training=False)
        patches = tf.image.extract_patches(inputs, [1, kh, kw, 1], [1, sh, sw, 1], [1, dh, dw, 1], padding)
        kernel = tf.reshape(tf.gather(target.kernel, maps, axis=3), (-1, tf.shape(maps)[0]))  # (k, N)
        out = tf.einsum("nhwk,kn->nhw", patches, kernel)
        if target.use_bias:
            out = out + tf.gather(target.bias, maps)[:, None, None]
        return out

    return own_maps
