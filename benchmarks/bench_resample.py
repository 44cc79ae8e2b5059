"""nbdebug.resample against a bare imbalanced-learn ``fit_resample`` on the same data.

Run as a script: ``python benchmarks/bench_resample.py [n_rows]``. For SMOTE and SMOTE-Tomek it
times both sides on the same 100,000-row imbalanced set (best of ``--repeats`` runs each,
interleaved so that machine load affects both alike; wall-clock and process CPU time, the latter
being the steadier figure on a shared machine) and prints one summary line per sampler
with the ratio (goal: <= 1.2x). nbdebug's side includes input checks, recording the provenance of
every row, verifying every synthetic row against its parents and the complexity before/after.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def _data(n, n_features, seed=0):
    from sklearn.datasets import make_classification

    return make_classification(
        n_samples=n, n_features=n_features, n_informative=n_features - 2, n_redundant=2,
        weights=[0.9, 0.1], n_clusters_per_class=2, flip_y=0.01, random_state=seed,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_rows", nargs="?", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samplers", nargs="+", default=["smote", "smote_tomek"],
                        choices=["smote", "smote_tomek"])
    args = parser.parse_args(argv)

    import nbdebug as nd
    from imblearn.combine import SMOTETomek
    from imblearn.over_sampling import SMOTE
    from imblearn.under_sampling import TomekLinks

    X, y = _data(args.n_rows, args.features)
    cases = {
        "smote": (lambda: SMOTE(random_state=0), "smote"),
        "smote_tomek": (
            lambda: SMOTETomek(smote=SMOTE(random_state=0), tomek=TomekLinks(sampling_strategy="all"),
                               random_state=0),
            "smote_tomek",
        ),
    }
    for label, (make, name) in cases.items():
        if label not in args.samplers:
            continue
        bare, ours, bare_cpu, ours_cpu = [], [], [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            Xb, yb = make().fit_resample(X, y)
            bare.append(time.perf_counter() - t0)
            bare_cpu.append(time.process_time() - c0)
            t0, c0 = time.perf_counter(), time.process_time()
            rep = nd.resample(X, y, name, seed=0)
            ours.append(time.perf_counter() - t0)
            ours_cpu.append(time.process_time() - c0)
        same = np.array_equal(Xb, rep.X) and np.array_equal(yb, rep.y)
        print(
            f"resample {label}: n={args.n_rows:,} d={args.features} -> {rep.n_after:,} rows "
            f"({rep.n_synthetic:,} synthetic, {rep.removed.size:,} removed); "
            f"imblearn fit_resample {min(bare):.3f} s, nbdebug.resample {min(ours):.3f} s, "
            f"ratio {min(ours) / min(bare):.2f}x (goal <= 1.2x); CPU time {min(bare_cpu):.3f} s vs "
            f"{min(ours_cpu):.3f} s, ratio {min(ours_cpu) / min(bare_cpu):.2f}x; identical output: {same}; "
            f"parents max error {rep.parents_max_error:.1e}"
        )


if __name__ == "__main__":
    main()
