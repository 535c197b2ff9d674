#!/usr/bin/env python3
"""The reference for benchmarks/loader.sh: torchvision's default ImageFolder loading of every
image of a folder in one Python thread (Pillow open + convert("RGB"), to float32 / 255 as
ToTensor does), images per second. Pillow and NumPy from Debian (/usr/bin/python3).

    /usr/bin/python3 benchmarks/loader_pil.py DIR
"""
import os
import sys
import time

import numpy as np
from PIL import Image

root = sys.argv[1]
paths = sorted(
    os.path.join(directory, name)
    for directory, _, names in os.walk(root)
    for name in names
    if os.path.splitext(name)[1].lower() in (".png", ".jpg", ".jpeg")
)
start = time.perf_counter()
checksum = 0.0
for path in paths:
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255
    checksum += float(pixels[0, 0, 0])
seconds = time.perf_counter() - start
print(f"images {len(paths)}  Pillow, 1 thread  pass {seconds:.2f} s  {len(paths) / seconds:.0f} images/s  (checksum {checksum:.3f})")
