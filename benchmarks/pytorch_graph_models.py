#!/usr/bin/env python3
"""PyTorch side of the graph-model benchmark: the seconds one training epoch and one PGD-10
evaluation take for the same ResNet and ViT as benchmarks/graph-models.yaml, on random 28×28
single-channel images, with the same batch sizes and thread count; and inference throughput
(samples/s at batch 250, as `gauntlet-bench --experiment benchmarks/graph-models.yaml` reports
Gauntlet's).

    python3 benchmarks/pytorch_graph_models.py --threads 2

Prints one JSON object per model. The modules are the ones the architecture fixtures are
written with (scripts/make_architecture_fixtures.py). Needs torch (not a dependency of
Gauntlet or its CI).
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from make_architecture_fixtures import ResNet, VisionTransformer  # noqa: E402


def epoch_seconds(model, images, labels, batch):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    start = time.perf_counter()
    for i in range(0, len(images), batch):
        optimizer.zero_grad()
        F.cross_entropy(model(images[i : i + batch]), labels[i : i + batch]).backward()
        optimizer.step()
    return time.perf_counter() - start


def pgd_seconds(model, images, labels, batch, steps=10, epsilon=0.03):
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    start = time.perf_counter()
    for i in range(0, len(images), batch):
        x, y = images[i : i + batch], labels[i : i + batch]
        delta = torch.zeros_like(x, requires_grad=True)
        for _ in range(steps):
            loss = F.cross_entropy(model((x + delta).clamp(0, 1)), y, reduction="sum")
            (grad,) = torch.autograd.grad(loss, delta)
            delta = (delta + 2.5 * epsilon / steps * grad.sign()).clamp(-epsilon, epsilon).detach().requires_grad_(True)
        with torch.no_grad():
            model((x + delta).clamp(0, 1)).argmax(1)
    return time.perf_counter() - start


def inference_samples_per_second(model, images, batch):
    model.eval()
    with torch.no_grad():
        model(images[:batch])  # warm-up
        start = time.perf_counter()
        for i in range(0, len(images), batch):
            model(images[i : i + batch])
    return len(images) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--test", type=int, default=500)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    torch.manual_seed(0)
    images = torch.rand(arguments.train, 1, 28, 28)
    labels = torch.randint(0, 10, (arguments.train,))
    models = {
        "resnet20": lambda: ResNet(20, 16, 1, 10),
        "vit-p4-d64": lambda: VisionTransformer(28, 1, 4, 4, 4, 64, 128, 10),
    }
    for name, make in models.items():
        model = make()
        train = epoch_seconds(model, images, labels, 128)
        attack = pgd_seconds(model, images[: arguments.test], labels[: arguments.test], 250)
        inference = inference_samples_per_second(model, images, 250)
        print(
            json.dumps(
                {"model": name, "threads": arguments.threads, "train_seconds": train, "pgd_seconds": attack, "inference_samples_per_second": inference}
            )
        )


if __name__ == "__main__":
    main()
