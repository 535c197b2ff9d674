#!/usr/bin/env python3
"""Puts the metrics of a Gauntlet run of experiments/benchmark-workload.yaml beside those of
one or more runs of benchmarks/pytorch_workload.py (their --json files), row by row, with the
PyTorch runs' spread over seeds when there are several. Needs h5py; run by hand.

    python3 benchmarks/compare_workload.py results/benchmark-workload pt-seed0.json pt-seed1.json ...
"""
import json
import statistics
import sys

import h5py


def gauntlet_rows(folder):
    name = folder.rstrip("/").split("/")[-1]
    with h5py.File(f"{folder}/{name}.h5", "r") as index:
        table = index["table"]
        text = lambda key: [v.decode() for v in table[key][()]]
        keys = zip(text("model"), text("evaluation"), text("predictor"), text("calibration"))
        columns = {metric: table[metric][()] for metric in ("accuracy", "cross_entropy", "ece")}
        rows = {}
        for i, (m, e, p, c) in enumerate(keys):
            # pgd(epsilon=0.1,steps=10,step_size=0.01) → pgd(epsilon=0.1); mc_dropout(passes=20) → mc_dropout
            key = (m, e.split(",steps")[0] + (")" if ",steps" in e else ""), p.split("(")[0], c)
            rows.setdefault(key, []).append({k: float(v[i]) for k, v in columns.items()})
        return rows


def spread(rows, metric):
    values = [r[metric] for r in rows]
    mean = statistics.fmean(values)
    return f"{mean:.4f}" + (f" ± {statistics.stdev(values):.4f}" if len(values) > 1 else "        ")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ours = gauntlet_rows(sys.argv[1])
    runs = [json.load(open(path)) for path in sys.argv[2:]]
    theirs = {}
    for run in runs:
        for row in run["rows"]:
            key = (row["model"], row["evaluation"], row["predictor"], row["calibration"])
            theirs.setdefault(key, []).append(row)
    print(f"mean ± sample std over {len(next(iter(ours.values())))} gauntlet repeat(s) and {len(runs)} PyTorch run(s)")
    print(f"{'model':5} {'evaluation':26} {'predictor':10} {'calib.':11} {'accuracy gauntlet':>17} {'accuracy pytorch':>17} {'ECE gauntlet':>17} {'ECE pytorch':>17}")
    for key, rows in ours.items():
        other = theirs.get(key)
        if not other:
            continue
        print(f"{key[0]:5} {key[1]:26} {key[2]:10} {key[3]:11} {spread(rows, 'accuracy'):>17} {spread(other, 'accuracy'):>17} "
              f"{spread(rows, 'ece'):>17} {spread(other, 'ece'):>17}")
    print(f"\nPyTorch wall times: " + ", ".join(f"{run['seconds']:.1f} s" for run in runs))


if __name__ == "__main__":
    main()
