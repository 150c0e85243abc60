"""The widgets. None of them imports TensorFlow: they talk to a model wrapper."""

from .panels.cell_inspector import CellInspector
from .panels.confusion_browser import ConfusionBrowser
from .live.dense_view import DenseView
from .live.pad import DigitPad
from .panels.fcp_compare import FCPCompare
from .panels.filter_gallery import FilterGallery, ReceptiveField
from .panels.filters_take_shape import FiltersTakeShape
from .live.map_grid import MapGrid
from .panels.oip_explorer import OIPExplorer
from .live.probability_bars import ProbabilityBars
from .panels.saliency_view import SaliencyView
from .panels.training_history import TrainingHistory
from .panels.training_lab import TrainingLab

__all__ = ["DigitPad", "MapGrid", "DenseView", "ProbabilityBars", "OIPExplorer", "FCPCompare",
           "FilterGallery", "ReceptiveField", "TrainingLab", "CellInspector", "ConfusionBrowser", "SaliencyView",
           "FiltersTakeShape", "TrainingHistory"]
