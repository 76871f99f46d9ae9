"""Benchmark the offline zero-shot image-type classifier on SciGenBench dev questions.

    .venv/bin/python benchmarks/bench_classifier.py [--data PATH] [--min-score 0.12]

Reads ``../shared/data/scigenbench-dev/scigen.json`` (relative to the repo root) in place,
classifies each item's ``question`` and compares with its ``image_type``. Prints per-subject
accuracy and the confusions of the worst types; the LAST stdout line is JSON:
{"n", "type_top1", "subject_top1", "unclassifiable_rate", "items_per_s", ...}.

The calibrated mode (descriptions blended with the class centroids of labelled items: what
the labelling step does when a labelled source is configured) is only ever scored with
stratified k-fold cross-validation (centroids fitted on the other folds): "calibrated_cv"
holds its type and subject top-1 and each Universal type's accuracy, and "goals" compares
them (and the zero-shot figures) with the goals type >= 0.65, subject >= 0.85, every
Universal type >= 0.4. Likewise the unsupervised background-centring mode (mean
embedding of unlabelled problems, from the other folds) is reported as
"type_top1_background_cv".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402

from scigen_dagster.engines.classifier import (  # noqa: E402
    DEFAULT_CENTROID_WEIGHT,
    DEFAULT_MAX_SEQ_LENGTH,
    DEFAULT_MIN_SCORE,
    EmbeddingTypeClassifier,
)
from scigen_dagster.taxonomy import UNCLASSIFIABLE  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "scigenbench-dev" / "scigen.json"


def subject_of(label: str) -> str:
    return label.split(" - ", 1)[0] if " - " in label else label


def load_items(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if isinstance(data, dict):  # tolerate {"items": [...]} style files
        data = next(v for v in data.values() if isinstance(v, list))
    return [d for d in data if d.get("question") and d.get("image_type")]


def make_folds(gold: list[str], folds: int, seed: int = 0) -> np.ndarray:
    """Deterministic stratified fold assignment."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(gold), dtype=int)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(gold):
        by_label[g].append(i)
    for idx in by_label.values():
        idx = np.array(idx)
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % folds
    return fold_of


def centroid_cv(clf, emb, gold, folds: int, weight: float) -> list[str]:
    """Stratified k-fold: calibrate (centroids) on k-1 folds, predict the held-out fold;
    returns the held-out prediction of every item."""
    fold_of = make_folds(gold, folds)
    predicted = [""] * len(gold)
    gold_arr = np.array(gold, dtype=object)
    for f in range(folds):
        train, test = fold_of != f, fold_of == f
        clf.fit_centroids_from_embeddings(emb[train], list(gold_arr[train]), weight=weight)
        for i, p in zip(np.flatnonzero(test), clf.classify_embeddings(emb[test])):
            predicted[i] = p.label
    clf.reset_centroids()
    return predicted


GOALS = {"type_top1": 0.65, "subject_top1": 0.85, "universal_type_min": 0.4}


def scored(labels: list[str], gold: list[str]) -> dict:
    """Type and subject top-1 and the accuracy of each Universal type."""
    universal = {}
    for t in sorted({g for g in gold if g.startswith("Universal - ")}):
        idx = [i for i, g in enumerate(gold) if g == t]
        universal[t] = round(float(np.mean([labels[i] == t for i in idx])), 4)
    return {"type_top1": round(float(np.mean([p == g for p, g in zip(labels, gold)])), 4),
            "subject_top1": round(float(np.mean([subject_of(p) == subject_of(g) for p, g in zip(labels, gold)])), 4),
            "universal": universal,
            "universal_type_min": min(universal.values()) if universal else None}


def background_cv(clf, emb, gold, folds: int) -> float:
    """Background mean from the other folds' texts (labels unused), score the held-out fold."""
    fold_of = make_folds(gold, folds)
    correct = 0
    gold_arr = np.array(gold, dtype=object)
    for f in range(folds):
        train, test = fold_of != f, fold_of == f
        clf.fit_background_from_embeddings(emb[train])
        preds = clf.classify_embeddings(emb[test])
        correct += sum(p.label == g for p, g in zip(preds, gold_arr[test]))
    clf.reset_background()
    return correct / len(gold)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--model-path", type=Path, default=None)
    ap.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE)
    ap.add_argument("--max-seq-length", type=int, default=DEFAULT_MAX_SEQ_LENGTH)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--folds", type=int, default=5, help="centroid-mode CV folds (0: skip)")
    ap.add_argument("--centroid-weight", type=float, default=DEFAULT_CENTROID_WEIGHT)
    ap.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"])
    ap.add_argument("--throughput-repeat", type=int, default=5,
                    help="encode the questions this many times for the items/s figure")
    ap.add_argument("--worst", type=int, default=6, help="how many worst types to detail")
    args = ap.parse_args(argv)

    items = load_items(args.data)
    questions = [d["question"] for d in items]
    gold = [d["image_type"] for d in items]

    clf = EmbeddingTypeClassifier(
        args.model_path,
        min_score=args.min_score,
        max_seq_length=args.max_seq_length,
        dtype=args.dtype,
    )
    t0 = time.perf_counter()
    _ = clf.prototypes  # load model + embed descriptions
    load_s = time.perf_counter() - t0

    # Throughput: classify (clean + tokenize + encode + matmul + argmax), warm model. The
    # median over repeats is reported because CPU time on shared machines is noisy.
    clf.classify(questions[:8], batch_size=args.batch_size)
    rates = []
    for _ in range(max(1, args.throughput_repeat)):
        t0 = time.perf_counter()
        preds = clf.classify(questions, batch_size=args.batch_size)
        rates.append(len(questions) / (time.perf_counter() - t0))
    items_per_s = float(np.median(rates))

    labels = [p.label for p in preds]
    n = len(items)
    type_ok = [p == g for p, g in zip(labels, gold)]
    subj_ok = [subject_of(p) == subject_of(g) for p, g in zip(labels, gold)]
    unclass = sum(p == UNCLASSIFIABLE for p in labels)

    print(f"data: {args.data}  n={n}  model={clf.model_path}  max_seq_length={args.max_seq_length}"
          f"  min_score={args.min_score}  load_s={load_s:.1f}  torch_threads={_threads()}"
          f"  dtype={clf.dtype}  loadavg={os.getloadavg()[0]:.2f}")
    print("items/s per repeat: " + ", ".join(f"{r:.0f}" for r in rates))
    print("\nper-subject accuracy (gold subject: type top-1 / subject top-1, n)")
    by_subj: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(gold):
        by_subj[subject_of(g)].append(i)
    for s in sorted(by_subj):
        idx = by_subj[s]
        print(f"  {s:<10} type {np.mean([type_ok[i] for i in idx]):.3f}  "
              f"subject {np.mean([subj_ok[i] for i in idx]):.3f}  n={len(idx)}")

    print("\nper-type accuracy")
    by_type: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(gold):
        by_type[g].append(i)
    type_acc = {t: float(np.mean([type_ok[i] for i in idx])) for t, idx in by_type.items()}
    for t in sorted(by_type, key=lambda t: (type_acc[t], t)):
        print(f"  {t:<34} {type_acc[t]:.3f}  n={len(by_type[t])}")

    print(f"\nconfusions of the {args.worst} worst types (n >= 3): gold -> predicted counts")
    worst = [t for t in sorted(by_type, key=lambda t: (type_acc[t], t)) if len(by_type[t]) >= 3]
    for t in worst[: args.worst]:
        c = Counter(labels[i] for i in by_type[t])
        print(f"  {t} ({type_acc[t]:.2f}): " + ", ".join(f"{k} x{v}" for k, v in c.most_common(4)))

    scores = np.array([p.score for p in preds])
    margins = np.array([p.margin for p in preds])
    print(f"\nscore p5/p50/p95 = {np.percentile(scores, 5):.3f}/{np.median(scores):.3f}/"
          f"{np.percentile(scores, 95):.3f}; median margin {np.median(margins):.3f}")

    result = {
        "n": n,
        "type_top1": round(float(np.mean(type_ok)), 4),
        "subject_top1": round(float(np.mean(subj_ok)), 4),
        "unclassifiable_rate": round(unclass / n, 4),
        "items_per_s": round(items_per_s, 1),
    }
    if args.folds and args.folds > 1:
        emb = clf.embed(questions, batch_size=args.batch_size)
        calibrated = scored(centroid_cv(clf, emb, gold, args.folds, args.centroid_weight), gold)
        result["calibrated_cv"] = calibrated
        result["type_top1_centroid_cv"] = calibrated["type_top1"]
        result["goals"] = {k: {"goal": v, "zero_shot": (scored(labels, gold)[k]), "calibrated_cv": calibrated[k],
                               "met_calibrated": calibrated[k] is not None and calibrated[k] >= v}
                           for k, v in GOALS.items()}
        result["type_top1_background_cv"] = round(background_cv(clf, emb, gold, args.folds), 4)
        result["centroid_weight"] = args.centroid_weight
        result["cv_folds"] = args.folds
    result["description_hash"] = clf.description_hash[:16]
    print(json.dumps(result))
    return 0


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    raise SystemExit(main())
