"""Layers grouped into blocks, so the grids of a big model are shown a block at a time.

Big CNNs name their layers by block: ``block_3_expand``, ``block_3_depthwise_BN``
(MobileNetV2), ``conv2_block1_1_conv`` (ResNet), ``stage2/…``. :func:`layer_blocks`
groups layers whose names share such a block prefix (``block_3``, ``conv2_block1``);
the layers in between without one (``Conv1``, ``bn_Conv1``, ``out_relu``) are grouped
in order, at most ``size`` a group. The order of the layers is kept.
"""

from __future__ import annotations

import re
from typing import Sequence

__all__ = ["layer_blocks"]

_BLOCK = re.compile(r"^(.*?(?:block|stage|layer|res|mixed)_?\d+[a-z]?)(?:[_/.\-]|$)", re.IGNORECASE)


def layer_blocks(names: Sequence[str], size: int = 8) -> list[tuple[str, list[str]]]:
    """``(title, layers)`` per block, in the layers' order.

    Args:
        names: Layer names in order (e.g. ``model.spatial_layers``).
        size: Most layers in a group of layers without a block name (≥ 1).

    Returns:
        One entry per block: a block's own prefix as its title (``"block_3"``), or
        ``"first – last"`` for a group of unnamed ones.

    Raises:
        ValueError: ``size`` < 1.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a whole number ≥ 1 (layers a group); got {size!r}")
    groups: list[tuple[str | None, list[str]]] = []
    for name in names:
        found = _BLOCK.match(name)
        key = found.group(1) if found else None
        last_key, last = groups[-1] if groups else (None, [])
        if groups and key == last_key and (key is not None or len(last) < size):
            last.append(name)
        else:
            groups.append((key, [name]))
    return [(key if key is not None else (f"{layers[0]} – {layers[-1]}" if len(layers) > 1 else layers[0]), layers)
            for key, layers in groups]
