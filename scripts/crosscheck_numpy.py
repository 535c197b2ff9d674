#!/usr/bin/env python3
"""Independent cross-check of a quickstart results file with NumPy (helper; not used by the tool).

Rebuilds each trained model from its stored state_dict with PyTorch's conventions
(linear: y = x W^T + b; conv2d: cross-correlation, zero padding; max pooling 2x2), runs it
on the Fashion-MNIST test set read straight from the IDX files, and compares the predictions
with the ones Gauntlet stored for the clean evaluation.

    pip install numpy h5py pyyaml
    python3 scripts/crosscheck_numpy.py results/quickstart/quickstart.h5
"""
import sys

import h5py
import numpy as np
import yaml
from idx import read_idx


def conv2d(x, w, b, stride, padding):
    n, c, h, wd = x.shape
    o, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
    cols = np.empty((n, c, k, k, oh, ow), dtype=np.float32)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
    out = np.einsum("ncijhw,ocij->nohw", cols, w, optimize=True)
    return out + b[None, :, None, None]


def maxpool(x, k, stride):
    n, c, h, w = x.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    windows = np.stack([x[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] for i in range(k) for j in range(k)])
    return windows.max(axis=0)


def forward(layers, state, x):
    for index, layer in enumerate(layers):
        name = str(layer.get("name", index))
        kind = layer["type"]
        if kind == "flatten":
            x = x.reshape(x.shape[0], -1)
        elif kind == "linear":
            x = x @ state[f"{name}.weight"].T + state.get(f"{name}.bias", 0)
        elif kind == "relu":
            x = np.maximum(x, 0)
        elif kind == "dropout":
            pass  # identity at inference
        elif kind == "conv2d":
            x = conv2d(x, state[f"{name}.weight"], state.get(f"{name}.bias", np.zeros(1, np.float32)),
                       layer.get("stride", 1), layer.get("padding", 0))
        elif kind == "maxpool2d":
            x = maxpool(x, layer["kernel_size"], layer.get("stride", layer["kernel_size"]))
        else:
            raise SystemExit(f"crosscheck does not implement layer kind {kind}")
    return x


def main(path):
    f = h5py.File(path, "r")
    spec = yaml.safe_load(f["spec"][()].decode())
    dataset = spec["dataset"]
    directory = dataset.get("path", "/usr/share/datasets/fashion-mnist")
    images = read_idx(f"{directory}/t10k-images-idx3-ubyte.gz").astype(np.float32)[:, None] / 255
    labels = read_idx(f"{directory}/t10k-labels-idx1-ubyte.gz").astype(np.int64)

    if "normalize" in dataset:
        mean, std = dataset["normalize"]["mean"][0], dataset["normalize"]["std"][0]
        images = (images - np.float32(mean)) / np.float32(std)
    worst = 0
    models = {model["name"]: model for model in spec["models"]}
    for trial_id, group in f["cells"].items():
        model = models[group.attrs["model"]]
        if group.attrs["status"] != "completed":
            continue
        assert (labels == group["test_labels"][:]).all(), "test labels differ"
        state = {k: v[()] for k, v in group["state_dict"].items()}
        logits = np.concatenate([forward(model["layers"], state, images[i:i + 1000]) for i in range(0, len(images), 1000)])
        ours = logits.argmax(axis=1)
        stored = group["predictions"][0]
        agree = (ours == stored).mean()
        accuracy = (ours == labels).mean()
        stored_accuracy = group["metrics/accuracy"][0]
        print(f"{model['name']} [{trial_id}]: numpy accuracy {accuracy:.4f}, gauntlet {stored_accuracy:.4f}, "
              f"predictions agree on {agree * 100:.2f}% of {len(labels)} images")
        worst = max(worst, abs(accuracy - stored_accuracy))
    if worst > 1e-3:
        raise SystemExit(f"accuracies differ by {worst:.4f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/quickstart/quickstart.h5")
