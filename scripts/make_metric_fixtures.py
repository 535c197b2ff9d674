#!/usr/bin/env python3
"""Writes Tests/EvaluationTests/Fixtures/sklearn-metrics.json: metric values computed by
scikit-learn and SciPy on seeded random logits, the independent truth the Swift metric tests
compare with. Run by hand when a case is added (needs numpy, scipy, scikit-learn); the tool
itself never runs Python."""
import json
import os

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn import metrics
from sklearn.isotonic import IsotonicRegression
from sklearn.preprocessing import label_binarize


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def case(name, rng, n, classes, step=None):
    labels = rng.integers(0, classes, n)
    logits = rng.normal(0, 1.5, (n, classes))
    logits[np.arange(n), labels] += 1.2          # informative but imperfect
    if step is not None:
        # Coarse logits give many tied scores. Only two-class ties are exact in any precision:
        # with z0 = 0 every sample of equal z1 gets bit-identical probabilities, however computed.
        logits = np.round(logits / step) * step
        if classes == 2:
            logits[:, 1] -= logits[:, 0]
            logits[:, 0] = 0
    logits = logits.astype(np.float32)
    p = softmax(logits.astype(np.float64))
    predicted = p.argmax(axis=1)
    out = {"name": name, "classes": classes, "labels": labels.tolist(),
           "logits": [float(v) for v in logits.ravel()]}
    values = {}
    for average in ["macro", "micro", "weighted"]:
        for metric, fn in [("precision", metrics.precision_score), ("recall", metrics.recall_score), ("f1", metrics.f1_score)]:
            values[f"{metric}_{average}"] = fn(labels, predicted, average=average, zero_division=0)
    values["confusion_matrix"] = metrics.confusion_matrix(labels, predicted, labels=list(range(classes))).ravel().tolist()
    values["log_loss"] = metrics.log_loss(labels, p, labels=list(range(classes)))
    values["brier_score"] = float(np.mean(np.sum((p - np.eye(classes)[labels]) ** 2, axis=1)))
    if classes == 2:
        values["auroc"] = metrics.roc_auc_score(labels, p[:, 1])
        values["average_precision"] = metrics.average_precision_score(labels, p[:, 1])
        values["brier_score_binary_sklearn"] = metrics.brier_score_loss(labels, p[:, 1])
        fpr, tpr, thresholds = metrics.roc_curve(labels, p[:, 1], drop_intermediate=False)
        values["roc_fpr"] = fpr.tolist()
        values["roc_tpr"] = tpr.tolist()
        precision, recall, thr = metrics.precision_recall_curve(labels, p[:, 1])
        f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0)[:-1]
        values["best_f1"] = float(f1.max())
        j = tpr - fpr
        values["best_youden_j"] = float(j.max())
    else:
        values["auroc"] = metrics.roc_auc_score(labels, p, multi_class="ovr", average="macro")
        values["auroc_weighted"] = metrics.roc_auc_score(labels, p, multi_class="ovr", average="weighted")
        onehot = label_binarize(labels, classes=list(range(classes)))
        values["average_precision"] = metrics.average_precision_score(onehot, p, average="macro")
        values["average_precision_weighted"] = metrics.average_precision_score(onehot, p, average="weighted")

    # Temperature minimising the NLL (bounded scalar search over log T).
    def nll(log_t):
        return metrics.log_loss(labels, softmax(logits.astype(np.float64) / np.exp(log_t)), labels=list(range(classes)))
    values["temperature"] = float(np.exp(minimize_scalar(nll, bounds=(-4, 4), method="bounded",
                                                         options={"xatol": 1e-10}).x))
    # Isotonic regression of the indicator of class 0 on p_0, fitted on the first half and
    # evaluated on the second.
    half = n // 2
    iso = IsotonicRegression(out_of_bounds="clip").fit(p[:half, 0], (labels[:half] == 0).astype(float))
    values["isotonic_class0_predictions"] = iso.predict(p[half:, 0]).tolist()
    out["expected"] = {k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in values.items()}
    return out


rng = np.random.default_rng(20261123)
cases = [case("multiclass", rng, 300, 5), case("binary", rng, 200, 2), case("binary_ties", rng, 120, 2, step=0.5),
         case("multiclass_ties", rng, 150, 3, step=1.0)]
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "EvaluationTests", "Fixtures", "sklearn-metrics.json")
with open(path, "w") as f:
    json.dump({"generator": "scripts/make_metric_fixtures.py", "cases": cases}, f, indent=1)
    f.write("\n")
print("wrote", os.path.normpath(path))


# Regression: predicted means and variances against targets, T targets per sample.
from scipy import stats  # noqa: E402


def regression_case(name, rng, n, targets, constant=False):
    y = rng.normal(3.0, 2.0, (n, targets))
    if constant:
        y[:, 0] = 1.5
    mean = y + rng.normal(0, 0.8, (n, targets))
    if constant:
        mean[:, 0] = 1.5                       # the constant target predicted exactly: R² = 1 for it
    variance = np.exp(rng.normal(-0.5, 0.6, (n, targets)))
    z = stats.norm.ppf(0.95)
    values = {
        "mse": metrics.mean_squared_error(y, mean),
        "mae": metrics.mean_absolute_error(y, mean),
        "r2": metrics.r2_score(y, mean),
        "gaussian_nll": float(-np.mean(stats.norm.logpdf(y, loc=mean, scale=np.sqrt(variance)))),
        "coverage_90": float(np.mean(np.abs(y - mean) <= z * np.sqrt(variance))),
        "interval_width_90": float(np.mean(2 * z * np.sqrt(variance))),
    }
    return {"name": name, "targets": targets, "mean": mean.ravel().tolist(), "variance": variance.ravel().tolist(),
            "y": y.ravel().tolist(), "expected": {k: float(v) for k, v in values.items()}}


regression = [regression_case("single_target", rng, 250, 1), regression_case("two_targets", rng, 180, 2),
              regression_case("constant_first_target", rng, 60, 2, constant=True)]
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "EvaluationTests", "Fixtures", "sklearn-regression.json")
with open(path, "w") as f:
    json.dump({"generator": "scripts/make_metric_fixtures.py", "cases": regression}, f, indent=1)
    f.write("\n")
print("wrote", os.path.normpath(path))
