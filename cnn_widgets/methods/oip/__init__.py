"""OIPs — "original input patterns": grow, out of noise, the input a map reacts to most.

The method of the seed (A simple CNN for MNIST, parts VII–VIII): start from random
noise with fluctuations on a chosen length scale (*wavelength*), then change the
input by gradient ascent until the chosen map's mean activation (or one of its
nodes) is as large as it gets:

* the gradient of the objective with respect to the (standardised) input is
  divided by its root mean square, so every step moves the image by about
  ``step_size`` per pixel;
* after each step the image is projected back into the pixel range [0, 1]
  (projected gradient ascent), so an OIP is an image the network could be shown;
* ``restandardize=True`` adds the seed's re-standardisation before that
  projection (each image back to mean 0, std 1 after standardisation);
* every ``blur_every`` steps a Gaussian blur of ``blur_sigma`` px damps the highest
  spatial frequencies, which otherwise lead the ascent into side maxima.

Every image of a run is one *item*: a map, an objective (the map's mean, or one
node) and a start (seed, wavelength). All items of a run go through one compiled
loop in one batch, so an atlas of 128 maps, a series of 8 seeds × 4 wavelengths of
one map (:func:`series`) and the node OIPs of every position of a map
(:func:`node_sweep`) each cost one batched call. Noise for an item is drawn from
``(seed, map)``: a map's result does not depend on which other items run beside it.

**No live map left dead.** A map whose activation and gradient are zero on its
noise gets noise of longer wavelengths first; if it is still dead it ascends, in
the same batched loop, on its *pre-activation* (the convolution's output before
its ReLU, for a conv layer or a max-pooling layer over one) until it fires, then
on the usual objective; and, when real ``images`` are given, one that has not fired
after a quarter of the steps starts again from the image it fires on most. Maps
still dead after that have no pattern: pictures draw them as a cross, never as
their start noise. With images, the maps that fire on none of them are listed
(:attr:`OIPResult.silent`) and marked with a corner triangle. A tile that started
from a real image is framed, and its result keeps the start image, the objective
there, the gain and its likeness to the start (:meth:`OIPResult.rescue_note`): on
the embedded model such tiles are still the digit, so they are never passed off as
a grown pattern (:mod:`.marks`). A node OIP is greyed outside its receptive field
(:attr:`OIPResult.fields`) and the field outlined.

:func:`consistency` measures how stable a pattern is: the mean pairwise
correlation of OIPs grown from different seeds, each pair at its best shift within
±4 px (1 for identical images or shifted copies); a series shows it beside the same
score for other maps, and with blur, beside the objective the blur cost.

The modules, one concept each: :mod:`.settings` (:class:`OIPSettings` and the checks),
:mod:`.noise` (start images), :mod:`.heads` and :mod:`.engine` (the compiled side),
:mod:`.rescue`, :mod:`.batch` (one run, step by step), :mod:`.run` (the three public
runs), :mod:`.results`, :mod:`.marks`, :mod:`.pictures`, :mod:`.consistency`, :mod:`.callbacks`.
"""

from .callbacks import OIPCallback, ProgressBar, ReportProgress, ThrottledPreview
from .consistency import consistency
from .noise import wavelength_noise
from .pictures import pattern_picture
from .results import NodeSweep, OIPResult, OIPSeries
from .run import node_sweep, optimize, series
from .settings import OIPSettings

__all__ = ["NodeSweep", "OIPCallback", "OIPResult", "OIPSeries", "OIPSettings", "ProgressBar", "ReportProgress",
           "ThrottledPreview", "consistency", "node_sweep", "optimize", "pattern_picture", "series",
           "wavelength_noise"]
