#!/usr/bin/env python3
"""Checks that two results folders of the same experiment hold the same results and report.

    scripts/compare_results.py A B

Used by scripts/check-slurm.sh: A is what a Slurm submission wrote, B a local run of the same
sweep. Compared exactly: every dataset and attribute of the index and of every cell file, the
report (report.md, report.html), its tables (tables/*.tex) and its figures (figures/*.svg).
Left out, because they record when, where and how fast a run happened rather than what it
computed: wall times (`seconds` datasets, `*_seconds` attributes, the stage-time columns of the
trials table), timestamps, host, peak memory, and the results folder's own path. The PDFs are
conversions of the SVGs that embed their creation date, so they are not compared.
Exit status 0 when equal; 1 with every difference listed otherwise.
"""
import os
import re
import sys

import h5py
import numpy as np

VOLATILE_ATTRIBUTES = {"created", "host", "started", "finished", "peak_memory_mib"}
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def volatile_dataset(name):
    return name.split("/")[-1] == "seconds" or name.endswith("_seconds")


def hdf5_items(path):
    """Every dataset (name -> array) and attribute (owner/name -> value) of a file, external links not followed."""
    datasets, attributes = {}, {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            for key, value in obj.attrs.items():
                if key not in VOLATILE_ATTRIBUTES and not key.endswith("_seconds"):
                    attributes[f"{name}@{key}"] = value
            if isinstance(obj, h5py.Dataset) and not volatile_dataset(name):
                datasets[name] = obj[()]
        for key, value in f.attrs.items():
            if key not in VOLATILE_ATTRIBUTES and not key.endswith("_seconds"):
                attributes[f"/@{key}"] = value
        f.visititems(visit)
    return datasets, attributes


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return a.tobytes() == b.tobytes()   # bit for bit, NaNs included
    return np.array_equal(a, b)


def compare_hdf5(label, path_a, path_b, problems):
    data_a, attrs_a = hdf5_items(path_a)
    data_b, attrs_b = hdf5_items(path_b)
    for kind, a, b in (("dataset", data_a, data_b), ("attribute", attrs_a, attrs_b)):
        for name in sorted(set(a) | set(b)):
            if name not in a or name not in b:
                problems.append(f"{label}: {kind} {name} only in {'B' if name not in a else 'A'}")
            elif not same(a[name], b[name]):
                problems.append(f"{label}: {kind} {name} differs")
    return len(data_a), len(attrs_a)


def normalised(text, folder):
    """The report text with the volatile parts masked: the folder's path, timestamps, host, peak
    memory, and the stage-time cells of the trials table (the cells after its `state` column)."""
    text = text.replace(os.path.abspath(folder), "<results>").replace(folder.rstrip("/"), "<results>")
    text = ISO_TIME.sub("<time>", text)
    text = re.sub(r"(\*\*(host|peak_memory_mib)\*\*:?\s*)[^\n<]*", r"\1<masked>", text)
    text = re.sub(r"(<(?:th|dt)>(host|peak_memory_mib)</(?:th|dt)>\s*<(?:td|dd)>)[^<]*", r"\1<masked>", text)
    out = []
    for line in text.split("\n"):
        html = re.fullmatch(r"(<tr><td>[0-9a-f]{16}</td>.*?<td>(?:completed|failed|missing)</td>)(.*)", line)
        if html:
            out.append(html.group(1) + re.sub(r">[^<]*</td>", "><time></td>", html.group(2)))
            continue
        # Trials table rows, Markdown (| id | setting | repeat | seed | state | t1 | ...) and LaTeX (& separated).
        for separator in ("|", "&"):
            cells = line.split(separator)
            states = [i for i, c in enumerate(cells) if c.strip() in ("completed", "failed", "missing")]
            if states and re.fullmatch(r"\s*[0-9a-f]{16}\s*", cells[1 if separator == "|" else 0] or ""):
                keep = states[0] + 1
                line = separator.join(cells[:keep] + [" <time> " if c.strip() not in ("", "\\\\") else c for c in cells[keep:]])
                break
        out.append(line)
    return "\n".join(out)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = (p.rstrip("/") for p in sys.argv[1:])
    name_a, name_b = os.path.basename(a), os.path.basename(b)
    if name_a != name_b:
        sys.exit(f"compare_results: different experiments: {name_a} and {name_b}")
    problems = []
    counts = {}
    counts["index"] = compare_hdf5("index", f"{a}/{name_a}.h5", f"{b}/{name_b}.h5", problems)
    cells_a = sorted(n for n in os.listdir(f"{a}/cells") if n.endswith(".h5") and not n.startswith("."))
    cells_b = sorted(n for n in os.listdir(f"{b}/cells") if n.endswith(".h5") and not n.startswith("."))
    if cells_a != cells_b:
        problems.append(f"cells: A has {cells_a}, B has {cells_b}")
    datasets = 0
    for name in sorted(set(cells_a) & set(cells_b)):
        datasets += compare_hdf5(f"cells/{name}", f"{a}/cells/{name}", f"{b}/cells/{name}", problems)[0]
    texts = ["report.md", "report.html"]
    texts += [f"tables/{n}" for n in sorted(os.listdir(f"{a}/tables"))]
    texts += [f"figures/{n}" for n in sorted(os.listdir(f"{a}/figures")) if n.endswith(".svg")]
    for name in sorted(set(f"tables/{n}" for n in os.listdir(f"{b}/tables")) - set(texts)):
        problems.append(f"{name} only in B")
    for name in texts:
        try:
            text_a = open(f"{a}/{name}", encoding="utf-8").read()
            text_b = open(f"{b}/{name}", encoding="utf-8").read()
        except FileNotFoundError as error:
            problems.append(f"{name}: {error}")
            continue
        if normalised(text_a, a) != normalised(text_b, b):
            lines_a, lines_b = normalised(text_a, a).split("\n"), normalised(text_b, b).split("\n")
            first = next((i for i, (x, y) in enumerate(zip(lines_a, lines_b)) if x != y), min(len(lines_a), len(lines_b)))
            shown_a = lines_a[first] if first < len(lines_a) else "<end>"
            shown_b = lines_b[first] if first < len(lines_b) else "<end>"
            problems.append(f"{name}: line {first + 1} differs:\n  A: {shown_a[:200]}\n  B: {shown_b[:200]}")
    if problems:
        print(f"compare_results: {a} and {b} differ:")
        for problem in problems:
            print(f"  {problem}")
        sys.exit(1)
    print(f"compare_results: equal: index ({counts['index'][0]} datasets, {counts['index'][1]} attributes), "
          f"{len(cells_a)} cells ({datasets} datasets), {len(texts)} report files "
          f"(report.md, report.html, {len(texts) - 2} tables and SVG figures)")


if __name__ == "__main__":
    main()
