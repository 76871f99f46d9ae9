"""Scale of the problem stages: corpus -> visualizable_problems -> taxonomy_labels ->
benchmark_items with the offline backends, on generated corpora of 10,000 and 100,000
problems.

Each size runs in a fresh subprocess so its peak RSS is its own. The last line is JSON
with ``per_item_ratio`` (time per item at 100k over 10k; goal <= 1.3) and
``peak_rss_gb`` at 100k (goal <= 4).

    .venv/bin/python benchmarks/bench_scale.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATES = [
    "A block of mass m = {a} kg slides down an incline of angle θ = {b}° from point A to point B.",
    "Resistors R1 = {a} Ω and R2 = {b} Ω are connected in series to a battery of emf E = {c} V.",
    "A converging lens of focal length f = {a} cm forms an image of an object placed {b} cm from it.",
    "In triangle ABC, AB = {a} cm, AC = {b} cm and the angle at A is {c}°. Find BC.",
    "An ideal gas at T1 = {a} K and p1 = {b} kPa expands isothermally to twice its volume.",
    "A wave on a string has wavelength λ = {a} cm and frequency f = {b} Hz; sketch two periods.",
    "A satellite orbits a planet of mass M = {a}×10^24 kg at radius r = {b} km.",
    "Crossing Aa × Aa plants, {a} offspring are produced; draw the Punnett square.",
    "A titration adds {a} mL of 0.1 M NaOH to {b} mL of HCl; plot pH against volume.",
    "In a food web, grass feeds rabbits and grasshoppers; {a} hawks eat {b} rabbits per day.",
    "Prove that the sum of the angles of a triangle is {c} degrees.",
    "Write a Python function that returns the {a}th Fibonacci number.",
    "As shown in the figure above, find the tension in rope {a}.",
    "Explain why the sky is blue.",
]


def generate(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with path.open("w") as fh:
        for i in range(n):
            text = rng.choice(TEMPLATES).format(a=rng.randint(1, 90), b=rng.randint(1, 90), c=rng.randint(1, 180))
            fh.write(json.dumps({"id": f"g{i}", "question": text, "answer": str(rng.randint(1, 99))}) + "\n")


def run_one(n: int) -> dict:
    from scigen_dagster import taxonomy
    from scigen_dagster.engines.classifier import TaxonomyClassifier
    from scigen_dagster.problems.items import items_for_partition
    from scigen_dagster.problems.labels import label_table
    from scigen_dagster.problems.sources import SourcesConfig, SourceSpec, load_corpus
    from scigen_dagster.problems.visual_filter import filter_table

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gen.jsonl"
        generate(path, n)
        classifier = TaxonomyClassifier()
        classifier.classify(["warm-up: load the embedding model before timing"])
        start = time.perf_counter()
        corpus, _ = load_corpus(SourcesConfig(sources=[SourceSpec(name="gen", kind="jsonl", path=str(path))])).frames()
        t_corpus = time.perf_counter()
        filt = filter_table(corpus)
        t_filter = time.perf_counter()
        labels = label_table(corpus, filt, classifier)
        t_labels = time.perf_counter()
        items = sum(len(items_for_partition(corpus, labels, key)) for key in taxonomy.PARTITION_KEYS)
        end = time.perf_counter()
    return {
        "n": n, "seconds": end - start, "per_item_ms": 1000 * (end - start) / n,
        "stages_s": {"corpus": t_corpus - start, "filter": t_filter - t_corpus,
                     "labels": t_labels - t_filter, "benchmark_items": end - t_labels},
        "kept": int(filt["keep"].sum()), "items": items,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    results = []
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], check=True, capture_output=True, text=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]))
    small, large = results[0], results[-1]
    print(json.dumps({
        "sizes": [r["n"] for r in results],
        "per_item_ms": {str(r["n"]): round(r["per_item_ms"], 4) for r in results},
        "per_item_ratio": round(large["per_item_ms"] / small["per_item_ms"], 3),
        "peak_rss_gb": round(large["peak_rss_gb"], 3),
    }))


if __name__ == "__main__":
    main()
