#!/usr/bin/env python3
"""Writes the small dataset files of Tests/DatasetsTests/Fixtures in the exact on-disk layouts
people download, with Python's own pickle and NumPy (helper only; the tests read the committed
files):

- cifar10-bin/: data_batch_1.bin, data_batch_2.bin (10 images each), test_batch.bin (20),
  batches.meta.txt: the binary version's records (label byte, 3,072 pixel bytes).
- cifar10-py/: the same images as the Python version's batches: pickled dicts with bytes keys
  (as the Python 2 originals load with encoding='bytes'), a uint8 'data' array [N, 3072] and a
  'labels' list; pickle protocol 2 (what the originals use), and batches.meta.
- cifar100-bin/ and cifar100-py/: train (20 images) and test (20), coarse then fine label; the
  Python version with str keys at pickle protocol 5 (NumPy's out-of-band-capable arrays).

Pixel k of image n is (31·n + 7·k + offset) mod 256 (offset 0 for training files, 100 for test
files); CIFAR-10 labels are n mod 10 (counting over the training files together), CIFAR-100
fine labels (3·n) mod 100 and coarse labels n mod 20, so the tests check every value by formula.

- numpy/: the same 12 images [3, 4, 5] as uint8 .npy files in NCHW (images-nchw-x.npy) and NHWC
  (images-nhwc-x.npy) with int64 labels n mod 3, as float32 [12, 1, 5, 5] in [0, 1]
  (float-x.npy, int32 labels), an .npz from savez_compressed (x_train / y_train: the 12 images
  NHWC; x_test / y_test: 6 more, n = 12…17) and one from savez with other member names
  (images, labels; stored, not deflated). Element (c, i, j) of image n is
  (17·n + 5·c + 3·i + 7·j) mod 256 (the float images: that / 255 with c = 0).
- idx/: MNIST-named IDX files, the training pair gzipped (10 images of 4×6), the test pair plain
  (5 images); pixel (i, j) of image n is (13·n + 4·i + 9·j) mod 256, labels n mod 7. Also
  emnist-train-images-idx3-ubyte.gz and emnist-test-images-idx3-ubyte.gz: the same images stored
  transposed (column by column), as EMNIST stores them.
- hdf5/arrays.h5 (h5py): /x_train the 12 NumPy images NHWC uint8, /y_train int64 labels,
  /test/images 6 more (n = 12…17) as float32 NCHW / 255, /test/labels uint8.
- corruption-set/: a CIFAR-10-C-layout set for the 6 test images of numpy/arrays.npz: fog.npy
  and gaussian_noise.npy, uint8 [5·6, 4, 5, 3] (NHWC), the image of severity s being the test
  image + 40·s (fog) or + 20·s (gaussian_noise) mod 256, and labels.npy [30].

    python3 scripts/make_dataset_fixtures.py
"""
import os
import pickle

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "DatasetsTests", "Fixtures")
CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def pixels(first, count, offset):
    n = np.arange(first, first + count)[:, None]
    k = np.arange(3072)[None, :]
    return ((31 * n + 7 * k + offset) % 256).astype(np.uint8)


def folder(name):
    path = os.path.join(ROOT, name)
    os.makedirs(path, exist_ok=True)
    return path


def cifar10():
    binary, python = folder("cifar10-bin"), folder("cifar10-py")
    parts = [("data_batch_1", 0, 10, 0), ("data_batch_2", 10, 10, 0), ("test_batch", 0, 20, 100)]
    for name, first, count, offset in parts:
        data = pixels(first, count, offset)
        labels = [int(n % 10) for n in range(first, first + count)]
        with open(os.path.join(binary, name + ".bin"), "wb") as f:
            for row, label in zip(data, labels):
                f.write(bytes([label]) + row.tobytes())
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data,
                 b"filenames": [f"image_{n}.png".encode() for n in range(first, first + count)]}
        with open(os.path.join(python, name), "wb") as f:
            pickle.dump(batch, f, protocol=2)
    with open(os.path.join(binary, "batches.meta.txt"), "w") as f:
        f.write("\n".join(CIFAR10_NAMES) + "\n\n")
    with open(os.path.join(python, "batches.meta"), "wb") as f:
        pickle.dump({b"num_cases_per_batch": 10, b"label_names": [n.encode() for n in CIFAR10_NAMES], b"num_vis": 3072}, f, protocol=2)


def cifar100():
    binary, python = folder("cifar100-bin"), folder("cifar100-py")
    for name, offset in [("train", 0), ("test", 100)]:
        data = pixels(0, 20, offset)
        fine = [int(3 * n % 100) for n in range(20)]
        coarse = [int(n % 20) for n in range(20)]
        with open(os.path.join(binary, name + ".bin"), "wb") as f:
            for row, c, l in zip(data, coarse, fine):
                f.write(bytes([c, l]) + row.tobytes())
        with open(os.path.join(python, name), "wb") as f:
            pickle.dump({"filenames": [f"image_{n}.png" for n in range(20)], "batch_label": name, "fine_labels": fine,
                         "coarse_labels": coarse, "data": data}, f, protocol=5)
    fine_names = [f"fine_{i}" for i in range(100)]
    coarse_names = [f"coarse_{i}" for i in range(20)]
    with open(os.path.join(binary, "fine_label_names.txt"), "w") as f:
        f.write("\n".join(fine_names) + "\n")
    with open(os.path.join(binary, "coarse_label_names.txt"), "w") as f:
        f.write("\n".join(coarse_names) + "\n")
    with open(os.path.join(python, "meta"), "wb") as f:
        pickle.dump({"fine_label_names": fine_names, "coarse_label_names": coarse_names}, f, protocol=5)


def numpy_arrays():
    out = folder("numpy")

    def images(first, count, channels, side_h, side_w):
        n, c, i, j = np.meshgrid(np.arange(first, first + count), np.arange(channels), np.arange(side_h), np.arange(side_w), indexing="ij")
        return ((17 * n + 5 * c + 3 * i + 7 * j) % 256).astype(np.uint8)

    nchw = images(0, 12, 3, 4, 5)
    labels = (np.arange(12) % 3).astype(np.int64)
    np.save(os.path.join(out, "images-nchw-x.npy"), nchw)
    np.save(os.path.join(out, "images-nchw-y.npy"), labels)
    np.save(os.path.join(out, "images-nhwc-x.npy"), np.ascontiguousarray(nchw.transpose(0, 2, 3, 1)))
    np.save(os.path.join(out, "images-nhwc-y.npy"), labels)
    np.save(os.path.join(out, "float-x.npy"), (images(0, 12, 1, 5, 5) / 255).astype(np.float32))
    np.save(os.path.join(out, "float-y.npy"), labels.astype(np.int32))
    test = images(12, 6, 3, 4, 5)
    np.savez_compressed(os.path.join(out, "arrays.npz"), x_train=nchw.transpose(0, 2, 3, 1), y_train=labels,
                        x_test=test.transpose(0, 2, 3, 1), y_test=(np.arange(12, 18) % 3).astype(np.uint8))
    np.savez(os.path.join(out, "stored.npz"), images=nchw, labels=labels)

    corrupted = folder("corruption-set")
    for name, step in [("fog", 40), ("gaussian_noise", 20)]:
        blocks = [((test.astype(np.int64) + step * s) % 256).astype(np.uint8).transpose(0, 2, 3, 1) for s in range(1, 6)]
        np.save(os.path.join(corrupted, name + ".npy"), np.ascontiguousarray(np.concatenate(blocks)))
    np.save(os.path.join(corrupted, "labels.npy"), np.tile(np.arange(12, 18) % 3, 5).astype(np.uint8))

    import h5py
    with h5py.File(os.path.join(folder("hdf5"), "arrays.h5"), "w", track_order=True) as f:
        f.create_dataset("x_train", data=nchw.transpose(0, 2, 3, 1))
        f.create_dataset("y_train", data=labels)
        f.create_dataset("test/images", data=(test / 255).astype(np.float32))
        f.create_dataset("test/labels", data=(np.arange(12, 18) % 3).astype(np.uint8))


def idx():
    import gzip
    import struct
    out = folder("idx")

    def images(first, count, transposed=False):
        n, i, j = np.meshgrid(np.arange(first, first + count), np.arange(4), np.arange(6), indexing="ij")
        pixels = ((13 * n + 4 * i + 9 * j) % 256).astype(np.uint8)
        return np.ascontiguousarray(pixels.transpose(0, 2, 1)) if transposed else pixels

    def write(name, array, compressed):
        data = struct.pack(">BBBB", 0, 0, 8, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape) + array.tobytes()
        path = os.path.join(out, name + (".gz" if compressed else ""))
        with (gzip.GzipFile(path, "wb", mtime=0) if compressed else open(path, "wb")) as f:
            f.write(data)

    write("train-images-idx3-ubyte", images(0, 10), True)
    write("train-labels-idx1-ubyte", (np.arange(10) % 7).astype(np.uint8), True)
    write("t10k-images-idx3-ubyte", images(10, 5), False)
    write("t10k-labels-idx1-ubyte", (np.arange(10, 15) % 7).astype(np.uint8), False)
    write("emnist-train-images-idx3-ubyte", images(0, 10, transposed=True), True)
    write("emnist-test-images-idx3-ubyte", images(10, 5, transposed=True), True)


if __name__ == "__main__":
    cifar10()
    cifar100()
    numpy_arrays()
    idx()
