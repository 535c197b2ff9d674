#!/usr/bin/env python3
"""Writes small generated data in the exact layouts of CIFAR-10's binary version and of
CIFAR-10-C, so that experiments/cifar10-study.yaml runs unchanged without the real files
(`make cifar-check`, CI):

    OUT/cifar-10-batches-bin/data_batch_1.bin ... data_batch_5.bin, test_batch.bin, batches.meta.txt
    OUT/CIFAR-10-C/<corruption>.npy (uint8 [5·N, 32, 32, 3], severities 1-5 stacked), labels.npy

Images are learnable: class k is a coloured, oriented stripe pattern with seeded noise. The
"corruptions" are stand-ins (noise, blur, brightness, contrast and so on, growing with severity)
named as CIFAR-10-C's 15 files; they exercise the layout, not Hendrycks & Dietterich's code.

    python3 scripts/make_cifar_like.py OUT [--train-per-batch 60] [--test 100]

Needs NumPy only (Debian's python3-numpy).
"""
import argparse
import os

import numpy as np

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CORRUPTIONS = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
               "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate", "jpeg_compression"]


def images(labels, rng):
    """NHWC uint8 images: class k is stripes at angle k·18° in colour k, plus noise."""
    y, x = np.mgrid[0:32, 0:32]
    out = np.empty((len(labels), 32, 32, 3), np.float64)
    for i, k in enumerate(labels):
        angle = np.pi * k / 10
        stripes = 0.5 + 0.5 * np.sin((x * np.cos(angle) + y * np.sin(angle)) * 0.6)
        colour = np.array([(k % 3) / 2, (k // 3 % 3) / 2, (k // 9 + k % 2) / 2]) * 0.6 + 0.2
        out[i] = stripes[..., None] * colour + rng.normal(0, 0.08, (32, 32, 3))
    return (np.clip(out, 0, 1) * 255).round().astype(np.uint8)


def corrupt(test, index, severity, rng):
    """A stand-in corruption of growing strength: noise, box blur or a tone change by kind."""
    x = test.astype(np.float64) / 255
    strength = severity / 5
    kind = index % 3
    if kind == 0:
        x = x + rng.normal(0, 0.1 * strength * 2, x.shape)
    elif kind == 1:
        radius = severity
        padded = np.pad(x, ((0, 0), (radius, radius), (radius, radius), (0, 0)), mode="edge")
        x = sum(padded[:, dy:dy + 32, dx:dx + 32] for dy in range(2 * radius + 1) for dx in range(2 * radius + 1)) / (2 * radius + 1) ** 2
    else:
        x = (x - 0.5) * (1 - 0.15 * severity) + 0.5 + 0.05 * severity
    return (np.clip(x, 0, 1) * 255).round().astype(np.uint8)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--train-per-batch", type=int, default=60)
    parser.add_argument("--test", type=int, default=100)
    arguments = parser.parse_args()
    rng = np.random.default_rng(0)
    binary = os.path.join(arguments.out, "cifar-10-batches-bin")
    corrupted = os.path.join(arguments.out, "CIFAR-10-C")
    os.makedirs(binary, exist_ok=True)
    os.makedirs(corrupted, exist_ok=True)

    def write(name, labels, pixels):
        planar = pixels.transpose(0, 3, 1, 2).reshape(len(labels), 3072)
        with open(os.path.join(binary, name), "wb") as f:
            for label, row in zip(labels, planar):
                f.write(bytes([label]) + row.tobytes())

    for batch in range(1, 6):
        labels = rng.integers(0, 10, arguments.train_per_batch)
        write(f"data_batch_{batch}.bin", labels, images(labels, rng))
    test_labels = np.arange(arguments.test) % 10
    test = images(test_labels, rng)
    write("test_batch.bin", test_labels, test)
    with open(os.path.join(binary, "batches.meta.txt"), "w") as f:
        f.write("\n".join(NAMES) + "\n\n")
    for index, name in enumerate(CORRUPTIONS):
        blocks = [corrupt(test, index, severity, rng) for severity in range(1, 6)]
        np.save(os.path.join(corrupted, name + ".npy"), np.concatenate(blocks))
    np.save(os.path.join(corrupted, "labels.npy"), np.tile(test_labels, 5).astype(np.uint8))


if __name__ == "__main__":
    main()
