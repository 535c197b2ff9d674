#!/usr/bin/env python3
"""Checks a Gauntlet results index and its cells against schemas/results-format.md with h5py.

Used by the test suite (Debian's python3-h5py); also useful by hand:
    python3 scripts/check_results_layout.py results/quickstart/quickstart.h5
"""
import json
import sys

import h5py
import numpy as np


def fail(message):
    print("layout error:", message)
    sys.exit(1)


def softmax(logits):
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


def check_metric_arrays(cell, trial_id, e, n):
    """Fixed arrays are stacked per evaluation; curves have offsets; confusion counts agree
    with the stored predictions."""
    if "metric_arrays" not in cell:
        return
    for metric, group in cell["metric_arrays"].items():
        if "offsets" in group:
            offsets = group["offsets"][:]
            if offsets.shape != (e + 1,) or offsets[0] != 0 or np.any(np.diff(offsets) < 0):
                fail(f"cell {trial_id} {metric}/offsets is malformed")
            for name, dataset in group.items():
                if name != "offsets" and dataset.shape != (offsets[-1],):
                    fail(f"cell {trial_id} curve {metric}/{name} has {dataset.shape}, offsets end at {offsets[-1]}")
        else:
            for name, dataset in group.items():
                if dataset.shape[0] != e:
                    fail(f"cell {trial_id} array {metric}/{name} has shape {dataset.shape}")
    if "confusion_matrix" in cell["metric_arrays"]:
        counts = cell["metric_arrays/confusion_matrix/counts"][:]
        labels = cell["test_labels"][:]
        for i in range(e):
            expected = np.zeros(counts.shape[1:])
            np.add.at(expected, (labels, cell["predictions"][i]), 1)
            if not np.array_equal(expected, counts[i]):
                fail(f"cell {trial_id}: confusion matrix {i} disagrees with the predictions")


def check_regression(cell, trial_id, e):
    """A regression cell: targets, and the metrics recomputed from the stored predictions."""
    targets = cell["test_targets"][:]
    n, t = targets.shape
    if "regression" not in cell:
        return
    mean = cell["regression/mean"][:].astype(np.float64)
    if mean.shape != (e, n, t):
        fail(f"cell {trial_id} regression/mean has shape {mean.shape}")
    variance = cell["regression/aleatoric_variance"][:].astype(np.float64)
    epistemic = cell["regression/epistemic_variance"][:].astype(np.float64)
    for i in range(e):
        error = mean[i] - targets
        checks = {"mse": np.mean(error ** 2), "mae": np.mean(np.abs(error)),
                  "r2": np.mean(1 - np.sum(error ** 2, axis=0) / np.sum((targets - targets.mean(axis=0)) ** 2, axis=0))}
        total = np.nan_to_num(variance[i]) + np.nan_to_num(epistemic[i])
        if not (np.all(np.isnan(variance[i])) and np.all(np.isnan(epistemic[i]))):
            checks["gaussian_nll"] = np.mean(0.5 * (np.log(2 * np.pi * total) + error ** 2 / total))
        for name, value in checks.items():
            if name in cell["metrics"] and abs(cell["metrics"][name][i] - value) > 1e-4 * max(1, abs(value)):
                fail(f"cell {trial_id}: stored {name} {cell['metrics'][name][i]} of evaluation {i} disagrees with the predictions ({value})")


def check_interpret(cell, trial_id):
    """/interpret: shapes, and the display scales and curve areas recomputed from what is stored."""
    if "interpret" not in cell:
        return
    e = len(cell["interpret/evaluations"])
    targets = cell["interpret/targets"][:]
    s = targets.shape[1]
    if targets.shape != (e, s):
        fail(f"cell {trial_id} interpret/targets has shape {targets.shape}")
    for label in [m.decode() for m in cell["interpret/methods"][:]]:
        group = cell["interpret/attributions"][label]
        maps = group["maps"][:].astype(np.float64)
        if maps.shape[:2] != (e, s):
            fail(f"cell {trial_id} {label} maps have shape {maps.shape}")
        flat = np.sort(np.abs(maps.reshape(e, s, -1)), axis=2)
        index = int(round(0.99 * (flat.shape[2] - 1)))
        if not np.allclose(group["display_scale"][:], flat[:, :, index], rtol=1e-6, atol=1e-12):
            fail(f"cell {trial_id} {label}: display_scale is not the 99th percentile of |map|")
        if "deletion_curve" in group:
            for curve, area in (("deletion_curve", "deletion_auc"), ("insertion_curve", "insertion_auc")):
                values = group[curve][:]
                k = values.shape[2] - 1
                expected = (values[:, :, 1:-1].sum(axis=2) + (values[:, :, 0] + values[:, :, -1]) / 2) / k
                if not np.allclose(group[area][:], expected, rtol=1e-9, atol=1e-12):
                    fail(f"cell {trial_id} {label}: {area} is not the area under {curve}")
    if "layer_statistics" in cell["interpret"]:
        layers = len(cell["interpret/layer_statistics/layers"])
        change = cell["interpret/layer_statistics/relative_change"][:]
        if change.shape != (e, layers) or np.any(change[0] != 0):
            fail(f"cell {trial_id}: relative_change has shape {change.shape} or a nonzero clean row")


def check_uncertainty(cell, trial_id, e, n, predictors, calibrations):
    """Per-sample scores sit on the uncalibrated evaluations; the model's entropy and maximum
    probability agree with its stored logits; detection rows cover sources × predictors × scores."""
    if "uncertainty" not in cell:
        return
    scores = [s.decode() for s in cell["uncertainty/scores"][:]]
    rows = cell["uncertainty/evaluation"][:]
    values = cell["uncertainty/values"][:]
    if values.shape != (len(rows), len(scores), n):
        fail(f"cell {trial_id} uncertainty/values has shape {values.shape}")
    if any(calibrations[r] != "none" for r in rows):
        fail(f"cell {trial_id}: uncertainty scores stored for a calibrated evaluation")
    if "logits" in cell:
        for u, r in enumerate(rows):
            if predictors[r] != "model":
                continue
            p = softmax(cell["logits"][r].astype(np.float64))
            entropy = -(p * np.log(np.where(p > 0, p, 1))).sum(axis=1)
            if np.max(np.abs(entropy - values[u, scores.index("entropy")])) > 1e-4:
                fail(f"cell {trial_id}: stored entropy disagrees with the stored logits")
            if np.max(np.abs(p.max(axis=1) - values[u, scores.index("max_probability")])) > 1e-5:
                fail(f"cell {trial_id}: stored max probability disagrees with the stored logits")
            if np.any(values[u, scores.index("mutual_information")] != 0):
                fail(f"cell {trial_id}: a deterministic model has non-zero mutual information")
    if "ood" in cell:
        sources = cell["ood/sources"][:]
        expected_rows = len(sources) * len(set(predictors)) * len(scores)
        for name in ["source", "predictor", "score", "auroc", "aupr", "fpr_at_95_tpr"]:
            if cell["ood"][name].shape != (expected_rows,):
                fail(f"cell {trial_id} ood/{name} has shape {cell['ood'][name].shape}")
        for name in ["auroc", "aupr", "fpr_at_95_tpr"]:
            if not np.all((cell["ood"][name][:] >= 0) & (cell["ood"][name][:] <= 1)):
                fail(f"cell {trial_id} ood/{name} outside [0, 1]")
    if "calibration" in cell:
        fits = len(cell["calibration/method"])
        for name in ["predictor", "validation_nll_before", "validation_nll_after", "validation_ece_before", "validation_ece_after"]:
            if cell["calibration"][name].shape != (fits,):
                fail(f"cell {trial_id} calibration/{name} has shape {cell['calibration'][name].shape}")
        if len(cell["calibration/parameters"]) != fits:
            fail(f"cell {trial_id}: calibration parameters of {len(cell['calibration/parameters'])} fits, {fits} fits listed")


def check(path):
    index = h5py.File(path, "r")
    if index.attrs["format_version"] != 6:
        fail(f"index format_version {index.attrs['format_version']}")
    for name in ["gauntlet_version", "experiment", "spec_file", "created", "git_commit", "host",
                 "trial_count", "complete", "failed", "missing"]:
        if name not in index.attrs:
            fail(f"index lacks attribute {name}")
    trials = index["trials"]
    ids = [x.decode() for x in trials["trial_id"][:]]
    statuses = [x.decode() for x in trials["status"][:]]
    if len(ids) != index.attrs["trial_count"]:
        fail("trial_count does not match /trials")
    columns = json.loads(index["table"].attrs["columns"])
    table = {c: index["table"][c][:] for c in columns}
    rows = len(table["trial_id"])
    if any(len(v) != rows for v in table.values()):
        fail("table columns differ in length")
    cells = 0
    for trial_id, status in zip(ids, statuses):
        if status == "missing":
            continue
        cell = index["cells"][trial_id]          # through the external link
        cells += 1
        attrs = cell.attrs
        if attrs["trial_id"] != trial_id or attrs["format_version"] != 6:
            fail(f"cell {trial_id} has the wrong id or format")
        for name in ["gauntlet_version", "experiment", "model", "repeat", "seed", "parameters", "status", "started",
                     "finished", "training_seconds", "evaluation_seconds", "dataset", "task", "loss", "git_commit", "host", "os",
                     "blas_core", "blas_config", "blas_threads", "cpu_model", "cores", "peak_memory_mib"]:
            if name not in attrs:
                fail(f"cell {trial_id} lacks attribute {name}")
        json.loads(attrs["parameters"])
        for name in ["spec", "resolved_spec", "spec_sources/path", "spec_sources/text", "test_labels"]:
            if name not in cell:
                fail(f"cell {trial_id} lacks {name}")
        if status != "completed":
            continue
        evaluations = cell["metrics/evaluation"][:]
        # Format 6: every metric column with its direction, every metric with its definition.
        columns = [c.decode() for c in cell["metric_columns/name"][:]]
        if not columns or any(c not in cell["metrics"] for c in columns):
            fail(f"cell {trial_id} /metric_columns/name {columns} do not match /metrics")
        for part in ["metric", "higher_is_better", "ideal"]:
            if len(cell[f"metric_columns/{part}"]) != len(columns):
                fail(f"cell {trial_id} /metric_columns/{part} has the wrong length")
        definitions = [d.decode() for d in cell["methods/definition"][:]]
        if len(definitions) != len(cell["methods/metric"]) or any(len(d) < 20 for d in definitions):
            fail(f"cell {trial_id} /methods lacks definitions")
        stages = [n.decode() for n in cell["stages/name"][:]]
        seconds = cell["stages/seconds"][:]
        known = ["data", "training", "calibration", "evaluations", "attacks", "interpretation", "out_of_distribution"]
        if stages[:2] != ["data", "training"] or any(s not in known for s in stages) or len(seconds) != len(stages) \
                or not np.all(seconds >= 0) or stages != sorted(stages, key=known.index):
            fail(f"cell {trial_id} /stages {stages} {seconds}")
        if attrs["task"] == "regression":
            check_regression(cell, trial_id, len(evaluations))
            rows_of_cell = sum(1 for t in table["trial_id"] if t.decode() == trial_id)
            if rows_of_cell != len(evaluations):
                fail(f"table has {rows_of_cell} rows for cell {trial_id}, it has {len(evaluations)} evaluations")
            continue
        e, n = len(evaluations), len(cell["test_labels"])
        for metric in ["accuracy", "cross_entropy"]:
            values = cell["metrics"][metric][:]
            if values.shape != (e,) or not np.all(np.isfinite(values)):
                fail(f"cell {trial_id} metric {metric} has shape {values.shape}")
        if cell["predictions"].shape != (e, n):
            fail(f"cell {trial_id} predictions have shape {cell['predictions'].shape}")
        accuracy = (cell["predictions"][0] == cell["test_labels"][:]).mean()
        if abs(accuracy - cell["metrics/accuracy"][0]) > 1e-12:
            fail(f"cell {trial_id}: stored predictions give accuracy {accuracy}, stored metric {cell['metrics/accuracy'][0]}")
        for name in ["evaluations/type", "evaluations/severity", "evaluations/budget", "evaluations/family",
                     "evaluations/predictor", "evaluations/calibration"]:
            if cell[name].shape != (e,):
                fail(f"cell {trial_id} {name} has shape {cell[name].shape}")
        severity = cell["evaluations/severity"][:]
        if not np.all((severity >= 0) & (severity <= 5)):
            fail(f"cell {trial_id} has severities outside 0–5")
        kinds = [k.decode() for k in cell["metrics/kind"][:]]
        predictors = [p.decode() for p in cell["evaluations/predictor"][:]]
        calibrations = [c.decode() for c in cell["evaluations/calibration"][:]]
        if predictors[0] != "model" or calibrations[0] != "none" or kinds[0] != "clean":
            fail(f"cell {trial_id}: evaluation 0 is not the model's clean evaluation")
        check_metric_arrays(cell, trial_id, e, n)
        check_uncertainty(cell, trial_id, e, n, predictors, calibrations)
        check_interpret(cell, trial_id)
        plain = [predictors[i] == "model" and calibrations[i] == "none" for i in range(e)]
        attacks = [i for i, k in enumerate(kinds) if k == "attack" and plain[i]]
        if attacks:
            success = cell["attacks/success"][:]
            if success.shape != (len(attacks), n):
                fail(f"cell {trial_id} attacks/success has shape {success.shape}")
            fooled = cell["predictions"][attacks] != cell["test_labels"][:]
            if not np.array_equal(success.astype(bool), fooled):
                fail(f"cell {trial_id}: attacks/success disagrees with the stored predictions")
            families = [f.decode() for f in cell["attacks/families"][:]]
            minimum = cell["attacks/min_epsilon"][:]
            if minimum.shape != (len(families), n):
                fail(f"cell {trial_id} attacks/min_epsilon has shape {minimum.shape}")
            family_of = [f.decode() for f in cell["evaluations/family"][:]]
            budget_of = cell["evaluations/budget"][:]
            clean_wrong = cell["predictions"][0] != cell["test_labels"][:]
            for f, family in enumerate(families):
                members = [i for i in attacks if family_of[i] == family]
                # The smallest budget among the family's evaluations that fooled each sample.
                expected = np.full(n, np.inf)
                for i in members:
                    fooled = cell["predictions"][i] != cell["test_labels"][:]
                    expected[fooled] = np.minimum(expected[fooled], budget_of[i])
                expected[clean_wrong] = 0
                if not np.array_equal(expected, minimum[f]):
                    fail(f"cell {trial_id}: min_epsilon of {family} disagrees with the predictions")
        for key, dataset in cell["state_dict"].items():
            if key.endswith("num_batches_tracked"):
                continue
            if dataset.dtype != np.float32:
                fail(f"cell {trial_id} weight {key} is {dataset.dtype}")
        rows_of_cell = sum(1 for t in table["trial_id"] if t.decode() == trial_id)
        if rows_of_cell != e:
            fail(f"table has {rows_of_cell} rows for cell {trial_id}, it has {e} evaluations")
    check_summary(index, table, columns, statuses, ids)
    print(f"layout ok: {cells} cells, {rows} table rows")


def check_summary(index, table, columns, statuses, ids):
    """/aggregate: the table's metrics over the repeats of each cell and evaluation, recomputed."""
    if "aggregate" not in index:
        if rows_present := len(table["trial_id"]):
            fail(f"index has {rows_present} table rows but no /aggregate")
        return
    summary = index["aggregate"]
    completed = {t for t, s in zip(ids, statuses) if s == "completed"}
    keys = [c for c in json.loads(summary.attrs["columns"]) if c not in ("kind", "repeats") and not c.endswith(("_mean", "_std"))]
    metrics = [c[:-5] for c in json.loads(summary.attrs["columns"]) if c.endswith("_mean")]
    groups = {}
    for r in range(len(table["trial_id"])):
        if table["trial_id"][r].decode() not in completed:
            continue
        key = tuple(table[k][r].decode() for k in keys)
        groups.setdefault(key, []).append([table[m][r] for m in metrics])
    if len(groups) != len(summary["model"]):
        fail(f"/aggregate has {len(summary['model'])} rows, the table {len(groups)} cell-evaluations")
    for r in range(len(summary["model"])):
        key = tuple(summary[k][r].decode() for k in keys)
        values = np.array(groups[key])
        if summary["repeats"][r] != len(values):
            fail(f"/aggregate row {key}: {summary['repeats'][r]} repeats, the table has {len(values)}")
        for m, metric in enumerate(metrics):
            mean = values[:, m].mean()
            std = values[:, m].std(ddof=1) if len(values) > 1 else np.nan
            for name, expected in (("mean", mean), ("std", std)):
                got = summary[f"{metric}_{name}"][r]
                if not (np.isnan(got) and np.isnan(expected)) and abs(got - expected) > 1e-9 * max(1, abs(expected)):
                    fail(f"/aggregate row {key}: {metric}_{name} {got}, recomputed {expected}")


if __name__ == "__main__":
    check(sys.argv[1])
