"""Logits and their gradients with respect to the pixels (saliency, "A rather than B")."""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import keras, tf
from .inputs import padded

__all__ = ["Gradients"]


class Gradients:
    """:class:`~cnn_widgets.CNNModel`'s logits and logit gradients, compiled once per model version."""

    def _logit_calls(self) -> tuple[Any, Any]:
        """Compiled ``logits(batch)`` and ``gradient(batch, a, b)`` (pixel-scale batches)."""

        def build() -> tuple[Any, Any]:
            net = self.keras_model
            last = net.layers[-1]
            mean, std = tf.constant(self.mean), tf.constant(self.std)
            if not self._outputs_probabilities:
                body, head = keras.Model(net.inputs[0], net.outputs[0]), (lambda x: x)
            elif isinstance(last, keras.layers.Softmax):
                body, head = keras.Model(net.inputs[0], last.input), (lambda x: x)
            elif isinstance(last, keras.layers.Dense):  # the same layer without its softmax
                body = keras.Model(net.inputs[0], last.input)

                def head(x: tf.Tensor) -> tf.Tensor:
                    z = tf.matmul(x, tf.convert_to_tensor(last.kernel))
                    return z + tf.convert_to_tensor(last.bias) if last.use_bias else z
            else:  # log-probabilities differ from the logits by one constant per image
                body = keras.Model(net.inputs[0], net.outputs[0])

                def head(x: tf.Tensor) -> tf.Tensor:
                    return tf.math.log(tf.maximum(x, 1e-30))
            spec = tf.TensorSpec((None, *self.input_shape), tf.float32)
            index = tf.TensorSpec((), tf.int32)

            @tf.function(input_signature=[spec], reduce_retracing=True)
            def logits(batch: tf.Tensor) -> tf.Tensor:
                return head(body((batch - mean) / std, training=False))

            @tf.function(input_signature=[spec, index, index], reduce_retracing=True)
            def gradient(batch: tf.Tensor, a: tf.Tensor, b: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
                with tf.GradientTape() as tape:
                    tape.watch(batch)
                    z = logits(batch)
                    difference = z[:, a] - z[:, b]
                    total = tf.reduce_sum(difference)  # images are independent: one sum
                return tape.gradient(total, batch), difference

            return logits, gradient

        return self.cached("logit calls", build)


    def logits(self, images: Any, *, batch_size: int = 256) -> np.ndarray:
        """The output layer's values before its softmax, shape ``(N, classes)``.

        For a model that ends in a softmax these are its logits; a model without a
        softmax gives its outputs as they are.
        """
        batch = self.prepare(images)
        logits, _ = self._logit_calls()
        parts = []
        for start in range(0, batch.shape[0], batch_size):
            part = batch[start:start + batch_size]
            parts.append(logits(padded(part)).numpy()[:part.shape[0]])
        return np.concatenate(parts)


    def logit_gradient(self, images: Any, class_a: int, class_b: int, *, samples: int = 1,
                       noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Gradient of ``logit A − logit B`` with respect to the pixels (in [0, 1] scale).

        With ``noise > 0`` it is SmoothGrad: the mean gradient over ``samples`` copies
        of each image with Gaussian noise of spread ``noise`` added to the pixels.

        Args:
            images: One image or a batch (see :meth:`prepare`).
            class_a: The class pushed towards.
            class_b: The class pushed away from.
            samples: Noisy copies per image (SmoothGrad); used when ``noise > 0``.
            noise: Spread of the noise, in pixel units (0.15 = 15 % of the range).
            seed: Seed of the noise.

        Returns:
            ``(gradient, difference)``: gradient ``(N, H, W, C)`` and the logit
            difference ``(N,)`` of the images as given.

        Raises:
            ValueError: A class out of range, ``samples < 1`` or negative ``noise``.
        """
        a, b = self.class_index(class_a, "class A"), self.class_index(class_b, "class B")
        if int(samples) < 1 or not np.isfinite(noise) or noise < 0:
            raise ValueError(f"samples must be ≥ 1 and noise ≥ 0; got samples={samples}, noise={noise}")
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a whole number ≥ 0; got {seed!r}")
        batch = self.prepare(images)
        _, gradient = self._logit_calls()
        count = batch.shape[0]
        clean, difference = gradient(padded(batch), a, b)
        difference = difference.numpy()[:count]
        if noise == 0:
            return clean.numpy()[:count], difference
        rng = np.random.default_rng(seed)
        noisy = np.repeat(batch, int(samples), axis=0)
        noisy = noisy + rng.normal(0.0, float(noise), noisy.shape).astype(np.float32)
        grads = gradient(padded(noisy), a, b)[0].numpy()[:noisy.shape[0]]
        return grads.reshape(count, int(samples), *batch.shape[1:]).mean(axis=1), difference

