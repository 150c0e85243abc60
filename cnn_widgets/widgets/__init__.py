"""The widgets: views over one session. None of them imports TensorFlow.

- ``live/`` — what follows the drawing: the pad, map grids, the dense view, the
  probabilities, the receptive field;
- ``panels/`` — the dashboard's tabs: OIP, FCP, filters, training, inside a cell,
  mistakes, "A rather than B";
- :class:`Explorer` — a session plus a layout of all of them.
"""

from .live.dense_view import DenseView
from .live.image_source import ImageSource
from .live.map_grid import MapGrid
from .live.pad import DigitPad
from .live.probability_bars import ProbabilityBars
from .panels.cell_inspector import CellInspector
from .panels.confusion_browser import ConfusionBrowser
from .panels.digits_side_by_side import DigitsSideBySide
from .panels.fcp_compare import FCPCompare
from .panels.filter_gallery import FilterGallery, ReceptiveField
from .panels.filters_take_shape import FiltersTakeShape
from .panels.oip_explorer import OIPExplorer
from .panels.saliency_view import SaliencyView
from .panels.training_history import TrainingHistory
from .panels.training_lab import TrainingLab
from .explorer import Explorer  # noqa: E402  (last: it lays out the others)

__all__ = ["CellInspector", "ConfusionBrowser", "DenseView", "DigitPad", "DigitsSideBySide", "Explorer", "FCPCompare", "FilterGallery",
           "FiltersTakeShape", "ImageSource", "MapGrid", "OIPExplorer", "ProbabilityBars", "ReceptiveField", "SaliencyView",
           "TrainingHistory", "TrainingLab"]
