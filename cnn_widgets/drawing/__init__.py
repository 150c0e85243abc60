"""From the pen to the image the network gets: strokes rasterised (:mod:`.ink`), then
cropped, fitted and centred the way MNIST was made (:mod:`.preprocess`)."""

from .ink import Ink
from .preprocess import to_mnist

__all__ = ["Ink", "to_mnist"]
