"""Seed 004, "meaningless filters take meaningful shapes": five image-sized filters
trained on ONE image take that image's shape.

The network of the seed: ``filters`` convolution filters as large as the image
(so each gives one number, the sum of the image multiplied by the filter pixel by
pixel), then a linear layer to ``classes`` outputs and a softmax; trained by plain
gradient descent on the single image and its label.

Why the filters turn into the image: the gradient of the loss with respect to
filter ``k`` is ``dL/dz_k · image`` — every update adds a multiple of the image
itself. After training, filter ``k`` is its random start plus ``c_k · image``
(``c_k`` may be negative: an image-shaped hole drives the outputs just as well).
The multiply-and-sum view (:meth:`ShapeRun.multiply_and_sum`) shows the other
half: a filter shaped like the image gives a large sum on it, because its large
values sit where the image has ink.

Plain NumPy (the model is three lines of algebra); nothing here imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..render import mosaic

__all__ = ["MultiplySum", "ShapeRun", "filters_take_shape"]


@dataclass(frozen=True)
class MultiplySum:
    """One filter applied to one image, the way a convolution of equal sizes does it.

    Attributes:
        image: The image ``(H, W)``.
        filter: The filter ``(H, W)``.
        product: ``image * filter``, pixel by pixel.
        total: The sum of ``product``: the filter's answer (its bias left out).
    """

    image: np.ndarray
    filter: np.ndarray
    product: np.ndarray
    total: float


@dataclass(frozen=True)
class ShapeRun:
    """Filters trained on one image, with their emergence.

    Attributes:
        image: The image ``(H, W)``, pixels in [0, 1].
        label: The class it was trained to answer.
        frames: ``(frames, filters, H, W)``: the filters at ``frame_steps``;
            ``frames[0]`` are the random starts.
        frame_steps: The step of each frame.
        similarity: ``(frames, filters)``: Pearson correlation of each filter with
            the image (1: the image's shape; −1: its negative); NaN where the image
            or the filter is flat (a correlation is undefined there, not 0).
        loss: Cross-entropy before each step and after the last ``(steps + 1,)``.
        probability: The probability of ``label`` at the same points.
        settings: The arguments of the run.
    """

    image: np.ndarray
    label: int
    frames: np.ndarray
    frame_steps: list[int]
    similarity: np.ndarray
    loss: np.ndarray
    probability: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def initial(self) -> np.ndarray:
        """The random filters ``(filters, H, W)``."""
        return self.frames[0]

    @property
    def filters(self) -> np.ndarray:
        """The trained filters ``(filters, H, W)``."""
        return self.frames[-1]

    def _frame(self, frame: int) -> np.ndarray:
        if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)) or not (
                -len(self.frames) <= frame < len(self.frames)):
            raise ValueError(f"frame must be 0–{len(self.frames) - 1}; got {frame!r}")
        return self.frames[frame]

    def multiply_and_sum(self, index: int, frame: int = -1, image: Any = None) -> MultiplySum:
        """Filter ``index`` at ``frame`` multiplied with the image (or another one) and summed.

        Raises:
            ValueError: A filter or frame out of range, or an image of another size.
        """
        filters = self._frame(frame)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(filters):
            raise ValueError(f"filter must be 0–{len(filters) - 1}; got {index!r}")
        picture = self.image if image is None else _grey(image, self.image.shape)
        product = picture * filters[index]
        return MultiplySum(picture, filters[index], product, float(product.sum()))

    def responses(self, images: Any, frame: int = -1) -> np.ndarray:
        """Multiply-and-sum of every filter at ``frame`` with each of ``images``: ``(N, filters)``."""
        batch = np.asarray(images)
        if batch.ndim == 2:
            batch = batch[None]
        stack = np.stack([_grey(image, self.image.shape) for image in batch])
        return np.einsum("nhw,khw->nk", stack, self._frame(frame))

    def picture(self, frame: int = -1) -> np.ndarray:
        """The filters at ``frame`` side by side as palette indices, each on its own
        scale centred on 0 (diverging colours: red = positive)."""
        filters = self._frame(frame)
        peak = np.maximum(np.abs(filters).max(axis=(1, 2), keepdims=True), 1e-12)
        return mosaic(np.moveaxis(filters / peak, 0, -1), value_range=(-1.0, 1.0),
                      columns=len(filters), gap=2).indices

    def gif_bytes(self, *, zoom: int = 4, duration_ms: int = 150, hold_ms: int = 1500) -> bytes:
        """The emergence of the filters as an animated GIF: filter numbers, the step of each
        frame, its colour scale and each filter's correlation with the image."""
        from ..render import Grid, Labels, labelled_gif, palette_image

        if isinstance(zoom, bool) or not isinstance(zoom, (int, np.integer)) or not 1 <= zoom <= 32:
            raise ValueError(f"zoom must be an integer 1–32; got {zoom!r}")
        pictures = [palette_image(self.picture(index), "diverging", zoom) for index in range(len(self.frames))]
        count, (h, w) = self.frames.shape[1], self.frames.shape[2:4]
        labels = [Labels(f"{count} filters of {h}x{w} trained on one image of class {self.label}",
                         x_label="filter number above each tile; red +, blue -, each filter on its own scale",
                         tiles=[f"{k}: r {self.similarity[index][k]:+.2f}" for k in range(count)],
                         colorbar=("diverging", "-max", "+max"),
                         note=f"step {self.frame_steps[index]} of {self.frame_steps[-1]}; r: correlation with "
                              f"the image") for index in range(len(self.frames))]
        return labelled_gif(pictures, labels, duration_ms, hold_ms, grid=Grid((h, w), 2, count, count), zoom=zoom)


def _grey(image: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """One grey image in [0, 1] as float64 ``(H, W)``; uint8 is divided by 255."""
    array = np.asarray(image)
    if array.dtype == np.uint8:
        array = array / 255.0
    elif not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"the image must be numeric (floats in [0, 1] or uint8); got {array.dtype}")
    array = np.asarray(array, np.float64)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        raise ValueError(f"the image must be one grey image (H, W); got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("the image contains NaN or infinite pixels")
    if array.min() < 0 or array.max() > 1:
        raise ValueError(f"pixels must lie in [0, 1] (or uint8 0–255); got {array.min():g} to {array.max():g}")
    if shape is not None and array.shape != tuple(shape):
        raise ValueError(f"the image must be {shape[0]}×{shape[1]} like the trained one; got {array.shape}")
    return array


def _forward(params: dict[str, np.ndarray], image: np.ndarray, label: int) -> tuple[float, np.ndarray,
                                                                                    dict[str, np.ndarray]]:
    """Loss, probabilities and gradients of the one-image network."""
    z = np.einsum("khw,hw->k", params["filters"], image) + params["bias"]
    logits = params["weights"] @ z + params["offset"]
    shifted = np.exp(logits - logits.max())
    probabilities = shifted / shifted.sum()
    loss = -float(np.log(max(probabilities[label], 1e-300)))
    g = probabilities.copy()
    g[label] -= 1.0  # dL/dlogits
    dz = params["weights"].T @ g
    grads = {"filters": dz[:, None, None] * image[None], "bias": dz, "weights": np.outer(g, z), "offset": g}
    return loss, probabilities, grads


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer {low}–{high}; got {value!r}")
    return int(value)


def filters_take_shape(image: Any, label: int = 0, *, filters: int = 5, classes: int = 10, steps: int = 120,
                       learning_rate: float = 0.005, seed: int = 0, frame_every: int = 2) -> ShapeRun:
    """Train ``filters`` image-sized filters on one image and record how they take its shape.

    Args:
        image: One grey image ``(H, W)`` (or ``(H, W, 1)``): floats in [0, 1] or uint8.
        label: The class the network learns to answer for it.
        filters: Number of filters (the seed: 5).
        classes: Outputs of the linear layer.
        steps: Gradient-descent steps.
        learning_rate: Step size.
        seed: Seed of the random start (same seed → same run).
        frame_every: Record the filters every this many steps.

    Raises:
        ValueError: A bad image, a label outside ``0..classes-1``, or a setting out
            of its range (the message names it).
    """
    picture = _grey(image)
    classes = _check_int("classes", classes, 2, 1000)
    label = _check_int("label", label, 0, classes - 1)
    filters = _check_int("filters", filters, 1, 64)
    steps = _check_int("steps", steps, 1, 100_000)
    frame_every = _check_int("frame_every", frame_every, 1, steps)
    seed = _check_int("seed", seed, 0, 2 ** 32 - 1)
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.floating)) or not (
            np.isfinite(learning_rate) and 0 < learning_rate <= 10):
        raise ValueError(f"learning_rate must be a number in (0, 10]; got {learning_rate!r}")
    rng = np.random.default_rng(seed)
    fan_in = picture.size
    bound = 1.0 / np.sqrt(fan_in)  # PyTorch's default for a convolution (the seed's code)
    params = {
        "filters": rng.uniform(-bound, bound, (filters, *picture.shape)),
        "bias": rng.uniform(-bound, bound, filters),
        "weights": rng.uniform(-1 / np.sqrt(filters), 1 / np.sqrt(filters), (classes, filters)),
        "offset": rng.uniform(-1 / np.sqrt(filters), 1 / np.sqrt(filters), classes),
    }
    frames, frame_steps, losses, chances = [params["filters"].copy()], [0], [], []
    for step in range(1, steps + 1):
        loss, probabilities, grads = _forward(params, picture, label)
        losses.append(loss)
        chances.append(float(probabilities[label]))
        for name, gradient in grads.items():
            params[name] = params[name] - learning_rate * gradient
        if step % frame_every == 0 or step == steps:
            frames.append(params["filters"].copy())
            frame_steps.append(step)
    loss, probabilities, _ = _forward(params, picture, label)
    losses.append(loss)
    chances.append(float(probabilities[label]))
    stack = np.stack(frames)
    centred = picture - picture.mean()
    flat = stack.reshape(len(stack), filters, -1)
    flat = flat - flat.mean(axis=2, keepdims=True)
    filter_norms, image_norm = np.linalg.norm(flat, axis=2), float(np.linalg.norm(centred))
    # a flat image or filter has no correlation (NaN), not 0
    defined = (filter_norms > 1e-12) & (image_norm > 1e-12)
    similarity = np.where(defined, (flat @ centred.reshape(-1)) / np.maximum(filter_norms * image_norm, 1e-300),
                          np.nan)
    return ShapeRun(image=picture, label=label, frames=stack.astype(np.float32), frame_steps=frame_steps,
                    similarity=similarity.astype(np.float32), loss=np.array(losses),
                    probability=np.array(chances),
                    settings=dict(filters=filters, classes=classes, steps=steps, learning_rate=learning_rate,
                                  seed=seed, frame_every=frame_every))
