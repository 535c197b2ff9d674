#!/usr/bin/env python3
"""Writes a PyTorch state dict as the HDF5 weights file Gauntlet loads (`models[].weights`).

    scripts/state_dict_to_hdf5.py model.pt weights.h5

`model.pt` is what `torch.save(model.state_dict(), path)` wrote (or a checkpoint dictionary
holding one under `state_dict` or `model`, or a whole saved module). Every tensor becomes a
dataset `/state_dict/<key>`: float32 for floating-point tensors, int64 for integer ones (batch
norm's `num_batches_tracked`). The file is written under a temporary name and renamed, so an
interrupted run leaves no partial file. Needs torch, h5py and NumPy (a helper, not a runtime
dependency of Gauntlet).
"""
import os
import sys

import h5py
import numpy as np


def write_state_dict(state, path, extra=None):
    """Writes `state` (key → tensor or array) under /state_dict and `extra` (name → array) at the
    root of a new HDF5 file at `path`, atomically."""
    temporary = f"{path}.partial-{os.getpid()}"
    with h5py.File(temporary, "w") as file:
        group = file.create_group("state_dict")
        for key, value in state.items():
            array = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
            if np.issubdtype(array.dtype, np.integer):
                group.create_dataset(key, data=array.astype(np.int64))
            else:
                group.create_dataset(key, data=array.astype(np.float32))
        for name, value in (extra or {}).items():
            file.create_dataset(name, data=np.asarray(value))
    os.replace(temporary, path)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    import torch

    loaded = torch.load(sys.argv[1], map_location="cpu", weights_only=False)
    if hasattr(loaded, "state_dict"):
        loaded = loaded.state_dict()
    for key in ("state_dict", "model"):
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            loaded = loaded[key]
    state = {key: value for key, value in loaded.items() if hasattr(value, "shape")}
    # Checkpoints of models wrapped in DataParallel prefix every key with `module.`.
    if state and all(key.startswith("module.") for key in state):
        state = {key[len("module."):]: value for key, value in state.items()}
    write_state_dict(state, sys.argv[2])
    print(f"{sys.argv[2]}: {len(state)} tensors")


if __name__ == "__main__":
    main()
