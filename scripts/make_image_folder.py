#!/usr/bin/env python3
"""Writes a generated image folder in torchvision's ImageFolder layout, for the loader benchmark
and the image_folder checks (helper only; Pillow and NumPy from Debian):

    /usr/bin/python3 scripts/make_image_folder.py OUT --count 50000 --size 32 [--format jpg|png]
        [--classes 10] [--split]   # --split: OUT/train/<class>/ and OUT/test/<class>/ (1 in 6 to test)

Image n of class k = n mod classes is a smooth colour field whose hue depends on k, with a
seeded noise texture, so a model can learn the classes and JPEG has real content to code.
"""
import argparse
import os

import numpy as np
from PIL import Image


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--format", choices=["jpg", "png"], default="jpg")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--split", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    size = args.size
    y, x = np.mgrid[0:size, 0:size] / size
    created = set()
    for n in range(args.count):
        k = n % args.classes
        angle = 2 * np.pi * k / args.classes
        base = np.stack([0.5 + 0.4 * np.cos(angle + c * 2.1) * (x if c % 2 else y) for c in range(3)], axis=-1)
        noise = rng.normal(0, 0.08, (size, size, 3))
        pixels = (np.clip(base + noise, 0, 1) * 255).astype(np.uint8)
        split = ("test" if n % 6 == 5 else "train") if args.split else ""
        folder = os.path.join(args.out, split, f"class{k:02d}")
        if folder not in created:
            os.makedirs(folder, exist_ok=True)
            created.add(folder)
        path = os.path.join(folder, f"{n:06d}.{args.format}")
        if args.format == "jpg":
            Image.fromarray(pixels, "RGB").save(path, quality=90)
        else:
            Image.fromarray(pixels, "RGB").save(path)


if __name__ == "__main__":
    main()
