"""The widgets. None of them imports TensorFlow: they talk to a model wrapper."""

from .cell_inspector import CellInspector
from .confusion_browser import ConfusionBrowser
from .dense_view import DenseView
from .digit_pad import DigitPad
from .fcp_compare import FCPCompare
from .filter_gallery import FilterGallery, ReceptiveField
from .filters_take_shape import FiltersTakeShape
from .map_grid import MapGrid
from .oip_explorer import OIPExplorer
from .probability_bars import ProbabilityBars
from .saliency_view import SaliencyView
from .training_history import TrainingHistory
from .training_lab import TrainingLab

__all__ = ["DigitPad", "MapGrid", "DenseView", "ProbabilityBars", "OIPExplorer", "FCPCompare",
           "FilterGallery", "ReceptiveField", "TrainingLab", "CellInspector", "ConfusionBrowser", "SaliencyView",
           "FiltersTakeShape", "TrainingHistory"]
