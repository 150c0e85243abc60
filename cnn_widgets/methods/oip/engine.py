"""The compiled side of an OIP run: a probe and an ascent step per layer and model.

Every image of a batch is an *item* with its own map (``maps[n]``) and its own weights
over the map's cells (``masks[n]``: ``1/(h·w)`` everywhere for the map's mean, a single
1 for a node). :meth:`Engine.ascend` runs a stretch of compiled steps; the rescue
bookkeeping (which item ascends its pre-activation, how many steps in a row it fired)
is part of the step, so nothing comes back to Python between steps (past a quarter of
the steps, one flag): the objectives of the stretch come out at its end, the images only
when asked for.
(One compiled step called per step: a ``tf.while_loop`` around it ran 2× slower on a
CPU, its gradient graph without the fused oneDNN kernels.)

The heads (:mod:`.heads`) compute each image's own map only.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .heads import heads

__all__ = ["Engine", "Stretch", "engine", "masks_for"]

#: Steps a rescued item must fire in a row before it ascends its objective again.
FIRED_IN_A_ROW = 3


class Stretch(NamedTuple):
    """What :meth:`Engine.ascend` did."""

    x: Any  # the images (a tensor, standardised)
    rows: np.ndarray  # (done, n): each step's objectives when it began, 0 while rescuing
    rescuing: np.ndarray  # (n,) bool: on its pre-activation / waiting for a real image
    fired: np.ndarray  # (n,) int32: steps in a row it fired while rescuing
    revived: np.ndarray  # (n,) bool: came alive on its pre-activation in this stretch
    done: int  # steps done (fewer than asked when an item became late)
    blur_due: bool  # stopped early on a step whose blur is still to do


def masks_for(nodes: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Per item, the weights of the objective over the map's cells: all 1/(h·w) for the
    map's mean (node ``(-1, -1)``), one 1 for a node."""
    masks = np.full((len(nodes), rows, cols), 1.0 / (rows * cols), np.float32)
    for i, (row, col) in enumerate(nodes):
        if row >= 0:
            masks[i] = 0.0
            masks[i, row, col] = 1.0
    return masks


def blur_kernel(sigma: float, channels: int, size: int) -> np.ndarray:
    """A normalised Gaussian of ``sigma`` px for a depthwise convolution, at most ``size - 1``
    px from its centre (the reflected border must fit in the image)."""
    radius = max(1, min(int(math.ceil(2 * sigma)), size - 1))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    return (np.outer(taps, taps)[:, :, None, None] * np.ones((1, 1, channels, 1))).astype(np.float32)


class Engine:
    """Compiled probe and ascent for one layer of one model, any mix of maps and nodes."""

    def __init__(self, model: Any, layer: str, restandardize: bool) -> None:
        from ...model.backend import tf

        self._tf = tf
        net = model.keras_model
        head, activation = heads(net, net.get_layer(layer))
        has_pre = self.has_pre = activation is not None
        shape = tuple(int(s) for s in model.input_shape)
        self.channels, self.size = shape[-1], min(shape[:2])
        low = tf.constant(model.standardize(np.zeros(shape[-1], np.float32)))
        high = tf.constant(model.standardize(np.ones(shape[-1], np.float32)))
        spec_x = tf.TensorSpec((None, *shape), tf.float32)
        spec_maps = tf.TensorSpec((None,), tf.int32)
        spec_masks = tf.TensorSpec((None, None, None), tf.float32)
        spec_flags = tf.TensorSpec((None,), tf.bool)
        spec_counts = tf.TensorSpec((None,), tf.int32)
        scalar_float = tf.TensorSpec((), tf.float32)
        spec_kernel = tf.TensorSpec((None, None, shape[-1], 1), tf.float32)

        def gradient(x, maps, masks, use_pre):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(x)
                pre = head(x, maps)  # (N, h, w): image n's own map, before the activation (if known)
                post = activation(pre) if has_pre else pre
                value = tf.reduce_sum(post * masks, axis=(1, 2))
                before = tf.reduce_sum(pre * masks, axis=(1, 2)) if has_pre else value
                # images are independent: one sum gives every image's gradient; an item
                # being rescued ascends its pre-activation, the others their objective
                total = tf.reduce_sum(tf.where(use_pre, before, value))
            return value, tape.gradient(total, x)

        def blur(x, kernel):
            radius = tf.shape(kernel)[0] // 2
            padded = tf.pad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
            return tf.ensure_shape(tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID"), x.shape)

        def move(x, grad, epsilon):
            rms = tf.sqrt(tf.reduce_mean(tf.square(grad), axis=(1, 2, 3), keepdims=True))
            moved = x + epsilon * grad / (rms + 1e-8)
            if restandardize:
                mean = tf.reduce_mean(moved, axis=(1, 2, 3), keepdims=True)
                std = tf.math.reduce_std(moved, axis=(1, 2, 3), keepdims=True)
                moved = (moved - mean) / (std + 1e-8)
            return tf.clip_by_value(moved, low, high)

        # Plain graph mode: for batches of images oneDNN's convolutions beat XLA's on a CPU.
        @tf.function(input_signature=[spec_x, spec_maps, spec_masks])
        def probe(x, maps, masks):
            value, grad = gradient(x, maps, masks, tf.zeros(tf.shape(maps), tf.bool))
            return value, tf.sqrt(tf.reduce_mean(tf.square(grad), axis=(1, 2, 3)))

        @tf.function(input_signature=[spec_x, spec_maps, spec_masks, spec_flags, spec_counts, spec_flags, spec_flags,
                                      scalar_float])
        def ascend(x, maps, masks, rescuing, fired, revived, waiting, epsilon):
            """One step: the objectives when it began (0 while rescuing), the moved images, the
            rescue's state after it, and whether an item waiting for a real image still rescues."""
            value, grad = gradient(x, maps, masks, rescuing)
            row = tf.where(rescuing, tf.zeros_like(value), value)
            if has_pre:  # an item that fell back to 0 (ReLU's dead zone) is rescued again
                rescuing = rescuing | (value == 0)
            fired = tf.where(rescuing & (value > 0), fired + 1, tf.zeros_like(fired))
            ready = rescuing & (fired >= FIRED_IN_A_ROW)
            rescuing = rescuing & ~ready
            return move(x, grad, epsilon), row, rescuing, fired, revived | ready, tf.reduce_any(rescuing & waiting)

        @tf.function(input_signature=[spec_x, spec_kernel])
        def blur_once(x, kernel):
            return blur(x, kernel)

        # concrete functions: a call costs half of a tf.function's (no signature to bind)
        self._probe, self._ascend, self._blur = (function.get_concrete_function()
                                                 for function in (probe, ascend, blur_once))

    def probe(self, x: Any, maps: Any, masks: Any) -> tuple[np.ndarray, np.ndarray]:
        """Objective and gradient RMS of each image."""
        value, rms = self._probe(x, maps, masks)
        return value.numpy(), rms.numpy()

    def kernel(self, sigma: float) -> Any:
        """The blur kernel of ``sigma`` px for this model's images."""
        return self._tf.constant(blur_kernel(sigma, self.channels, self.size))

    def ascend(self, x: Any, maps: Any, masks: Any, rescuing: np.ndarray, fired: np.ndarray,
               waiting: np.ndarray, *, epsilon: float, first: int, count: int, switch_at: int,
               blur_every: int, kernel: Any) -> Stretch:
        """Up to ``count`` steps (numbers ``first + 1`` …) on the images ``x``; stops early
        after a step on which an item ``waiting`` for a real image is still rescuing past
        step ``switch_at``. The state stays on the compiled side between steps (past
        ``switch_at`` one flag a step comes back); the objectives come out at the end."""
        tf = self._tf
        state = (tf.constant(rescuing), tf.constant(fired, tf.int32), tf.zeros(len(rescuing), tf.bool))
        waiting, epsilon = tf.constant(waiting), tf.constant(epsilon, tf.float32)
        rows, blur_due = [], False
        for number in range(first + 1, first + count + 1):
            x, row, *state, waits = self._ascend(x, maps, masks, *state, waiting, epsilon)
            rows.append(row)
            late = number >= switch_at and bool(waits)
            if blur_every and number % blur_every == 0:
                if late:  # the run puts the real images in first, then blurs
                    blur_due = True
                else:
                    x = self._blur(x, kernel)
            if late:
                break
        rescuing, fired, revived = (value.numpy() for value in state)
        return Stretch(x, tf.stack(rows).numpy(), rescuing, fired, revived, len(rows), blur_due)

    def blur(self, x: Any, kernel: Any) -> Any:
        """The images blurred once."""
        return self._blur(x, kernel)


def engine(model: Any, layer: str, restandardize: bool) -> Engine:
    """The engine of ``layer``, built once per model version."""
    key = ("oip-engine", layer, bool(restandardize))
    return model.cached(key, lambda: Engine(model, layer, restandardize))
