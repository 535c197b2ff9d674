#!/usr/bin/env python3
"""Trains the models of experiments/resnet-study.yaml and experiments/vit-study.yaml in PyTorch
with the same recipe, for several seeds, and prints their clean accuracy on the same test images:
the reference the studies' Gauntlet accuracy is compared with (benchmarks/README.md).

    python3 scripts/pytorch_study_accuracy.py --study resnet --seeds 0 1 2 --threads 2

The recipe, as the study files declare it: Fashion-MNIST, 1,000 training images held out for
validation by a fixed seeded permutation, the first 20,000 of the rest trained on, the first
1,000 test images evaluated; inputs in [0, 1] normalised inside the model (mean 0.2860, std
0.3530); batches of 128 reshuffled every epoch, the last one smaller; PyTorch's default
initialisation (Gauntlet's layers use the same distributions); learning rate annealed by
`CosineAnnealingLR` stepped once per epoch.
- resnet: WRN-16-2 with dropout 0.1 between each block's convolutions; SGD, lr 0.05, momentum
  0.9, Nesterov, weight decay 5e-4; 3 epochs.
- vit: patch 4, dim 64, depth 4, 4 heads, MLP 128, dropout and attention dropout 0.1; Adam, lr
  3e-3, weight decay 1e-4 (L2, PyTorch's rule); 5 epochs.
The modules are the architecture fixtures' (scripts/make_architecture_fixtures.py). The seed
sets the initialisation, the shuffling and dropout; the split is the same for every seed, as in
Gauntlet. Needs torch and NumPy (not a dependency of Gauntlet or its CI).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idx import read_idx  # noqa: E402
from make_architecture_fixtures import VisionTransformer, WideResNet  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530


def load(validation=1000, train_limit=20000, test_limit=1000):
    train_x = read_idx(f"{DATA}/train-images-idx3-ubyte.gz").astype(np.float32) / 255
    train_y = read_idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype(np.int64)
    test_x = read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255
    test_y = read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    order = np.random.default_rng(0).permutation(len(train_x))
    train = order[validation:][:train_limit]

    def tensors(x, y):
        return torch.from_numpy(np.ascontiguousarray(x[:, None])), torch.from_numpy(np.ascontiguousarray(y))

    return tensors(train_x[train], train_y[train]), tensors(test_x[:test_limit], test_y[:test_limit])


class Normalized(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model((x - MEAN) / STD)


STUDIES = {
    "resnet": dict(
        model=lambda: WideResNet(16, 2, 1, 10, drop_rate=0.1),
        optimizer=lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4),
        epochs=3,
    ),
    "vit": dict(
        model=lambda: VisionTransformer(28, 1, 4, 4, 4, 64, 128, 10, dropout=0.1, attention_dropout=0.1),
        optimizer=lambda p: torch.optim.Adam(p, lr=3e-3, weight_decay=1e-4),
        epochs=5,
    ),
}


def run(study, seed, data, test, batch=128):
    torch.manual_seed(seed)
    recipe = STUDIES[study]
    model = Normalized(recipe["model"]())
    optimizer = recipe["optimizer"](model.parameters())
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=recipe["epochs"])
    x, y = data
    start = time.perf_counter()
    for _ in range(recipe["epochs"]):
        model.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            index = order[i : i + batch]
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x[index]), y[index]).backward()
            optimizer.step()
        schedule.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(test[0][i : i + 250]).argmax(1) for i in range(0, len(test[0]), 250)])
    accuracy = (predictions == test[1]).float().mean().item()
    return dict(study=study, seed=seed, accuracy=accuracy, training_seconds=round(seconds, 2))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--study", choices=sorted(STUDIES), required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    data, test = load()
    rows = []
    for seed in arguments.seeds:
        rows.append(run(arguments.study, seed, data, test))
        print(json.dumps(rows[-1]), flush=True)
    accuracies = np.array([row["accuracy"] for row in rows])
    print(json.dumps(dict(study=arguments.study, mean=accuracies.mean(), std=accuracies.std(ddof=1) if len(rows) > 1 else 0.0)))


if __name__ == "__main__":
    main()
