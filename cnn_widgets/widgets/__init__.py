"""The widgets. None of them imports TensorFlow: they talk to a model wrapper."""

from .dense_view import DenseView
from .digit_pad import DigitPad
from .fcp_compare import FCPCompare
from .filter_gallery import FilterGallery, ReceptiveField
from .map_grid import MapGrid
from .oip_explorer import OIPExplorer
from .probability_bars import ProbabilityBars
from .training_lab import TrainingLab

__all__ = ["DigitPad", "MapGrid", "DenseView", "ProbabilityBars", "OIPExplorer", "FCPCompare",
           "FilterGallery", "ReceptiveField", "TrainingLab"]
