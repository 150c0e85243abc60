""""A rather than B": the pixels that push a prediction from class B towards class A.

Two answers, side by side:

- **SmoothGrad** of ``logit A − logit B``: the gradient with respect to the pixels,
  averaged over noisy copies of the image (Smilkov et al., 2017), so single noisy
  pixels do not dominate. Positive: more ink here makes A more likely than B.
- **Occlusion**: blank a small patch, see how much ``logit A − logit B`` drops; each
  pixel gets the mean drop of the patches that cover it. Positive: this ink is what
  makes it an A rather than a B.

The gradient comes from :meth:`CNNModel.logit_gradient`, the occlusion from
:meth:`CNNModel.logits`; only NumPy here. For a linear model the gradient is the
difference of the two classes' effective weights (a test checks it).

Example:
    >>> result = saliency(model, image, 4, 9)
    >>> result.pixels.shape, result.occlusion.shape
    ((28, 28), (28, 28))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Saliency", "saliency", "smooth_grad", "occlusion_map", "check_pair", "overlay"]


@dataclass(frozen=True)
class Saliency:
    """Where the image makes class A more likely than class B.

    Attributes:
        class_a: The class pushed towards.
        class_b: The class pushed away from.
        gradient: SmoothGrad of ``logit A − logit B`` per pixel and channel ``(H, W, C)``.
        occlusion: Mean drop of ``logit A − logit B`` when a patch over the pixel is
            blanked ``(H, W)``; None when not computed.
        difference: ``logit A − logit B`` of the image.
        samples: Noisy copies averaged (1 with ``noise = 0``: the plain gradient).
        noise: Spread of the noise, in pixel units.
        patch: Side of the occluding patch.
        stride: Step between patches.
    """

    class_a: int
    class_b: int
    gradient: np.ndarray
    occlusion: np.ndarray | None
    difference: float
    samples: int = 16
    noise: float = 0.15
    patch: int = 4
    stride: int = 2

    @property
    def pixels(self) -> np.ndarray:
        """The gradient summed over channels ``(H, W)`` (what is overlaid on the image)."""
        return self.gradient.sum(axis=-1)


def check_pair(model: Any, class_a: Any, class_b: Any) -> tuple[int, int]:
    """Two different class indices of ``model``, as ints.

    Raises:
        TypeError: Not integers.
        ValueError: Out of range, or A equal to B.
    """
    pair = [model.class_index(class_a, "class A"), model.class_index(class_b, "class B")]
    if pair[0] == pair[1]:
        raise ValueError(f"class A and class B are both {pair[0]}: pick two different classes")
    return pair[0], pair[1]


def smooth_grad(model: Any, image: Any, class_a: int, class_b: int, *, samples: int = 16,
                noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, float]:
    """SmoothGrad of ``logit A − logit B`` for one image: ``(gradient (H, W, C), difference)``."""
    a, b = check_pair(model, class_a, class_b)
    gradient, difference = model.logit_gradient(image, a, b, samples=samples, noise=noise, seed=seed)
    return gradient[0], float(difference[0])


def _starts(size: int, patch: int, stride: int) -> np.ndarray:
    starts = list(range(0, max(size - patch, 0) + 1, stride))
    if starts[-1] != max(size - patch, 0):
        starts.append(size - patch)  # the last patch reaches the border
    return np.array(starts)


def occlusion_map(model: Any, image: Any, class_a: int, class_b: int, *, patch: int = 4, stride: int = 2,
                  baseline: float = 0.0) -> tuple[np.ndarray, float]:
    """Drop of ``logit A − logit B`` when a ``patch``×``patch`` square is set to ``baseline``.

    Every patch position (``stride`` apart, the last at the border) is one image of
    one batch. Each pixel gets the mean drop of the patches covering it.

    Returns:
        ``(map (H, W), difference of the image)``.

    Raises:
        ValueError: A bad pair, a patch larger than the image or < 1, a stride < 1,
            or a baseline outside [0, 1].
    """
    a, b = check_pair(model, class_a, class_b)
    picture = model.prepare(image)[0]
    height, width = picture.shape[:2]
    if not (isinstance(patch, (int, np.integer)) and 1 <= patch <= min(height, width)):
        raise ValueError(f"patch must be an int in 1–{min(height, width)}; got {patch!r}")
    if not (isinstance(stride, (int, np.integer)) and stride >= 1):
        raise ValueError(f"stride must be an int ≥ 1; got {stride!r}")
    if not (np.isfinite(baseline) and 0.0 <= baseline <= 1.0):
        raise ValueError(f"baseline must be a pixel value in [0, 1]; got {baseline!r}")
    tops, lefts = _starts(height, patch, stride), _starts(width, patch, stride)
    batch = np.repeat(picture[None], 1 + tops.size * lefts.size, axis=0)
    for n, (top, left) in enumerate((t, l) for t in tops for l in lefts):
        batch[1 + n, top:top + patch, left:left + patch] = baseline
    logits = model.logits(batch)
    differences = logits[:, a] - logits[:, b]
    drops = differences[0] - differences[1:]
    total = np.zeros((height, width))
    cover = np.zeros((height, width))
    for n, (top, left) in enumerate((t, l) for t in tops for l in lefts):
        total[top:top + patch, left:left + patch] += drops[n]
        cover[top:top + patch, left:left + patch] += 1
    return total / cover, float(differences[0])


def saliency(model: Any, image: Any, class_a: int, class_b: int, *, samples: int = 16, noise: float = 0.15,
             seed: int = 0, occlusion: bool = True, patch: int = 4, stride: int = 2,
             baseline: float = 0.0) -> Saliency:
    """SmoothGrad (and occlusion) of ``logit A − logit B`` for one image.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.
        image: One image, as :meth:`CNNModel.prepare` takes it.
        class_a: The class pushed towards.
        class_b: The class pushed away from.
        samples: Noisy copies for SmoothGrad.
        noise: Their spread in pixel units (0: the plain gradient).
        seed: Seed of the noise (same seed, same map).
        occlusion: Also compute the occlusion map.
        patch: Side of the occluding square.
        stride: Step between occluding squares.
        baseline: The pixel value an occluded pixel gets (0: MNIST's background).

    Raises:
        ValueError / TypeError: Bad classes (out of range, A == B), a bad image or settings.
    """
    a, b = check_pair(model, class_a, class_b)
    if not (isinstance(samples, (int, np.integer)) and samples >= 1):
        raise ValueError(f"samples must be an int ≥ 1; got {samples!r}")
    gradient, difference = smooth_grad(model, image, a, b, samples=samples, noise=noise, seed=seed)
    occluded = occlusion_map(model, image, a, b, patch=patch, stride=stride, baseline=baseline)[0] \
        if occlusion else None
    return Saliency(a, b, gradient, occluded, difference, samples if noise > 0 else 1, float(noise), patch, stride)


def overlay(image: Any, values: np.ndarray, *, colormap: str = "RdBu_r") -> np.ndarray:
    """The image in grey with ``values`` on top: red where positive, blue where negative.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` pixels in [0, 1] (or uint8).
        values: ``(H, W)`` signed values; scaled by their 99th percentile of magnitude.
        colormap: A diverging Matplotlib colour map.

    Returns:
        ``(H, W, 3)`` uint8 RGB.
    """
    from matplotlib import colormaps

    pixels = np.asarray(image)
    pixels = pixels.astype(np.float64) / 255.0 if pixels.dtype == np.uint8 else pixels.astype(np.float64)
    grey = pixels.mean(axis=-1) if pixels.ndim == 3 else pixels
    values = np.asarray(values, np.float64)
    if values.shape != grey.shape:
        raise ValueError(f"values {values.shape} do not match the image {grey.shape}")
    values = np.nan_to_num(values)
    magnitudes = np.abs(values)
    spread = float(np.percentile(magnitudes, 99)) or float(magnitudes.max())  # a few extreme pixels don't wash it out
    unit = np.clip(values / spread, -1.0, 1.0) if spread > 0 else np.zeros_like(values)
    colour = colormaps[colormap]((unit + 1.0) / 2.0)[..., :3]
    alpha = 0.9 * np.abs(unit)[..., None] ** 0.5
    base = np.repeat((0.1 + 0.5 * grey)[..., None], 3, axis=-1)
    return np.round((base * (1 - alpha) + colour * alpha) * 255).astype(np.uint8)
