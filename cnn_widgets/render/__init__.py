"""Arrays → pictures: colour maps and grey levels (:mod:`.colour`), mosaics of maps
(:mod:`.mosaic`), and the encoders every view, export and command share (:mod:`.encode`).

Nothing here imports TensorFlow or ipywidgets.
"""

from .colour import COLORMAPS, GAP, MAX_CONTRAST, check_contrast, finite_values, palette, scale, stretch
from .encode import (MAX_SIDE, MAX_ZOOM, animated_gif, grey_frame, grey_png, image_png, palette_image, rgb_png,
                     to_png)
from .mosaic import MAX_GAP, Mosaic, default_columns, mosaic

__all__ = ["COLORMAPS", "GAP", "MAX_CONTRAST", "MAX_GAP", "MAX_SIDE", "MAX_ZOOM", "Mosaic", "animated_gif",
           "check_contrast", "default_columns", "finite_values", "grey_frame", "grey_png", "image_png", "mosaic",
           "palette", "palette_image", "rgb_png", "scale", "stretch", "to_png"]
