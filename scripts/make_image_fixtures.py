#!/usr/bin/env python3
"""Writes the image-folder fixtures of Tests/DatasetsTests/Fixtures/image-folder with Pillow
(Debian's python3-pil) and NumPy (helper only; the tests read the committed files):

- folder/<class>/*: two classes, `bird` and `cat`, of 6x8 (height x width) images in every
  colour type a folder holds: RGB, RGBA, grayscale and palette PNGs, RGB and grayscale JPEGs
  (quality 90, Pillow's default 4:2:0), one JPEG in a nested folder (torchvision's ImageFolder
  walks subfolders) and a text file that is not an image (ignored).
- reference.npz: what Pillow decodes, in the folder's listing order (class by class, paths
  sorted): `rgb` uint8 [N, 6, 8, 3] from `convert("RGB")` and `gray` uint8 [N, 6, 8] from
  `convert("L")`, the conversions torchvision's ImageFolder uses.
- resize.npz: a float image [3, 13, 17] in [0, 1] (`input`) and Pillow's mode-F BILINEAR
  resizes of each channel to 5x7, 20x30 and 6x25 (height x width; `out_5x7`, ...), the
  antialiased filter Gauntlet's resize implements.

    /usr/bin/python3 scripts/make_image_fixtures.py
"""
import os

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "DatasetsTests", "Fixtures", "image-folder")
HEIGHT, WIDTH = 6, 8


def pattern(n, channels):
    """Image n: smooth gradients plus a checker, so JPEG and resampling have structure to keep."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    planes = [(23 * n + 29 * y + 17 * x + 61 * c + 40 * ((x + y) % 2)) % 256 for c in range(channels)]
    return np.stack(planes, axis=-1).astype(np.uint8)


def write_folder():
    folder = os.path.join(ROOT, "folder")
    for name in ["bird", "cat", "bird/nested"]:
        os.makedirs(os.path.join(folder, name), exist_ok=True)
    Image.fromarray(pattern(0, 3), "RGB").save(os.path.join(folder, "bird", "a-rgb.png"))
    Image.fromarray(pattern(1, 4), "RGBA").save(os.path.join(folder, "bird", "b-rgba.png"))
    Image.fromarray(pattern(2, 1)[..., 0], "L").save(os.path.join(folder, "bird", "c-gray.png"))
    Image.fromarray(pattern(3, 3), "RGB").save(os.path.join(folder, "bird", "d-rgb.jpg"), quality=90)
    Image.fromarray(pattern(4, 3), "RGB").save(os.path.join(folder, "bird", "nested", "e-rgb.jpeg"), quality=90)
    palette = Image.fromarray(pattern(5, 3), "RGB").convert("P", palette=Image.ADAPTIVE, colors=16)
    palette.save(os.path.join(folder, "cat", "f-palette.png"))
    Image.fromarray(pattern(6, 1)[..., 0], "L").save(os.path.join(folder, "cat", "g-gray.jpg"), quality=90)
    Image.fromarray(pattern(7, 3), "RGB").save(os.path.join(folder, "cat", "h-rgb.PNG"))
    with open(os.path.join(folder, "cat", "notes.txt"), "w") as notes:
        notes.write("not an image\n")
    # The listing order Gauntlet (and torchvision) use: classes sorted, paths sorted in each.
    paths = []
    for name in sorted(["bird", "cat"]):
        found = []
        for directory, _, files in os.walk(os.path.join(folder, name)):
            for file in files:
                if os.path.splitext(file)[1].lower() in (".png", ".jpg", ".jpeg"):
                    found.append(os.path.relpath(os.path.join(directory, file), os.path.join(folder, name)))
        paths += [os.path.join(folder, name, relative) for relative in sorted(found)]
    rgb = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths])
    gray = np.stack([np.asarray(Image.open(p).convert("L")) for p in paths])
    np.savez(os.path.join(ROOT, "reference.npz"), rgb=rgb, gray=gray)
    print("\n".join(os.path.relpath(p, folder) for p in paths))


def write_resize():
    rng = np.random.default_rng(7)
    image = rng.random((3, 13, 17)).astype(np.float32)
    outputs = {"input": image}
    for height, width in [(5, 7), (20, 30), (6, 25)]:
        resized = [np.asarray(Image.fromarray(plane, "F").resize((width, height), Image.BILINEAR)) for plane in image]
        outputs[f"out_{height}x{width}"] = np.stack(resized).astype(np.float32)
    np.savez(os.path.join(ROOT, "resize.npz"), **outputs)


if __name__ == "__main__":
    os.makedirs(ROOT, exist_ok=True)
    write_folder()
    write_resize()
