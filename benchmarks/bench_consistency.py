"""Benchmark of OIP consistency (issue 19, part 4): does the score tell a stable pattern from chance?

For every conv3 map of the embedded model that fires on the MNIST test digits, one
:func:`cnn_widgets.methods.oip.series` (the product's path: N seeds × the wavelengths, with
its other-maps baseline) is grown, and the share of maps whose same-map consistency exceeds
its other-maps baseline is printed — shift-tolerant (±4 px, the product's score) and plain
(no shift) from the same images. Target: ≥ 90 % with the shift-tolerant score.

Then, for a few maps, what blur costs: the objective with blur σ 1 every 5 steps beside the
same starts without blur, and the consistency of both.

Run: ``python benchmarks/bench_consistency.py [--seeds 6] [--steps 100] [--wavelengths 4]``
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load() -> str:
    """The load average, for every figure printed (a shared 2-core machine)."""
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--wavelengths", type=float, nargs="+", default=[4.0])
    parser.add_argument("--layer", default="conv3")
    parser.add_argument("--maps", type=int, default=0, help="only the first N firing maps (0: all)")
    args = parser.parse_args()

    from cnn_widgets import CNNModel  # first: it imports TensorFlow without its C++ start-up lines
    from cnn_widgets.data.mnist import mnist_test_split
    from cnn_widgets.methods.oip import series
    from cnn_widgets.methods.oip.consistency import alive_consistency
    from cnn_widgets.methods.statistics import layer_statistics

    import numpy as np

    model = CNNModel.default()
    digits = mnist_test_split()[0]
    peaks, _ = layer_statistics(model, args.layer, digits)
    firing = np.flatnonzero(peaks.max(axis=0) > 0)
    if args.maps:
        firing = firing[:args.maps]
    count = int(model.layer(args.layer).output_shape[-1])
    print(f"{args.layer}: {len(firing)} of {count} maps fire on the {len(digits):,} test digits; a series per map: "
          f"{args.seeds} seeds × wavelengths {args.wavelengths}, {args.steps} steps, with the other-maps baseline")
    start = time.perf_counter()
    shifted_wins, plain_wins, rows = [], [], []
    for map_index in firing:
        found = series(model, args.layer, int(map_index), seeds=args.seeds, wavelengths=args.wavelengths,
                       steps=args.steps, images=digits)
        m, n = len(found.wavelengths), len(found.seeds)
        own = found.images
        other = found.result.images[m * n:].reshape(own.shape)
        alive_own = found.alive
        alive_other = found.result.alive[m * n:].reshape(m, n)
        plain = np.asarray([alive_consistency(own[r], alive_own[r], 0) for r in range(m)])
        plain_base = np.asarray([alive_consistency(other[r], alive_other[r], 0) for r in range(m)])
        shifted_wins.append(np.nanmean(found.consistency) > np.nanmean(found.baseline))
        plain_wins.append(np.nanmean(plain) > np.nanmean(plain_base))
        rows.append((np.nanmean(found.consistency), np.nanmean(found.baseline), np.nanmean(plain),
                     np.nanmean(plain_base)))
    took = time.perf_counter() - start
    scores = np.asarray(rows)
    print(f"  {len(firing)} series in {took:.1f} s ({load()})")
    print(f"  same map above its other-maps baseline, shift-tolerant ±4 px: {100 * np.mean(shifted_wins):.1f} % "
          f"of the firing maps (target ≥ 90 %); plain correlation: {100 * np.mean(plain_wins):.1f} %")
    print(f"  mean score, shift-tolerant: same map {np.nanmean(scores[:, 0]):.2f} (10–90 %: "
          f"{np.nanpercentile(scores[:, 0], 10):.2f}–{np.nanpercentile(scores[:, 0], 90):.2f}), other maps "
          f"{np.nanmean(scores[:, 1]):.2f}; plain: same map {np.nanmean(scores[:, 2]):.2f}, other maps "
          f"{np.nanmean(scores[:, 3]):.2f}")
    losers = [int(m) for m, won in zip(firing, shifted_wins) if not won]
    print(f"  maps not above their baseline (shift-tolerant): {losers}")

    print(f"what blur costs (σ 1 px every 5 steps), {args.seeds} seeds at λ {args.wavelengths[0]:g}:")
    for map_index in firing[:4]:
        blurred = series(model, args.layer, int(map_index), seeds=args.seeds, wavelengths=args.wavelengths[:1],
                         steps=args.steps, images=digits, blur_every=5, blur_sigma=1.0)
        sharp = series(model, args.layer, int(map_index), seeds=args.seeds, wavelengths=args.wavelengths[:1],
                       steps=args.steps, images=digits)
        print(f"  map {int(map_index):3d}: objective {blurred.objectives.mean():.2f} with blur, "
              f"{blurred.unblurred.mean():.2f} without ({100 * blurred.blur_loss[0]:.0f} % lost); consistency "
              f"{blurred.consistency[0]:.2f} with blur (other maps {blurred.baseline[0]:.2f}), "
              f"{sharp.consistency[0]:.2f} without (other maps {sharp.baseline[0]:.2f})")
    print(f"  ({load()})")


if __name__ == "__main__":
    main()
