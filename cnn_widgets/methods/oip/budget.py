"""A memory budget for every batched OIP call: estimated before it runs, refused above the limit.

One batched run keeps, per image (one map × seed × wavelength × node):

* the network's activations up to the layer, for the forward pass and its gradient
  (about :data:`ACTIVATION_COPIES` copies of every layer's output up to ``layer``);
* the animation frames on the host: ``steps / frame_every + 2`` copies of the image;
* the objectives of every step.

Measured on the embedded CNN (conv3, 100 steps, a frame every 5): 0.40 MB per image;
this estimate says 0.52 MB (it errs on the safe side). A call above the budget is
refused before any work, with the estimate, the limit and how many images fit; the
budget is :data:`DEFAULT_BUDGET_MB` (a Binder pod has 1–2 GB), or
``$CNN_WIDGETS_OIP_BUDGET_MB``, or what :func:`set_budget` sets.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, Sequence

import numpy as np

__all__ = ["BUDGET_ENV", "DEFAULT_BUDGET_MB", "MemoryBudgetError", "budget_bytes", "check_budget", "estimate_bytes",
           "series_images", "set_budget"]

#: The budget of one batched call without a setting, MB.
DEFAULT_BUDGET_MB = 1024
#: The environment variable that sets the budget, MB.
BUDGET_ENV = "CNN_WIDGETS_OIP_BUDGET_MB"
#: Copies of the activations a gradient step holds at its peak (forward values, their gradients, temporaries).
ACTIVATION_COPIES = 3

_budget_mb: float | None = None


class MemoryBudgetError(ValueError):
    """A batched call that would need more memory than the budget allows."""


def set_budget(megabytes: float | None) -> None:
    """Set the budget of every batched OIP call, in MB (``None``: back to the default).

    Raises:
        ValueError: Not a finite number > 0.
    """
    global _budget_mb
    if megabytes is not None and (isinstance(megabytes, bool) or not isinstance(megabytes, numbers.Real)
                                  or not math.isfinite(megabytes) or megabytes <= 0):
        raise ValueError(f"the OIP memory budget must be a number of MB > 0 (or None); got {megabytes!r}")
    _budget_mb = None if megabytes is None else float(megabytes)


def budget_bytes() -> int:
    """The budget now: :func:`set_budget`'s, else ``$CNN_WIDGETS_OIP_BUDGET_MB``, else the default.

    Raises:
        ValueError: The environment variable is not a number > 0.
    """
    if _budget_mb is not None:
        return int(_budget_mb * 2 ** 20)
    text = os.environ.get(BUDGET_ENV)
    if text:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"${BUDGET_ENV} must be a number of MB > 0; got {text!r}")
        return int(value * 2 ** 20)
    return DEFAULT_BUDGET_MB * 2 ** 20


def _per_image(model: Any, layer: str, settings: Any) -> int:
    """Bytes one image of a run costs (see the module's note)."""
    table = model.layers_table()
    names = [row.name for row in table]
    upto = table[:names.index(layer) + 1] if layer in names else table
    height, width, channels = (int(s or 1) for s in model.input_shape)
    pixels = height * width * channels
    activations = pixels + sum(int(np.prod([s or 1 for s in row.output_shape])) for row in upto)
    steps, every = (_whole(getattr(settings, name, 1)) for name in ("steps", "frame_every"))
    frames = steps // every + 2
    return 4 * (ACTIVATION_COPIES * activations + (frames + 2) * pixels + steps + 8)


def _whole(value: Any) -> int:
    """A setting as a count ≥ 1 for the estimate (a bad one is refused by the settings' own check)."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)) and value >= 1
    return int(value) if ok else 1


def estimate_bytes(model: Any, layer: str, images: int, settings: Any) -> int:
    """The memory a batched run of ``images`` images on ``layer`` needs, about, in bytes."""
    return int(images) * _per_image(model, layer, settings)


def _size(count: float) -> str:
    if count >= 2 ** 30:
        return f"{count / 2 ** 30:.1f} GB"
    return f"{count / 2 ** 20:.0f} MB" if count >= 2 ** 20 else f"{count / 2 ** 10:.0f} kB"


def check_budget(model: Any, layer: str, images: int | None, settings: Any) -> None:
    """Refuse a batched run that would need more memory than the budget.

    Args:
        model: The model.
        layer: The layer whose maps are grown (checked by the caller).
        images: Images in the one batch (maps × seeds × wavelengths × nodes); ``None``:
            not known yet (nothing is checked).
        settings: The run's :class:`~.settings.OIPSettings` (steps, frame_every).

    Raises:
        MemoryBudgetError: Over the budget; the message gives the estimate, the
            limit and how many images fit.
    """
    if images is None:
        return
    per_image = _per_image(model, layer, settings)
    need, limit = int(images) * per_image, budget_bytes()
    if need > limit:
        fit = max(limit // per_image, 0)
        raise MemoryBudgetError(
            f"this OIP run grows {int(images):,} images at once on {layer!r}: about {_size(need)} of memory, over "
            f"the limit of {_size(limit)} (${BUDGET_ENV} or cnn_widgets.methods.oip.budget.set_budget); at most "
            f"{fit:,} images fit ({_size(per_image)} each): ask for fewer maps, seeds, wavelengths or positions, "
            "or run them in parts")


def series_images(seeds: Any, wavelengths: Any, baseline: Any) -> int | None:
    """Images a :func:`~.run.series` call will grow, from its raw arguments (None if they are malformed:
    the series' own checks then say why), so a count like 10⁹ seeds is refused before any list is made."""
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, (bool, np.bool_)):
        count = int(seeds)
    elif isinstance(seeds, (Sequence, np.ndarray)) and not isinstance(seeds, (str, bytes)):
        count = len(seeds)
    else:
        return None
    if isinstance(wavelengths, (str, bytes)):
        return None
    lengths = 1 if np.isscalar(wavelengths) else len(wavelengths) if hasattr(wavelengths, "__len__") else None
    if lengths is None or count < 1:
        return None
    return count * lengths * (2 if baseline else 1)
