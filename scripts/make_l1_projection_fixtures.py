#!/usr/bin/env python3
"""Writes Tests/PerturbationsTests/Fixtures/l1_projection.json: random points projected onto the
intersection of an L1 ball and the [0, 1] box by AutoAttack's own `L1_projection`
(github.com/fra31/auto-attack, autoattack/autopgd_base.py), the reference L1-APGD uses. Helper
only: needs torch and a checkout of that repository (never a dependency of Gauntlet or its CI).

    python3 scripts/make_l1_projection_fixtures.py path/to/auto-attack
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, sys.argv[1])
from autoattack.autopgd_base import L1_projection  # noqa: E402

def short(values):
    """float32 values as their shortest round-trip decimal."""
    return [float(str(np.float32(v))) for v in values]


rng = np.random.default_rng(7)
cases = []
for trial in range(30):
    size = int(rng.integers(1, 48))
    clean = rng.random(size).astype(np.float32)
    if trial % 4 == 0:  # pixels on the box's edges
        clean[rng.random(size) < 0.4] = 0
        clean[rng.random(size) < 0.3] = 1
    scale = [0.01, 0.2, 1.5][trial % 3]
    move = (scale * rng.standard_normal(size)).astype(np.float32)
    if trial % 5 == 0:  # sparse moves
        move[rng.random(size) < 0.6] = 0
    epsilon = float(np.float32(rng.uniform(0, 0.4 * size)))
    x = torch.from_numpy(clean).unsqueeze(0)
    y = torch.from_numpy(move).unsqueeze(0)
    projected = (y + L1_projection(x, y, epsilon)).squeeze(0).numpy()
    cases.append({"clean": short(clean), "move": short(move), "epsilon": epsilon, "projected": short(projected)})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "PerturbationsTests", "Fixtures", "l1_projection.json")
with open(path, "w") as file:
    json.dump({"source": "AutoAttack autopgd_base.L1_projection", "cases": cases}, file, separators=(",", ":"))
print(f"{len(cases)} cases -> {os.path.normpath(path)}")
