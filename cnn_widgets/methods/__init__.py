"""The methods: NumPy in, result objects out, TensorFlow only through the model.

- :mod:`.oip` — original input patterns grown by gradient ascent (atlas, series, node sweeps);
- :mod:`.fcp` — class patterns of a layer compared (Cohen's d per map and node);
- :mod:`.decode` — filters decoded into image space by substitution; :mod:`.decode_checks` — its checks
  (Table 1, Fig. 4d) beside their chance levels;
- :mod:`.statistics` — per-image peaks and means of a layer's maps over a data set (kept per model version);
- :mod:`.cells` — one cell's arithmetic, redone in NumPy;
- :mod:`.saliency` — "A rather than B": SmoothGrad and occlusion;
- :mod:`.confusion` — the confusion matrix and its images;
- :mod:`.shapes` — seed 004: filters trained on one image take its shape;
- :mod:`.matching` — seed 002: filters of two runs paired by correlation.

Nothing here imports ipywidgets.
"""

from .cells import explain_cell
from .confusion import confusion_matrix
from .decode import decode_filters, decoded_top_images, raw_kernels, response_error, responses, top_images
from .decode_checks import decoding_table, top_image_overlap
from .fcp import class_patterns, compare_classes
from .matching import match_filters
from .oip import OIPSettings, consistency, node_sweep, optimize, series
from .saliency import saliency
from .shapes import filters_take_shape

__all__ = ["OIPSettings", "class_patterns", "compare_classes", "confusion_matrix", "consistency", "decode_filters",
           "decoded_top_images", "decoding_table", "explain_cell", "filters_take_shape", "match_filters", "node_sweep",
           "optimize", "raw_kernels", "response_error", "responses", "saliency", "series", "top_image_overlap",
           "top_images"]
