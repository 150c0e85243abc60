"""Heads of the OIP engine: image n's map ``maps[n]`` of a layer, and only that one.

- a plain Conv2D: only each image's own map is computed (one kernel per image), before
  the activation; for conv3 of the embedded model that skips 127 of 128 output maps;
- a max-pooling layer right over such a convolution with a monotone activation: the
  pooled pre-activation (max-pooling and the activation commute);
- anything else: the layer's output, every map computed; no pre-activation.

Under the target, a plain chain of VALID convolutions and max-poolings runs layer by
layer on the part of the image that reaches the target — the last rows and columns a
VALID chain never looks at are cut off first (their gradient is 0 anyway) — and the
first convolution's gradient with respect to the image is one matrix product
(:func:`_first_conv`); anything else runs as a Keras model of those layers.
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
        return _conv_head(net, target, _output_size(target)), _nonlinear(target)
    if type(target) is keras.layers.MaxPooling2D and target.data_format == "channels_last":
        from ...model.layers import inbound_names

        parents = inbound_names(target)
        below = net.get_layer(parents[0]) if len(parents) == 1 else None
        if below is not None and _plain_conv(below) and (
                _nonlinear(below) is None or getattr(below.activation, "__name__", "") in MONOTONE):
            used = _needed_input(target, _output_size(target)) or _output_size(below)
            return _pooled(_conv_head(net, below, used), target), _nonlinear(below)
    return _all_maps(net, target), None


def _plain_conv(layer: Any) -> bool:
    from ...model.backend import keras

    return type(layer) is keras.layers.Conv2D and layer.groups == 1 and layer.data_format == "channels_last"


def _nonlinear(layer: Any) -> Callable[[Any], Any] | None:
    name = getattr(layer.activation, "__name__", "linear")
    return None if name == "linear" else layer.activation


def _output_size(layer: Any) -> tuple[int, int]:
    return int(layer.output.shape[1]), int(layer.output.shape[2])


def _needed_input(layer: Any, size: tuple[int, int]) -> tuple[int, int] | None:
    """Rows and columns of ``layer``'s input that its first ``size`` outputs read (a VALID
    convolution or max-pooling reads from the top-left corner on); None when it cannot be said."""
    from ...model.backend import keras

    if type(layer) in (keras.layers.Dropout, keras.layers.Activation, keras.layers.ReLU):
        return size
    if getattr(layer, "padding", "").lower() != "valid" or getattr(layer, "data_format", "") != "channels_last":
        return None
    if _plain_conv(layer):
        reach = [d * (k - 1) + 1 for k, d in zip(layer.kernel_size, layer.dilation_rate)]
        strides = layer.strides
    elif type(layer) is keras.layers.MaxPooling2D:
        reach, strides = list(layer.pool_size), layer.strides
    else:
        return None
    return tuple((n - 1) * s + r for n, s, r in zip(size, strides, reach))  # type: ignore[return-value]


def _chain(net: Any, layer: Any) -> list[Any] | None:
    """The layers from the input up to ``layer`` (excluded), input side first, when they are
    one chain that :func:`_needed_input` can follow; else None."""
    from ...model.backend import keras
    from ...model.layers import inbound_names

    inputs = {getattr(tensor, "_keras_history", (None,))[0] for tensor in net.inputs}
    inputs = {getattr(layer, "name", None) for layer in inputs} - {None}
    chain: list[Any] = []
    current = layer
    while True:
        parents = inbound_names(current)
        if len(parents) != 1:
            return None
        if parents[0] in inputs:
            return chain[::-1]
        below = net.get_layer(parents[0])
        if isinstance(below, keras.layers.InputLayer):
            return chain[::-1]
        if _needed_input(below, (1, 1)) is None:
            return None
        chain.append(below)
        current = below


def _below(net: Any, target: Any, needed: tuple[int, int]) -> Callable[[Any], Any]:
    """``x`` → ``target``'s input, of which the first ``needed`` rows and columns are used."""
    from ...model.backend import keras

    chain = _chain(net, target)
    if chain is None:
        whole = keras.Model(net.inputs[0], target.input)
        return lambda x: whole(x, training=False)
    for layer in reversed(chain):
        needed = _needed_input(layer, needed)  # type: ignore[assignment]
    rows, cols = needed
    first = chain[0] if chain and _first_conv_fits(chain[0]) else None
    steps = [lambda y, layer=layer: layer(y, training=False) for layer in chain[1 if first else 0:]]
    convolve = _first_conv(first, rows, cols) if first is not None else lambda x: x[:, :rows, :cols, :]

    def below(x: Any) -> Any:
        y = convolve(x)
        for step in steps:
            y = step(y)
        return y

    return below


def _first_conv_fits(layer: Any) -> bool:
    return _plain_conv(layer) and tuple(layer.strides) == (1, 1) and tuple(layer.dilation_rate) == (1, 1) \
        and layer.padding.lower() == "valid"


def _first_conv(layer: Any, rows: int, cols: int) -> Callable[[Any], Any]:
    """The first convolution (stride 1, VALID) on the image's first ``rows × cols`` pixels.

    Its gradient with respect to the whole image is one matrix product and a sum of
    shifted planes, padded to the image (the cut-off border gets 0): the same numbers as
    TensorFlow's ``Conv2DBackpropInput``, which is slow into one channel, plus the cut's
    own gradient, in one go.
    """
    from ...model.backend import tf

    kh, kw = layer.kernel_size

    def apply(x: Any) -> Any:
        kernel = tf.convert_to_tensor(layer.kernel)
        ci, co = int(kernel.shape[2]), int(kernel.shape[3])
        height, width = int(x.shape[1]), int(x.shape[2])
        flat = tf.reshape(kernel, (kh * kw * ci, co))

        @tf.custom_gradient
        def convolve(x: Any) -> Any:
            def gradient(upstream: Any) -> Any:
                h, w = int(upstream.shape[1]), int(upstream.shape[2])
                planes = tf.matmul(flat, tf.reshape(upstream, (-1, co)), transpose_b=True)  # (taps·ci, n·h·w)
                planes = tf.reshape(planes, (kh, kw, ci, -1, h, w))
                image = tf.add_n([tf.pad(planes[i, j], [[0, 0], [0, 0], [i, height - h - i], [j, width - w - j]])
                                  for i in range(kh) for j in range(kw)])  # (ci, n, height, width)
                return tf.transpose(image, (1, 2, 3, 0))

            return tf.nn.conv2d(x[:, :rows, :cols, :], kernel, 1, "VALID"), gradient

        out = convolve(x)
        if layer.use_bias:
            out = out + tf.convert_to_tensor(layer.bias)
        return layer.activation(out)

    return apply


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


def _conv_head(net: Any, target: Any, used: tuple[int, int]) -> Head:
    """For a plain Conv2D: each image's own map before the activation, its first ``used``
    rows and columns (all that the layer above reads).

    VALID: every input pixel times the image's own kernel column (``maps[n]``) for every
    tap, one batched matrix product, then the taps' shifted planes summed (3× faster than
    extracted patches, with their gradient, for conv3 of the embedded model). SAME: the
    kernel column on extracted patches.
    """
    from ...model.backend import tf

    kh, kw = target.kernel_size
    sh, sw = target.strides
    dh, dw = target.dilation_rate
    padding = target.padding.upper()
    needed = _needed_input(target, used) if padding == "VALID" else None
    below = _below(net, target, needed or (int(target.input.shape[1]), int(target.input.shape[2])))
    rows, cols = used

    def own_maps(x: Any, maps: Any) -> Any:
        inputs = below(x)
        if padding == "VALID":
            n, height, width, channels = tf.shape(inputs)[0], inputs.shape[1], inputs.shape[2], inputs.shape[3]
            own = tf.gather(tf.transpose(target.kernel, (3, 2, 0, 1)), maps)  # (N, C, kh, kw): rows, not columns
            columns = tf.reshape(own, (n, channels, kh * kw))
            taps = tf.reshape(tf.matmul(tf.reshape(inputs, (n, height * width, channels)), columns),
                              (n, height, width, kh * kw))
            out = tf.add_n([taps[:, i * dh:i * dh + (rows - 1) * sh + 1:sh, j * dw:j * dw + (cols - 1) * sw + 1:sw,
                                 i * kw + j] for i in range(kh) for j in range(kw)])
        else:
            patches = tf.image.extract_patches(inputs, [1, kh, kw, 1], [1, sh, sw, 1], [1, dh, dw, 1], padding)
            kernels = tf.gather(target.kernel, maps, axis=3)  # (kh, kw, C, N)
            out = tf.einsum("nhwk,kn->nhw", patches, tf.reshape(kernels, (-1, tf.shape(maps)[0])))
        if target.use_bias:
            out = out + tf.gather(target.bias, maps)[:, None, None]
        return out

    return own_maps
