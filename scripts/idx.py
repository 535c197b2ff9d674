"""Reads an IDX file (MNIST / Fashion-MNIST format), gzip-compressed, into a NumPy uint8 array.
Shared by the helper scripts; the tool itself reads IDX files in Swift (Sources/Datasets)."""
import gzip

import numpy as np


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)
