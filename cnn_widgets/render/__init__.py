"""Arrays → pictures: colour maps and grey levels (:mod:`.colour`), mosaics of maps
(:mod:`.mosaic`), the encoders every view, export and command share (:mod:`.encode`), and
pictures with their title, axes, indices and legend (:mod:`.figure`): every export is labelled.

Nothing here imports TensorFlow or ipywidgets.
"""

from .colour import (COLORMAPS, DEFAULT_COLORMAP, GAP, MAX_CONTRAST, check_contrast, finite_values, palette, scale,
                     stretch)
from .encode import (MAX_SIDE, MAX_ZOOM, animated_gif, grey_frame, grey_png, image_png, palette_image, rgb_png,
                     to_png)
from .figure import Grid, Labels, labelled_gif, labelled_indices, labelled_png, png_text
from .mosaic import MAX_GAP, Mosaic, default_columns, mosaic
from .placeholder import placeholder_png

__all__ = ["COLORMAPS", "DEFAULT_COLORMAP", "GAP", "MAX_CONTRAST", "MAX_GAP", "MAX_SIDE", "MAX_ZOOM", "Grid",
           "Labels", "Mosaic", "animated_gif", "check_contrast", "default_columns", "finite_values", "grey_frame",
           "grey_png", "image_png", "labelled_gif", "labelled_indices", "labelled_png", "mosaic", "palette",
           "palette_image", "placeholder_png", "png_text", "rgb_png", "scale", "stretch", "to_png"]
