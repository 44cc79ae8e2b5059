"""Overhead of nd.watch: training-step time with the monitor against without it, torch and Keras.

One run, CPU. The same model trains on the same batches without a monitor, with the default
schedule (every 10th step recorded, tier "full") and recording every step; blocks are interleaved
(plain, default, every step, plain, ...) so that load from other processes hits all of them alike.
Goals from issue 7: <= 1.05x at the default schedule, <= 1.5x recording every step (Cockpit's
cheapest configuration costs 1.5x; wandb.watch users report 2-2.6x).

    PYTHONPATH=. python benchmarks/bench_watch.py [--steps 60] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def torch_overhead(steps: int, rounds: int, depth: int, width: int):
    import torch
    import torch.nn as nn

    import nbdebug as nd

    torch.manual_seed(0)
    layers = [nn.Conv2d(3, width, 3, padding=1), nn.ReLU()]
    for i in range(depth - 2):
        if i == (depth - 2) // 2:
            layers.append(nn.MaxPool2d(2))
        layers += [nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.normal(size=(64, 3, 16, 16)).astype("float32"))
    y = torch.as_tensor(rng.integers(0, 10, 64))

    def run(n, flow=None):
        start = time.perf_counter()
        for _ in range(n):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            if flow is not None:
                flow.log(loss=loss)
        return (time.perf_counter() - start) / n

    run(5)
    times = {"plain": [], "default": [], "every step": []}
    for _ in range(rounds):
        times["plain"].append(run(steps))
        with nd.watch(model) as flow:           # default schedule: every=10
            times["default"].append(run(steps, flow))
        with nd.watch(model, every=1) as flow:
            times["every step"].append(run(steps, flow))
    return {k: float(np.median(v)) for k, v in times.items()}


def keras_overhead(steps: int, rounds: int, depth: int, width: int):
    import keras
    from keras import layers

    import nbdebug as nd

    keras.utils.set_random_seed(0)
    inp = keras.Input((16, 16, 3))
    x = layers.Conv2D(width, 3, padding="same", activation="relu")(inp)
    for i in range(depth - 2):
        if i == (depth - 2) // 2:
            x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(width, 3, padding="same")(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    out = layers.Dense(10)(layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    n = 64 * steps
    data_x = rng.normal(size=(n, 16, 16, 3)).astype("float32")
    data_y = rng.integers(0, 10, n)

    class Start(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.t = time.perf_counter()

    class End(keras.callbacks.Callback):
        def __init__(self, start):
            super().__init__()
            self.start, self.times = start, []

        def on_train_batch_end(self, batch, logs=None):
            self.times.append(time.perf_counter() - self.start.t)

    def run(flow=None):
        start = Start()
        end = End(start)
        callbacks = [start] + ([flow] if flow is not None else []) + [end]
        model.fit(data_x, data_y, batch_size=64, epochs=2, verbose=0, shuffle=False, callbacks=callbacks)
        # steady state: the second epoch (the recording function is traced in the first)
        return float(np.mean(end.times[steps:]))

    run()
    times = {"plain": [], "default": [], "every step": []}
    for _ in range(rounds):
        times["plain"].append(run())
        times["default"].append(run(nd.watch(model)))
        times["every step"].append(run(nd.watch(model, every=1)))
    return {k: float(np.median(v)) for k, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--depth", type=int, default=12)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--skip-keras", action="store_true")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="intra-op threads for torch (1: small models on a shared machine are not "
                             "slowed down by OpenMP oversubscription, which would swamp the ratio)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.torch_threads)
    results = {"torch": torch_overhead(args.steps, args.rounds, args.depth, args.width)}
    if not args.skip_keras:
        results["keras"] = keras_overhead(args.steps, args.rounds, args.depth, args.width)
    parts = []
    for framework, t in results.items():
        parts.append(f"{framework}: plain {t['plain'] * 1e3:.1f} ms/step, default schedule "
                     f"{t['default'] / t['plain']:.2f}x (goal <= 1.05x), every step "
                     f"{t['every step'] / t['plain']:.2f}x (goal <= 1.5x)")
    print(f"nd.watch overhead, CPU, {args.depth}-layer CNN width {args.width}, batch 64, 16x16: " + "; ".join(parts))


if __name__ == "__main__":
    main()
