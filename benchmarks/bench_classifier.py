"""Benchmark the offline image-type classifier on SciGenBench dev questions.

    .venv/bin/python benchmarks/bench_classifier.py [--data PATH] [--folds 5] [--repeats 3]

Reads ``scigen.json`` in place from ``$SCIGEN_DEV_DATA`` (default
``../shared/data/scigenbench-dev``, relative to the repo root), or the file ``--data`` names;
classifies each item's ``question`` and compares with its ``image_type``.

* Zero-shot (the descriptions only): type and subject top-1 on every item, per-type
  accuracy, the worst types' confusions, and the labelling throughput.
* Calibrated (what the labelling step does when a labelled source is configured): only ever
  scored held out, by stratified k-fold cross-validation. For each fold the head is fitted
  on the other folds' items alone, with its hyperparameters (each head's regularisation and
  the blend weights) chosen by an inner CV inside those folds (nested CV); the held-out
  fold is only predicted. The items' question embeddings, and the embeddings of their
  required elements (as calibration does), are computed once; nothing fitted leaks across
  folds. "calibrated_cv" is the split with fold seed 0; "calibrated_cv_repeats" repeats
  the whole nested CV with other fold seeds, to show how much the figures move with the
  split.

Goals (issue 17): calibrated type top-1 >= 0.65, subject top-1 >= 0.85, every Universal
type >= 0.4. The LAST stdout line is JSON with all figures, the goals (each one's figure on
fold seed 0 and its minimum over all the fold seeds, and whether it is met on each), and
the runtimes.
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

from scigen_dagster.engines.calibrated import LabelledSet, stratified_folds  # noqa: E402
from scigen_dagster.engines.calibrated import subject_of_label as subject_of  # noqa: E402  (one rule for the subject)
from scigen_dagster.engines.classifier import (  # noqa: E402
    DEFAULT_MAX_SEQ_LENGTH,
    DEFAULT_MIN_SCORE,
    EmbeddingTypeClassifier,
)
from scigen_dagster.taxonomy import UNCLASSIFIABLE  # noqa: E402

# A worktree outside the project folder points SCIGEN_DEV_DATA at the shared split (as the tests do).
DEFAULT_DATA = Path(os.environ.get("SCIGEN_DEV_DATA", REPO_ROOT.parent / "shared" / "data" / "scigenbench-dev")) / "scigen.json"
GOALS = {"type_top1": 0.65, "subject_top1": 0.85, "universal_type_min": 0.4}


def load_items(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if isinstance(data, dict):  # tolerate {"items": [...]} style files
        data = next(v for v in data.values() if isinstance(v, list))
    return [d for d in data if d.get("question") and d.get("image_type")]


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


def nested_cv(clf, data: LabelledSet, emb, el_emb, folds: int, seed: int) -> tuple[list[str], list[dict], float]:
    """Held-out label of every item: for each fold, a head fitted (with its inner-CV
    selection) on the other folds only. Returns the labels, each fold's chosen
    hyperparameters, and the mean seconds per fit."""
    fold_of = stratified_folds(data.labels, folds, seed)
    predicted = [""] * len(data)
    chosen, seconds = [], []
    for f in range(folds):
        train, test = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
        part = LabelledSet(tuple(data.texts[i] for i in train), tuple(data.labels[i] for i in train),
                           tuple(data.elements[i] for i in train))
        t0 = time.perf_counter()
        head = clf.calibrate_embedded(part, emb[train], el_emb[train])
        seconds.append(time.perf_counter() - t0)
        chosen.append(head.chosen)
        preds = clf.classify_embeddings(emb[test], head=head, texts=[data.texts[i] for i in test])
        for i, p in zip(test, preds):
            predicted[i] = p.label
    return predicted, chosen, float(np.mean(seconds))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--model-path", type=Path, default=None)
    ap.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE)
    ap.add_argument("--max-seq-length", type=int, default=DEFAULT_MAX_SEQ_LENGTH)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--folds", type=int, default=5, help="calibrated-mode CV folds (0: skip)")
    ap.add_argument("--repeats", type=int, default=3, help="extra nested CVs with fold seeds 1..N")
    ap.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"])
    ap.add_argument("--throughput-repeat", type=int, default=3,
                    help="encode the questions this many times for the items/s figure")
    ap.add_argument("--worst", type=int, default=6, help="how many worst types to detail")
    args = ap.parse_args(argv)

    items = load_items(args.data)
    questions = [d["question"] for d in items]
    gold = [d["image_type"] for d in items]
    elements = [". ".join(d.get("elements") or []) for d in items]

    clf = EmbeddingTypeClassifier(args.model_path, min_score=args.min_score,
                                  max_seq_length=args.max_seq_length, dtype=args.dtype)
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
    print("zero-shot items/s per repeat: " + ", ".join(f"{r:.0f}" for r in rates))
    print("\nzero-shot per-subject accuracy (gold subject: type top-1 / subject top-1, n)")
    by_subj: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(gold):
        by_subj[subject_of(g)].append(i)
    for s in sorted(by_subj):
        idx = by_subj[s]
        print(f"  {s:<10} type {np.mean([type_ok[i] for i in idx]):.3f}  "
              f"subject {np.mean([subj_ok[i] for i in idx]):.3f}  n={len(idx)}")

    result = {
        "n": n,
        "type_top1": round(float(np.mean(type_ok)), 4),
        "subject_top1": round(float(np.mean(subj_ok)), 4),
        "unclassifiable_rate": round(unclass / n, 4),
        "items_per_s": round(items_per_s, 1),
        "max_seq_length": args.max_seq_length,
        "dtype": clf.dtype,
    }
    shown, shown_name = labels, "zero-shot"
    if args.folds and args.folds > 1:
        data = LabelledSet(tuple(questions), tuple(gold), tuple(elements))
        t0 = time.perf_counter()
        emb = clf.embed(questions, batch_size=args.batch_size)
        el_emb = clf.embed(elements, batch_size=args.batch_size)
        embed_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        cv_labels, chosen, fit_s = nested_cv(clf, data, emb, el_emb, args.folds, seed=0)
        cv_s = time.perf_counter() - t0
        calibrated = scored(cv_labels, gold)
        repeats = [scored(nested_cv(clf, data, emb, el_emb, args.folds, seed=s)[0], gold)
                   for s in range(1, args.repeats + 1)]
        # The labelling step's calibrated path end to end on the whole dev split: embed the
        # labelled items and fit (calibrate), then label texts with the fitted head.
        t0 = time.perf_counter()
        head = clf.calibrate(data, batch_size=args.batch_size)
        calibrate_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        clf.classify(questions, batch_size=args.batch_size, head=head)
        calibrated_items_per_s = n / (time.perf_counter() - t0)
        everything = [calibrated, *repeats]
        result["calibrated_cv"] = calibrated
        result["calibrated_cv_repeats"] = {
            "fold_seeds": list(range(args.repeats + 1)),
            **{k: {"mean": round(float(np.mean([r[k] for r in everything])), 4),
                   "min": round(float(np.min([r[k] for r in everything])), 4),
                   "max": round(float(np.max([r[k] for r in everything])), 4)}
               for k in GOALS},
            "per_seed": [{"fold_seed": s, "type_top1": r["type_top1"], "subject_top1": r["subject_top1"],
                          "universal": r["universal"]} for s, r in enumerate(everything)]}
        spread = result["calibrated_cv_repeats"]
        result["goals"] = {k: {"goal": v, "zero_shot": scored(labels, gold)[k], "calibrated_cv": calibrated[k],
                               "met_calibrated": calibrated[k] is not None and calibrated[k] >= v,
                               "calibrated_cv_min_over_seeds": spread[k]["min"],
                               "met_on_every_seed": spread[k]["min"] >= v}
                           for k, v in GOALS.items()}
        result["chosen_per_fold"] = [{k: v for k, v in c.items() if k != "selected_by"} for c in chosen]
        result["cv_folds"] = args.folds
        result["runtime_s"] = {"embed_questions_and_elements": round(embed_s, 1), "fit_head_mean": round(fit_s, 2),
                               "nested_cv_seed0": round(cv_s, 1), "calibrate_on_all_items": round(calibrate_s, 1)}
        result["calibrated_items_per_s"] = round(calibrated_items_per_s, 1)
        shown, shown_name = cv_labels, "calibrated (held out, fold seed 0)"

    print(f"\n{shown_name}: per-type accuracy")
    by_type: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(gold):
        by_type[g].append(i)
    type_acc = {t: float(np.mean([shown[i] == t for i in idx])) for t, idx in by_type.items()}
    for t in sorted(by_type, key=lambda t: (type_acc[t], t)):
        print(f"  {t:<34} {type_acc[t]:.3f}  n={len(by_type[t])}")
    print(f"\n{shown_name}: confusions of the {args.worst} worst types (n >= 3): gold -> predicted counts")
    worst = [t for t in sorted(by_type, key=lambda t: (type_acc[t], t)) if len(by_type[t]) >= 3]
    for t in worst[: args.worst]:
        c = Counter(shown[i] for i in by_type[t])
        print(f"  {t} ({type_acc[t]:.2f}): " + ", ".join(f"{k} x{v}" for k, v in c.most_common(4)))
    result["description_hash"] = clf.description_hash[:16]
    print(json.dumps(result))
    return 0


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    raise SystemExit(main())
