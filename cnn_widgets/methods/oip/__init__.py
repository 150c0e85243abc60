"""OIPs — "original input patterns": grow, out of noise, the input a map reacts to most."""

from .run import (NodeSweep, OIPCallbacks, OIPResult, OIPSeries, check_contrast, consistency, layer_statistics,
                  node_sweep, optimize, pattern_picture, series, wavelength_noise)

__all__ = ["NodeSweep", "OIPCallbacks", "OIPResult", "OIPSeries", "check_contrast", "consistency",
           "layer_statistics", "node_sweep", "optimize", "pattern_picture", "series", "wavelength_noise"]
