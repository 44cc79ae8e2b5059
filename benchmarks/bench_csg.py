"""CSG speed and memory: nbdebug.csg against spectral-metric's CumulativeGradientEstimator.

Both get the same embedded inputs (make_blobs features) in the same process, one after the
other, so machine load affects both sides. Run as a script:

    PYTHONPATH=. python benchmarks/bench_csg.py            # the configurations reported
    PYTHONPATH=. python benchmarks/bench_csg.py --quick    # small sizes, a smoke test

Prints a table and one summary line with the speed ratios. Timings are single runs (the
reference takes tens of seconds per fit at n = 50,000); nbdebug's embedding cache plays no
part (the "raw" embedding is never cached).
"""
from __future__ import annotations

import argparse
import gc
import math
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.datasets import make_blobs

import nbdebug as nd


def reference_fit(X, y, k, M):
    from spectral_metric.estimator import CumulativeGradientEstimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CumulativeGradientEstimator(M_sample=M, k_nearest=k).fit(X, y)


def timed(fn):
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def peak_mib(fn):
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = parser.parse_args(argv)
    n = 5_000 if args.quick else 50_000
    # (n, d, K, M, k); M per class, as in the reference (M=None: every sample)
    configs = [
        (n, 64, 10, 100, 3),
        (n, 784, 10, 100, 3),
        (n, 64, 100, 50, 3),
        (n, 784, 100, 50, 3),
        (n, 64, 10, 250, 5),
    ]
    rows, ratios = [], []
    print(f"{'n':>7} {'d':>4} {'K':>4} {'M':>4} {'k':>2} | {'nbdebug s':>9} {'reference s':>11} {'ratio':>6} | "
          f"{'CSG nbdebug':>12} {'CSG reference':>13}")
    for n_, d, K, M, k in configs:
        X, y = make_blobs(n_samples=n_, n_features=d, centers=K, random_state=0)
        ours, t_ours = timed(lambda: nd.csg(X, y, k=k, M=M, seed=0, progress=False))
        ref, t_ref = timed(lambda: reference_fit(X, y, k, M))
        ratio = t_ref / t_ours
        ratios.append(ratio)
        print(f"{n_:>7} {d:>4} {K:>4} {M:>4} {k:>2} | {t_ours:>9.2f} {t_ref:>11.2f} {ratio:>5.1f}x | "
              f"{ours.score:>12.4g} {float(np.ravel(ref.csg)[0]):>13.4g}", flush=True)
        rows.append((n_, d, K, M, k, t_ours, t_ref))

    # identical S when M covers every class (deterministic on both sides)
    n_eq = 2_000 if args.quick else 10_000
    X, y = make_blobs(n_samples=n_eq, n_features=64, centers=10, cluster_std=6.0, random_state=1)
    ours, t_ours = timed(lambda: nd.csg(X, y, k=3, M=None, reference_compatible=True, progress=False))
    ref, t_ref = timed(lambda: reference_fit(X, y, 3, 10**9))
    dS = float(np.abs(ours.similarity - ref.S).max())
    dcsg = abs(ours.score - float(np.ravel(ref.csg)[0]))
    print(f"M=all, {n_eq}x64, K=10 (overlapping): nbdebug {t_ours:.2f} s, reference {t_ref:.2f} s "
          f"({t_ref / t_ours:.1f}x); max |dS| = {dS:.1e}, |dCSG| = {dcsg:.1e}")

    # memory at M = all: tracemalloc peak of everything allocated during the call
    mem_ref_small = peak_mib(lambda: reference_fit(X, y, 3, 10**9))
    mem_ours_small = peak_mib(lambda: nd.csg(X, y, k=3, M=None, progress=False))
    Xb, yb = make_blobs(n_samples=n, n_features=64, centers=10, random_state=0)
    mem_ours_big = peak_mib(lambda: nd.csg(Xb, yb, k=3, M=None, progress=False))
    block_ref = (n // 10) * n * 8 / 2**20
    print(f"peak memory at M=all: {n_eq}x64: nbdebug {mem_ours_small:.0f} MiB, reference {mem_ref_small:.0f} MiB; "
          f"{n}x64: nbdebug {mem_ours_big:.0f} MiB (data {Xb.nbytes / 2**20:.0f} MiB; the reference's "
          f"per-class distance block alone is {block_ref:.0f} MiB, not run)")

    gmean = math.exp(np.mean(np.log(ratios)))
    print(f"SUMMARY csg: nbdebug is {gmean:.1f}x faster than spectral-metric (geometric mean over "
          f"{len(ratios)} configs at n={n}; min {min(ratios):.1f}x, max {max(ratios):.1f}x); "
          f"S identical to {dS:.0e} at M=all; peak {mem_ours_big:.0f} MiB at n={n}, M=all")


if __name__ == "__main__":
    main()
