#!/usr/bin/env python3
"""The reference workload of experiments/benchmark-workload.yaml, written as the PyTorch script
a researcher would otherwise write, for a side-by-side timing with `gauntlet run` (see
benchmarks/README.md). Needs PyTorch and NumPy; run by hand, never in CI.

    python3 benchmarks/pytorch_workload.py [--threads 2] [--seed 0] [--json out.json]

For each model (the quickstart MLP, and the quickstart CNN with dropout 0.25 around fc 128):
one epoch of Adam (lr 1e-3, batch 128) on 55,000 training images with a validation pass; then
on the 10,000 test images: clean, Gaussian noise (std 0.1, 0.2, 0.3, clipped to [0, 1]),
salt-and-pepper (5 % and 10 % of pixels set to 0 or 1), FGSM and PGD-10 (L-inf, epsilon 0.1,
step 0.01, random start) against the model; MC dropout (20 passes, mean softmax) on the clean
and validation images; temperature scaling fitted on the 5,000 validation images for the model
and for MC dropout; accuracy, cross-entropy and ECE (15 equal-width bins) for every
evaluation, uncalibrated and calibrated. Prints a table and the time of every phase.
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from idx import read_idx  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530
EVAL_BATCH = 250   # as the experiment's evaluation.batch_size


def load(validation=5000, seed=0):
    train_x = read_idx(f"{DATA}/train-images-idx3-ubyte.gz").astype(np.float32) / 255
    train_y = read_idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype(np.int64)
    test_x = read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255
    test_y = read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(train_x))
    val, train = order[:validation], order[validation:]

    def tensors(x, y):
        return torch.from_numpy(np.ascontiguousarray(x[:, None])), torch.from_numpy(np.ascontiguousarray(y))
    return tensors(train_x[train], train_y[train]), tensors(train_x[val], train_y[val]), tensors(test_x, test_y)


class Normalize(nn.Module):
    def forward(self, x):
        return (x - MEAN) / STD


def mlp():
    return nn.Sequential(Normalize(), nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))


def cnn():
    return nn.Sequential(Normalize(), nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Dropout(0.25), nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))


def train(model, data, validation, generator):
    x, y = data
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    order = torch.randperm(len(x), generator=generator)
    for start in range(0, len(x), 128):
        index = order[start:start + 128]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[index]), y[index])
        loss.backward()
        optimizer.step()
    logits = predict(model, validation[0])
    return F.cross_entropy(logits, validation[1]).item()


@torch.no_grad()
def predict(model, x, batch=EVAL_BATCH):
    model.eval()
    return torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])


@torch.no_grad()
def mc_dropout(model, x, passes=20, batch=EVAL_BATCH):
    """Log of the mean softmax over passes with dropout on (a logit vector up to a constant)."""
    model.train()
    out = []
    for i in range(0, len(x), batch):
        chunk = x[i:i + batch]
        mean = sum(F.softmax(model(chunk), dim=1) for _ in range(passes)) / passes
        out.append(torch.log(mean.clamp_min(1e-12)))
    model.eval()
    return torch.cat(out)


def input_gradient(model, x, y):
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), y, reduction="sum")
    grad, = torch.autograd.grad(loss, x)
    return grad


def fgsm(model, x, y, epsilon=0.1, batch=EVAL_BATCH):
    model.eval()
    out = []
    for i in range(0, len(x), batch):
        xb, yb = x[i:i + batch], y[i:i + batch]
        out.append((xb + epsilon * input_gradient(model, xb, yb).sign()).clamp(0, 1).detach())
    return torch.cat(out)


def pgd(model, x, y, generator, epsilon=0.1, step=0.01, steps=10, batch=EVAL_BATCH):
    model.eval()
    out = []
    for i in range(0, len(x), batch):
        xb, yb = x[i:i + batch], y[i:i + batch]
        noise = (torch.rand(xb.shape, generator=generator) * 2 - 1) * epsilon
        adv = (xb + noise).clamp(0, 1)
        for _ in range(steps):
            adv = adv + step * input_gradient(model, adv, yb).sign()
            adv = torch.min(torch.max(adv, xb - epsilon), xb + epsilon).clamp(0, 1).detach()
        out.append(adv)
    return torch.cat(out)


def gaussian(x, std, generator):
    return (x + std * torch.randn(x.shape, generator=generator)).clamp(0, 1)


def salt_and_pepper(x, amount, generator):
    hit = torch.rand(x.shape, generator=generator) < amount
    salt = torch.rand(x.shape, generator=generator) < 0.5
    return torch.where(hit, salt.float(), x)


def fit_temperature(logits, labels):
    """T > 0 minimising the validation NLL of logits / T (Newton on log T)."""
    log_t = torch.zeros((), dtype=torch.float64)
    z, y = logits.double(), labels
    for _ in range(50):
        log_t.requires_grad_(True)
        nll = F.cross_entropy(z / log_t.exp(), y)
        g, = torch.autograd.grad(nll, log_t, create_graph=True)
        h, = torch.autograd.grad(g, log_t)
        with torch.no_grad():
            step = g / h if h > 0 else g
            log_t = (log_t - step).detach()
        if abs(step) < 1e-10:
            break
    return float(log_t.exp())


def ece(probabilities, labels, bins=15):
    confidence, prediction = probabilities.max(dim=1)
    correct = (prediction == labels).double()
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    total = 0.0
    for b in range(bins):
        inside = (confidence > edges[b]) & (confidence <= edges[b + 1]) if b > 0 else (confidence <= edges[1])
        if inside.any():
            total += inside.double().mean() * abs(confidence[inside].double().mean() - correct[inside].mean())
    return float(total)


def scores(logits, labels):
    probabilities = F.softmax(logits.double(), dim=1)
    return {"accuracy": float((logits.argmax(1) == labels).double().mean()),
            "cross_entropy": float(F.cross_entropy(logits.double(), labels)),
            "ece": ece(probabilities, labels)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write every metric and phase time here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    started = time.perf_counter()
    phases = []

    def phase(name, model_name, since):
        phases.append((model_name, name, time.perf_counter() - since))
        return time.perf_counter()

    now = time.perf_counter()
    (train_x, train_y), validation, (test_x, test_y) = load(seed=args.seed)
    now = phase("data", "-", now)
    rows = []
    for name, build in [("mlp", mlp), ("cnn", cnn)]:
        generator = torch.Generator().manual_seed(args.seed)
        model = build()
        validation_loss = train(model, (train_x, train_y), validation, generator)
        now = phase("training", name, now)
        val_logits = {"model": predict(model, validation[0]), "mc_dropout": mc_dropout(model, validation[0])}
        temperatures = {p: fit_temperature(z, validation[1]) for p, z in val_logits.items()}
        now = phase("calibration", name, now)
        evaluations = [("clean", test_x)]
        evaluations += [(f"gaussian_noise(std={s})", gaussian(test_x, s, generator)) for s in (0.1, 0.2, 0.3)]
        evaluations += [(f"impulse_noise(amount={a})", salt_and_pepper(test_x, a, generator)) for a in (0.05, 0.1)]
        for evaluation, images in evaluations:
            outputs = {"model": predict(model, images)}
            if evaluation == "clean":
                outputs["mc_dropout"] = mc_dropout(model, images)
            for predictor, logits in outputs.items():
                rows.append((name, evaluation, predictor, "none", scores(logits, test_y)))
                rows.append((name, evaluation, predictor, "temperature", scores(logits / temperatures[predictor], test_y)))
        now = phase("evaluations", name, now)
        for evaluation, attack in [("fgsm(epsilon=0.1)", lambda: fgsm(model, test_x, test_y)),
                                   ("pgd(epsilon=0.1)", lambda: pgd(model, test_x, test_y, generator))]:
            logits = predict(model, attack())
            rows.append((name, evaluation, "model", "none", scores(logits, test_y)))
            rows.append((name, evaluation, "model", "temperature", scores(logits / temperatures["model"], test_y)))
        now = phase("attacks", name, now)
        print(f"{name}: validation loss {validation_loss:.4f}, temperatures "
              + ", ".join(f"{p} {t:.4f}" for p, t in temperatures.items()))
    total = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"\n{'model':5}  {'evaluation':26} {'predictor':10} {'calibration':11} {'accuracy':>8} {'NLL':>8} {'ECE':>8}")
    for model_name, evaluation, predictor, calibration, s in rows:
        print(f"{model_name:5}  {evaluation:26} {predictor:10} {calibration:11} {s['accuracy']:8.4f} {s['cross_entropy']:8.4f} {s['ece']:8.4f}")
    print(f"\nPyTorch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    for model_name, name, seconds in phases:
        print(f"  {model_name:4} {name:12} {seconds:8.2f} s")
    print(f"whole workload: {total:.2f} s (after the interpreter and imports), peak RSS {peak:.0f} MiB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seconds": total, "peak_rss_mib": peak, "phases": phases,
                       "rows": [dict(model=m, evaluation=e, predictor=p, calibration=c, **s) for m, e, p, c, s in rows]}, f, indent=1)


if __name__ == "__main__":
    main()
