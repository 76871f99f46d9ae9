"""The ceiling of inverse validation: the real SeePhys figures answered by the offline
answerer, an OCR lookup (a lower bound: it answers only what the figure spells out). Its
blind control is not measured: OCR of no image reads nothing.

    .venv/bin/python benchmarks/bench_eval_ceiling.py [--data ../shared/data/scigenbench-dev]

Last line JSON: real_r_inv, real_question_acc (plus answered share).
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from scigen_dagster.engines.ocr import OcrReader, thread_ocr_engine
from scigen_dagster.evaluation import inverse
from scigen_dagster.problems.sources import SourcesConfig, SourceSpec, load_corpus


def main() -> None:
    parser = argparse.ArgumentParser()
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "scigenbench-dev"
    parser.add_argument("--data", default=str(default))
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    rows, _ = load_corpus(SourcesConfig(sources=[SourceSpec(name="scigenbench", kind="scigenbench", path=args.data)])).frames()
    items = rows[rows["reference_image"] != ""].head(args.limit) if args.limit else rows[rows["reference_image"] != ""]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=OcrReader().workers) as pool:
        tokens = list(pool.map(lambda path: thread_ocr_engine().read(Path(path).read_bytes()), items["reference_image"]))
    answerer = OcrReader()
    iv = []
    for item, toks in zip(items.itertuples(index=False), tokens):
        image_row = SimpleNamespace(status="ok")
        iv += inverse.iv_rows(item, image_row, "real_figures",
                                 lambda q, opts, toks=toks: answerer.answer(toks, q, opts), inverse.OFFLINE_ANSWERER)
    frame = pd.DataFrame(iv, columns=inverse.IV_COLUMNS)
    result = {
        "items": len(items), "quizzes": len(frame),
        "real_r_inv": round(inverse.r_inv(frame), 4),
        "real_question_acc": round(float(frame["correct"].mean()), 4),
        "blind_question_acc": "not measured (the OCR lookup cannot answer without an image)",
        "answered_share": round(float((~frame["abstained"]).mean()), 4),
        "precision_when_answered": round(float(frame.loc[~frame["abstained"], "correct"].mean()), 4)
        if (~frame["abstained"]).any() else None,
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
