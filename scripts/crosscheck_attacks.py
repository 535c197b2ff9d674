#!/usr/bin/env python3
"""Cross-checks and times Gauntlet's attacks (APGD-CE, APGD-DLR, APGD-T, FAB, FAB-T, Square and
the AutoAttack ensemble) against the reference implementation: torchattacks 3.5.1, whose APGD,
APGDT, FAB and Square are AutoAttack's code. For every cell of a results folder
(benchmarks/autoattack/*.yaml): the cell's trained model is exported to ONNX with `gauntlet
export` and converted to PyTorch (onnx2torch); the reference attacks run with the same budget,
norm, iterations, queries and target classes on the same test images (the first N of
Fashion-MNIST's test file, checked against the cell's labels); the robust accuracies are printed
beside Gauntlet's (stored in the cell), with both sides' seconds (Gauntlet's from the cell, the
reference's measured here with --threads torch threads: run Gauntlet with as many BLAS threads),
and the script fails when one differs by more than --tolerance (default 1 percentage point).

L1-APGD (`apgd` with `norm=l1`, either ε schedule) has no torchattacks version: its reference
is AutoAttack's own code (github.com/fra31/auto-attack, autoattack/autopgd_base.py), imported
from the checkout given with --autoattack-code.

The reference ensemble for `autoattack` is torchattacks' MultiAttack over the paper's budgets
(APGD-CE and APGD-T 100 steps, FAB-T 100 steps, Square 5,000 queries with p_init 0.8, 9 target
classes): torchattacks.AutoAttack itself keeps its attacks' defaults of 10 steps. Helper only:
needs torch, torchattacks, onnx2torch, onnx and h5py (never a dependency of Gauntlet or its CI).

    python3 scripts/crosscheck_attacks.py results/apgd-crosscheck [--gauntlet .build/release/gauntlet] [--threads 2] [--model mlp]
        [--autoattack-code path/to/auto-attack]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idx import read_idx  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


def text(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def parameters(label):
    """`apgd(epsilon=0.01,loss=dlr)` -> ("apgd", {"epsilon": "0.01", "loss": "dlr"})."""
    match = re.fullmatch(r"(\w+)\((.*)\)", label)
    if not match:
        return None, {}
    pairs = [part.split("=", 1) for part in match.group(2).split(",") if "=" in part]
    return match.group(1), {key: value for key, value in pairs}


def reference_l1_apgd(model, options, seed, code):
    """AutoAttack's APGD / APGD-T in L1 (use_largereps for `epsilon_schedule=decreasing`)."""
    if code is None:
        sys.exit("L1-APGD's reference is AutoAttack's code: pass --autoattack-code with a checkout of github.com/fra31/auto-attack")
    sys.path.insert(0, code)
    from autoattack.autopgd_base import APGDAttack, APGDAttack_targeted

    common = dict(
        n_iter=int(options.get("steps", 100)),
        norm="L1",
        n_restarts=int(options.get("restarts", 1)),
        eps=float(options["epsilon"]),
        seed=seed,
        device="cpu",
        use_largereps=options.get("epsilon_schedule") == "decreasing",
    )
    if "target_classes" in options:
        attack = APGDAttack_targeted(model, n_target_classes=int(options["target_classes"]), **common)
    else:
        attack = APGDAttack(model, loss=options.get("loss", "ce"), **common)
    return lambda x, y: attack.perturb(x, y)


def reference_attack(model, kind, options, classes, seed, code=None):
    import torchattacks

    if kind == "apgd" and options.get("norm") == "l1":
        return reference_l1_apgd(model, options, seed, code)
    norm = {"linf": "Linf", "l2": "L2"}[options.get("norm", "linf")]
    targets = lambda: int(options.get("target_classes", 9))  # noqa: E731
    if kind == "autoattack":
        epsilon = float(options.get("epsilon", 8 / 255 if norm == "Linf" else 0.5))
        if options.get("version", "standard") != "standard":
            return None
        n = min(9, classes - 1)
        apgdt = torchattacks.APGDT(model, norm=norm, eps=epsilon, steps=100, n_restarts=1, seed=seed, n_classes=classes)
        apgdt.n_target_classes = n
        fabt = torchattacks.FAB(model, norm=norm, eps=epsilon, steps=100, n_restarts=1, seed=seed, multi_targeted=True, n_classes=classes)
        fabt.n_target_classes = n
        return torchattacks.MultiAttack(
            [
                torchattacks.APGD(model, norm=norm, eps=epsilon, steps=100, n_restarts=1, seed=seed, loss="ce"),
                apgdt,
                fabt,
                torchattacks.Square(model, norm=norm, eps=epsilon, n_queries=5000, n_restarts=1, p_init=0.8, seed=seed),
            ]
        )
    epsilon = float(options["epsilon"])
    steps = int(options.get("steps", 100))
    restarts = int(options.get("restarts", 1))
    if kind == "fab":
        attack = torchattacks.FAB(
            model, norm=norm, eps=epsilon, steps=steps, n_restarts=restarts, seed=seed, multi_targeted="target_classes" in options, n_classes=classes
        )
        attack.n_target_classes = targets()
        return attack
    if kind == "square":
        p_init = float(options.get("p_init", 0.05 if norm == "Linf" else 0.3))
        return torchattacks.Square(model, norm=norm, eps=epsilon, n_queries=int(options.get("queries", 1000)), p_init=p_init, seed=seed)
    if kind != "apgd":
        return None
    if "target_classes" in options:
        attack = torchattacks.APGDT(model, norm=norm, eps=epsilon, steps=steps, n_restarts=restarts, seed=seed, n_classes=classes)
        attack.n_target_classes = targets()
        return attack
    return torchattacks.APGD(model, norm=norm, eps=epsilon, steps=steps, n_restarts=restarts, seed=seed, loss=options.get("loss", "ce"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--gauntlet", default=".build/release/gauntlet")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", action="append", help="only the cells of this model (repeatable)")
    parser.add_argument("--attack", action="append", help="only evaluations whose label starts with this (repeatable)")
    parser.add_argument("--autoattack-code", help="a checkout of github.com/fra31/auto-attack (L1-APGD's reference)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import onnx
    from onnx2torch import convert

    images = read_idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255
    labels = read_idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    cells = sorted(os.path.join(args.results, "cells", name) for name in os.listdir(os.path.join(args.results, "cells")))
    worst = 0.0
    print(f"{'model':6} {'attack':48} {'Gauntlet':>9} {'reference':>9} {'difference':>10} {'Gauntlet s':>10} {'reference s':>11} {'speed-up':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        for cell in cells:
            with h5py.File(cell, "r") as file:
                model_name = file.attrs["model"]
                model_name = model_name.decode() if isinstance(model_name, bytes) else str(model_name)
                evaluations = text(file["/metrics/evaluation"][:])
                accuracy = file["/metrics/accuracy"][:]
                seconds_gauntlet = file["/metrics/seconds"][:]
                cell_labels = file["/test_labels"][:].astype(np.int64)
                classes = len(file["/class_names"][:])
            if args.model and model_name not in args.model:
                continue
            n = len(cell_labels)
            if not np.array_equal(cell_labels, labels[:n]):
                sys.exit(f"{cell}: its test labels are not the first {n} of Fashion-MNIST's test file")
            onnx_path = os.path.join(scratch, f"{model_name}.onnx")
            subprocess.run([args.gauntlet, "export", cell, "--onnx", onnx_path], check=True, stdout=subprocess.DEVNULL)
            model = convert(onnx.load(onnx_path)).eval()
            x = torch.from_numpy(images[:n]).unsqueeze(1)
            y = torch.from_numpy(labels[:n])
            with torch.no_grad():
                clean = (model(x).argmax(1) == y).float().mean().item()
            clean_index = evaluations.index("clean")
            if abs(clean - accuracy[clean_index]) > 1e-6:
                sys.exit(f"{cell}: the exported model's clean accuracy {clean} is not the cell's {accuracy[clean_index]}")
            for index, label in enumerate(evaluations):
                if args.attack and not any(label.startswith(prefix) for prefix in args.attack):
                    continue
                kind, options = parameters(label)
                attack = reference_attack(model, kind, options, classes, args.seed, args.autoattack_code) if kind else None
                if attack is None:
                    continue
                start = time.perf_counter()
                adversarial = attack(x, y)
                seconds = time.perf_counter() - start
                with torch.no_grad():
                    robust = (model(adversarial).argmax(1) == y).float().mean().item()
                difference = accuracy[index] - robust
                worst = max(worst, abs(difference))
                ours = seconds_gauntlet[index]
                print(
                    f"{model_name:6} {label:48} {accuracy[index]:9.4f} {robust:9.4f} {difference:+10.4f} {ours:10.1f} {seconds:11.1f} {seconds / ours:7.2f}x",
                    flush=True,
                )
    print(f"largest difference {worst:.4f} (tolerance {args.tolerance})")
    if worst > args.tolerance:
        sys.exit(1)


if __name__ == "__main__":
    main()
