"""Benchmark of the OIP engine (issues 15 and 18).

In one run on the embedded model, conv3 (the load average is printed before and after:
the machine's other work changes every figure, the ratios within one run less so):

1. **Maps revived**: how many of the 128 maps are dead on their first noise, how
   many stay dead after longer wavelengths alone (the old rescue), after the
   pre-activation ascent and the data start (the new one), and how many fire on
   at least one of the 10,000 shipped test digits; of those, how many get an OIP
   with positive activation.
2. **Series**: one map from 8 seeds × 4 wavelengths in one batched call (time),
   against the same 32 images grown one ``optimize`` call at a time; the
   consistency score per wavelength beside its shuffled-map baseline.
3. **Atlas against a baseline**: all 128 maps × 100 steps through ``optimize``
   (one batch, one compiled step) against tf-keras-vis' ActivationMaximization
   (when installed: ``pip install tf-keras-vis``) and against an eager per-map
   ``tf.GradientTape`` loop, from the same start images, all kept in the pixel
   box; a few maps timed for the baselines and scaled per map. Prints time per
   map, the ratios and the mean final activation on the shared maps; then the 128-map
   runs again in interleaved rounds (the best of each and every round's ratios).
4. **Where a step goes**: forward and backward through the layers under conv3 for 128
   images (Keras), one compiled ascent step of the engine, and ``optimize`` per step
   (rescue, frames and all).
5. **Widget atlas**: OIPExplorer in atlas mode (128 maps, 100 steps, a frame every 2nd
   step, live pictures at most 10 a second, the test digits for the rescue) against
   ``optimize`` with the same settings and images; how many live pictures it drew.

Times are wall-clock on this machine (shared CPUs vary: the ratios within one run
are the figures to quote).

Run: ``python benchmarks/bench_oip.py [--baseline-maps 8] [--repeats 3] [--skip-baselines]``
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--baseline-maps", type=int, default=8)
    parser.add_argument("--map", type=int, default=17, help="the map of the series")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds of the 128-map atlases")
    parser.add_argument("--skip-baselines", action="store_true",
                        help="leave out every layer, the series, tf-keras-vis one map a call and the eager loop")
    args = parser.parse_args()
    print(f"load average {_load()} (before)")

    from cnn_widgets import CNNModel  # first: it imports TensorFlow without its C++ start-up lines
    from cnn_widgets.data.mnist import mnist_test_split
    from cnn_widgets.methods.oip import optimize, series
    from cnn_widgets.methods.statistics import layer_statistics

    import numpy as np

    model = CNNModel.default()
    digits = mnist_test_split()[0]
    steps = args.steps
    optimize(model, "conv3", [0, 1], steps=2)  # trace the compiled step once
    optimize(model, "conv3", steps=2)

    # 1. maps revived -------------------------------------------------------------
    peaks, _ = layer_statistics(model, "conv3", digits)
    fires = peaks.max(axis=0) > 0
    cpu = time.process_time()
    atlas, atlas_s = _timed(optimize, model, "conv3", steps=steps, seed=0)
    atlas_cpu = time.process_time() - cpu
    with_data, data_s = _timed(optimize, model, "conv3", steps=steps, seed=0, images=digits)
    revival = np.asarray(with_data.revival)
    first_dead = int(np.sum(revival != ""))
    after_wavelengths = int(np.sum(np.isin(revival, ["pre-activation", "data", "dead"])))
    positive = with_data.history[-1] > 0
    print(f"Maps revived: conv3, 128 maps × {steps} steps, seed 0, embedded model")
    print(f"  dead on their first noise (λ 7)                     {first_dead:4d}")
    print(f"  still dead after longer wavelengths (old rescue)     {after_wavelengths:4d}")
    print(f"  revived by the pre-activation ascent                 {int(np.sum(revival == 'pre-activation')):4d}")
    print(f"  revived from a test digit                            {int(np.sum(revival == 'data')):4d}")
    print(f"  still dead now                                       {len(with_data.dead):4d}  {with_data.dead}")
    print(f"  fire on ≥ 1 of the {len(digits):,} test digits             {int(fires.sum()):4d}")
    print(f"  of those, with an OIP of positive activation         {int(np.sum(positive & fires)):4d}")
    print(f"  never fire on a digit (marked in the atlas)          {len(with_data.silent):4d}  {with_data.silent}")
    print(f"  time: atlas {atlas_s:.2f} s without data, {data_s:.2f} s with the data rescue "
          "(statistics of the 10,000 digits kept per model version)")

    print("  every layer (100 steps, seed 0, with the data rescue):")
    for layer in ([] if args.skip_baselines else model.spatial_layers):
        grown = optimize(model, layer, steps=steps, seed=0, images=digits)
        live_on_data = layer_statistics(model, layer, digits)[0].max(axis=0) > 0
        ways = {how: grown.revival.count(how) for how in ("wavelength", "pre-activation", "data")}
        print(f"    {layer:6s} {len(grown.maps):3d} maps: fire on data {int(live_on_data.sum()):3d}, of those with a "
              f"positive OIP {int(np.sum((grown.history[-1] > 0) & live_on_data)):3d}; revived {ways}; "
              f"no pattern {grown.dead}")

    # 2. series -------------------------------------------------------------------
    if not args.skip_baselines:
        _series(model, args.map, steps, optimize, series)
    _atlas_against_baselines(model, atlas, atlas_s, atlas_cpu, digits, data_s, steps,
                             0 if args.skip_baselines else args.baseline_maps, args.repeats)
    _step(model, atlas_s, steps)
    _widget(model, digits, steps)
    print(f"\nload average {_load()} (after)")


def _series(model, map_index, steps, optimize, series) -> None:
    import time

    seeds, lengths = list(range(8)), [2.0, 4.0, 7.0, 14.0]
    series(model, "conv3", map_index, seeds=2, wavelengths=[7.0], steps=2)
    found, series_s = _timed(series, model, "conv3", map_index, seeds=seeds, wavelengths=lengths, steps=steps)
    start = time.perf_counter()
    for length in lengths:
        for seed in seeds:
            optimize(model, "conv3", [map_index], steps=steps, seed=seed, wavelength=length)
    one_by_one = time.perf_counter() - start
    print(f"\nSeries: conv3 map {map_index}, 8 seeds × 4 wavelengths × {steps} steps, one batched call "
          f"(+ 32 baseline images of other maps)")
    print(f"  series()                 {series_s:6.2f} s")
    print(f"  32 optimize() calls      {one_by_one:6.2f} s   → {one_by_one / series_s:.1f}× slower (no baseline)")
    for line in found.summary():
        print(f"  {line}")



def _atlas_against_baselines(model, atlas, atlas_s, atlas_cpu, images, data_s, steps, baseline_maps,
                             repeats) -> None:
    """3. The atlas against tf-keras-vis and an eager loop, from the same start images."""
    import time

    import keras
    import numpy as np
    import tensorflow as tf

    net = model.keras_model
    head = keras.Model(net.inputs[0], net.get_layer("conv3").output)
    low = float(model.standardize(np.zeros(1, np.float32))[0])
    high = float(model.standardize(np.ones(1, np.float32))[0])
    alive = [i for i in range(128) if atlas.revival[i] == ""]  # the same start noise for every method
    picked = alive[:baseline_maps]
    per_map = atlas_s / len(atlas.maps)
    ours = float(np.mean(atlas.history[-1][picked or alive]))
    print(f"\nAtlas: conv3, 128 maps × {steps} steps; one-map baselines timed on {len(picked)} maps and scaled "
          "per map, same start images, all kept in the pixel box")
    print(f"  optimize (batched, compiled)   {atlas_s:6.2f} s   {per_map * 1000:7.1f} ms per map   "
          f"mean activation {ours:.3f}")

    try:
        from tf_keras_vis.activation_maximization import ActivationMaximization
    except ImportError as error:
        print(f"  tf-keras-vis                   not installed ({error}); pip install tf-keras-vis")
    else:
        import tf_keras_vis

        import warnings

        warnings.filterwarnings("ignore", message="The structure of `inputs`")
        maximize = ActivationMaximization(head, clone=False)
        if picked:  # one map a call (long: --skip-baselines leaves it out)
            finals, spent = [], 0.0
            for position in picked:
                map_index = int(atlas.maps[position])
                seed = model.standardize(atlas.frames[0][position:position + 1])

                def score(output, m=map_index):
                    return tf.reduce_mean(output[..., m], axis=(1, 2))

                maximize(score, seed_input=seed, steps=2, input_range=(low, high), input_modifiers=[],
                         regularizers=[])  # trace
                start = time.perf_counter()
                grown = maximize(score, seed_input=seed, steps=steps, input_range=(low, high), input_modifiers=[],
                                 regularizers=[])
                spent += time.perf_counter() - start
                image = np.clip(model.unstandardize(np.asarray(grown)), 0.0, 1.0)
                finals.append(float(model.activations(image, "conv3")["conv3"][0, ..., map_index].mean()))
            theirs = spent / len(picked)
            print(f"  tf-keras-vis {tf_keras_vis.__version__}, one map a call {theirs * 128:6.2f} s   "
                  f"{theirs * 1000:7.1f} ms per map"
                  f"   mean activation {np.mean(finals):.3f}")
            print(f"  → optimize is {theirs / per_map:.1f}× faster per map and reaches "
                  f"{ours / max(np.mean(finals), 1e-9):.2f}× its mean activation (its default RMSprop, "
                  "no jitter/regularisers)")

        # tf-keras-vis at its fastest: all 128 maps in one call, each image scored on its own map
        own = tf.constant(np.eye(128, dtype=np.float32)[atlas.maps])
        seeds = model.standardize(atlas.frames[0])

        def batched(output):
            return tf.reduce_sum(tf.reduce_mean(output, axis=(1, 2)) * own, axis=1)

        maximize(batched, seed_input=seeds, steps=2, input_range=(low, high), input_modifiers=[], regularizers=[])
        start, cpu = time.perf_counter(), time.process_time()
        grown = maximize(batched, seed_input=seeds, steps=steps, input_range=(low, high), input_modifiers=[],
                         regularizers=[])
        batch_s, batch_cpu = time.perf_counter() - start, time.process_time() - cpu
        images = np.clip(model.unstandardize(np.asarray(grown)), 0.0, 1.0)
        reached = model.activations(images, "conv3")["conv3"].mean(axis=(1, 2))[np.arange(128), atlas.maps]
        theirs_all = float(np.mean(reached[alive]))
        ours_all = float(np.mean(atlas.history[-1][alive]))
        print(f"  tf-keras-vis, 128 maps a call  {batch_s:6.2f} s   {batch_s / 128 * 1000:7.1f} ms per map   "
              f"mean activation {theirs_all:.3f} (on the {len(alive)} maps alive on their noise)")
        print(f"  → optimize is {batch_s / atlas_s:.1f}× faster per map ({batch_cpu / atlas_cpu:.1f}× in CPU time: "
              f"{atlas_cpu:.2f} s against {batch_cpu:.2f} s) and reaches "
              f"{ours_all / max(theirs_all, 1e-9):.2f}× its mean activation ({ours_all:.3f}) on those maps")
        print(f"  → with the rescue from the test digits too ({data_s:.2f} s): {batch_s / data_s:.1f}× faster")

        # and with its default input modifiers and regularisers (jitter, rotation, total variation, norm)
        maximize(batched, seed_input=seeds, steps=2, input_range=(low, high))
        start, cpu = time.perf_counter(), time.process_time()
        grown = maximize(batched, seed_input=seeds, steps=steps, input_range=(low, high))
        default_s, default_cpu = time.perf_counter() - start, time.process_time() - cpu
        images = np.clip(model.unstandardize(np.asarray(grown)), 0.0, 1.0)
        reached = model.activations(images, "conv3")["conv3"].mean(axis=(1, 2))[np.arange(128), atlas.maps]
        theirs_default = float(np.mean(reached[alive]))
        print(f"  tf-keras-vis, 128 maps, its defaults {default_s:6.2f} s   {default_s / 128 * 1000:7.1f} ms per map   "
              f"mean activation {theirs_default:.3f}")
        print(f"  → optimize is {default_s / atlas_s:.1f}× faster per map ({default_cpu / atlas_cpu:.1f}× in CPU "
              "time) "
              f"and reaches {ours_all / max(theirs_default, 1e-9):.2f}× its mean activation; "
              f"with the rescue from the test digits too: {default_s / data_s:.1f}×")

        # the same four runs again, interleaved, so that the machine's other work falls on all of them
        from cnn_widgets.methods.oip import optimize

        print(f"  interleaved, {repeats} rounds (s): optimize | with the digits | tf-keras-vis 128 a call | "
              "its defaults")
        rounds = []
        for _ in range(repeats):
            times = [_timed(optimize, model, "conv3", steps=steps, seed=0)[1],
                     _timed(optimize, model, "conv3", steps=steps, seed=0, images=images)[1],
                     _timed(maximize, batched, seed_input=seeds, steps=steps, input_range=(low, high),
                            input_modifiers=[], regularizers=[])[1],
                     _timed(maximize, batched, seed_input=seeds, steps=steps, input_range=(low, high))[1]]
            rounds.append(times)
            print("    " + " | ".join(f"{t:6.2f}" for t in times) + f"   ratios {times[2] / times[0]:.1f}× "
                  f"({times[2] / times[1]:.1f}× with the digits), defaults {times[3] / times[0]:.1f}× "
                  f"({times[3] / times[1]:.1f}×); load {_load()}")
        best = np.min(np.asarray(rounds), axis=0)
        print(f"  → best of each: optimize {best[0]:.2f} s ({best[1]:.2f} s with the digits), tf-keras-vis "
              f"{best[2]:.2f} s, its defaults {best[3]:.2f} s: {best[2] / best[0]:.1f}× "
              f"({best[2] / best[1]:.1f}× with "
              f"the digits) and {best[3] / best[0]:.1f}× ({best[3] / best[1]:.1f}×)")

    if not picked:
        return
    finals, start = [], time.perf_counter()
    for position in picked:
        map_index = int(atlas.maps[position])
        x = tf.Variable(model.standardize(atlas.frames[0][position:position + 1]))
        for _ in range(steps):
            with tf.GradientTape() as tape:
                value = tf.reduce_mean(head(x)[..., map_index])
            grad = tape.gradient(value, x)
            grad = grad / (tf.sqrt(tf.reduce_mean(tf.square(grad))) + 1e-8)
            x.assign(tf.clip_by_value(x + 0.05 * grad, low, high))
        finals.append(float(tf.reduce_mean(head(x)[..., map_index])))
    eager = (time.perf_counter() - start) / len(picked)
    print(f"  eager GradientTape per map     {eager * 128:6.2f} s   {eager * 1000:7.1f} ms per map   "
          f"mean activation {np.mean(finals):.3f}")
    print(f"  → optimize is {eager / per_map:.1f}× faster per map than the eager loop (same ascent)")


def _step(model, atlas_s: float, steps: int) -> None:
    """4. Where a step goes: the layers under conv3 alone, one engine step, optimize per step."""
    import time

    import keras
    import numpy as np
    import tensorflow as tf

    from cnn_widgets.methods.oip.engine import engine, masks_for

    net = model.keras_model
    below = keras.Model(net.inputs[0], net.get_layer("conv3").input)
    x = tf.constant(np.clip(np.random.default_rng(0).standard_normal((128, 28, 28, 1)), -0.4, 2.8).astype(np.float32))

    @tf.function(autograph=False)
    def forward_backward(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(tf.square(below(x, training=False)))
        return tape.gradient(total, x)

    compiled = engine(model, "conv3", False)
    maps = tf.constant(np.arange(128, dtype=np.int32))
    masks = tf.constant(masks_for(np.full((128, 2), -1, np.int32), 3, 3))
    flags, counts, epsilon = tf.zeros(128, tf.bool), tf.zeros(128, tf.int32), tf.constant(0.05)

    def one_step():
        return compiled._ascend(x, maps, masks, flags, counts, flags, flags, epsilon)[0]

    def best_of(call, repeats=5, calls=10):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                out = call()
            out.numpy()
            times.append((time.perf_counter() - start) / calls)
        return min(times) * 1000

    forward_backward(x), one_step()
    print("\nWhere a step goes (128 images, best of 5 × 10 calls):")
    print(f"  Keras conv1..pool2 forward + backward, all maps       {best_of(lambda: forward_backward(x)):6.1f} ms")
    print(f"  engine step (own map of conv3, cut borders, …)        {best_of(one_step):6.1f} ms")
    print(f"  optimize, per step (rescue, frames, Python)           {atlas_s / steps * 1000:6.1f} ms")


def _widget(model, digits, steps: int) -> None:
    """5. OIPExplorer's atlas against optimize with the same settings and images."""
    import time

    from cnn_widgets.methods.oip import OIPSettings, optimize
    from cnn_widgets.session import Session
    from cnn_widgets.widgets import OIPExplorer

    with Session(model) as session:
        explorer = OIPExplorer(session, "conv3")
        explorer.mode = "atlas"
        explorer.steps.value = 5
        explorer.run(wait=True)  # traced once
        explorer.steps.value = steps
        drawn = []
        explorer.plain.observe(lambda change: drawn.append(change["new"]), "value")
        start = time.perf_counter()
        explorer.run(wait=True)
        widget_s = time.perf_counter() - start
        session.worker.wait()
        frames = len(explorer.result.frames)
        images = session.data.test_set.images
    settings = OIPSettings(steps=steps, frame_every=max(1, steps // 40))
    _, api_s = _timed(optimize, model, "conv3", settings=settings, images=images)
    print(f"\nWidget atlas: OIPExplorer, conv3, 128 maps × {steps} steps, {frames} frames, "
          f"{len(images):,} test images for the rescue")
    print(f"  OIPExplorer.run              {widget_s:6.2f} s   ({len(drawn)} pictures drawn: live ones at most 10 a "
          "second, and the last frame)")
    print(f"  optimize, same settings      {api_s:6.2f} s   → the widget takes {widget_s / api_s:.2f}× as long")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
