"""Benchmark of the OIP engine (issue: OIP).

In one run on the embedded model: the atlas of all 128 conv3 maps × 100 steps
through ``cnn_widgets.oip.optimize`` (one batch, one compiled step), against an
eager per-map ``tf.GradientTape`` loop doing the same ascent from the same start
noise (a few maps timed, scaled per map). Prints time per map, the ratio, and
the mean final objective of both on the maps they share.

Run: ``python benchmarks/bench_oip.py [--eager-maps 4]``
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--eager-maps", type=int, default=4)
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from cnn_widgets import CNNModel
    from cnn_widgets.oip import optimize

    model = CNNModel.default()
    optimize(model, "conv3", [0, 1], steps=2)  # trace the compiled step once
    optimize(model, "conv3", steps=2)
    start = time.perf_counter()
    atlas = optimize(model, "conv3", steps=args.steps, seed=0)
    atlas_s = time.perf_counter() - start

    # The eager loop: same start images (the atlas' first frame), same ascent.
    net = model.keras_model
    head = keras.Model(net.inputs[0], net.get_layer("conv3").output)
    low = model.standardize(np.zeros(1, np.float32))
    high = model.standardize(np.ones(1, np.float32))
    alive = [i for i, m in enumerate(atlas.maps) if int(m) not in atlas.dead]
    picked = alive[: args.eager_maps]
    finals = []
    start = time.perf_counter()
    for position in picked:
        map_index = int(atlas.maps[position])
        x = tf.Variable(model.standardize(atlas.frames[0][position:position + 1]))
        for _ in range(args.steps):
            with tf.GradientTape() as tape:
                value = tf.reduce_mean(head(x)[..., map_index])
            grad = tape.gradient(value, x)
            grad = grad / (tf.sqrt(tf.reduce_mean(tf.square(grad))) + 1e-8)
            x.assign(tf.clip_by_value(x + 0.05 * grad, low, high))
        finals.append(float(tf.reduce_mean(head(x)[..., map_index])))
    eager_per_map = (time.perf_counter() - start) / len(picked)

    per_map = atlas_s / len(atlas.maps)
    ours = float(np.mean(atlas.history[-1][picked]))
    print(f"OIP atlas, conv3, {len(atlas.maps)} maps × {args.steps} steps, embedded model, this machine")
    print(f"  optimize (batched, compiled)  {atlas_s:6.2f} s   {per_map * 1000:7.1f} ms per map")
    print(f"  eager GradientTape per map    {eager_per_map * len(atlas.maps):6.2f} s   "
          f"{eager_per_map * 1000:7.1f} ms per map  (timed on {len(picked)} maps, scaled)")
    print(f"  speed-up per map              {eager_per_map / per_map:6.1f}×")
    print(f"  mean final objective on those {len(picked)} maps: optimize {ours:.3f}, eager {np.mean(finals):.3f}")
    print(f"  maps revived by longer wavelengths {len(atlas.rescued)}, dead on every noise {len(atlas.dead)}")


if __name__ == "__main__":
    main()
