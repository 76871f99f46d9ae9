"""The offline ImgCoder planner on the SciGenBench dev split: how often it declines, how
often its figure is byte-identical to another problem's, and where the given values end
up (drawn in the figure, or only in the Given box).

    .venv/bin/python benchmarks/bench_rule_planner.py [--data ../shared/data/scigenbench-dev] [--no-ocr]

Reads ``scigen.json`` of the split in place (never copied). Every planned figure is
rendered by the real sandbox. Given values are the numbers the problem states, found with
the OCR side's tokenizer (``evaluation.proxies.stated_numbers``), not with the planner's
own extractor; "drawn" means a text artist of the rendered figure other than the Given box
shows the number. With OCR (the default) the PNGs are also read for the proxies
``labels_crossed_by_lines`` and ``text_overlaps``. Last line JSON.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's package, not whichever one is installed

from scigen_dagster.engines.ocr import normalize_tokens, thread_ocr_engine  # noqa: E402
from scigen_dagster.evaluation import proxies  # noqa: E402
from scigen_dagster.generation import rules  # noqa: E402
from scigen_dagster.resources.sandbox import SandboxResource  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("SCIGEN_DEV_DATA", REPO.parent / "shared" / "data" / "scigenbench-dev"))
BOX_HEADS = ("Given:", "Also labelled:")


def _numbers(texts: list[str]) -> set[str]:
    return {t.lstrip("-") for text in texts for t in normalize_tokens(text) if t.lstrip("-")[:1].isdigit()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--no-ocr", action="store_true")
    args = parser.parse_args()
    items = json.loads((Path(args.data) / "scigen.json").read_text())[: args.limit]
    started = time.perf_counter()

    plans, declined = {}, {}
    for it in items:
        item = {"problem_id": str(it["id"]), "question": it["question"], "answer": str(it["answer"]),
                "image_type": it["image_type"]}
        plan = rules.plan_figure(item)
        (declined if isinstance(plan, rules.Declined) else plans)[item["problem_id"]] = plan
    with SandboxResource(workers=args.workers) as sandbox:
        results = dict(zip(plans, sandbox.render_many([p.code for p in plans.values()])))

    by_id = {str(it["id"]): it for it in items}
    ok = {pid: r for pid, r in results.items() if r.status == "ok"}
    shas = {pid: hashlib.sha256(r.png).hexdigest() for pid, r in ok.items()}
    counts = collections.Counter(shas.values())
    identical = sorted(pid for pid, sha in shas.items() if counts[sha] > 1)

    drawn = box_only = absent = 0
    for pid, r in ok.items():
        wanted = proxies.stated_numbers(by_id[pid]["question"])
        box = [t for t in r.text_labels if t.startswith(BOX_HEADS)]
        in_drawing = _numbers([t for t in r.text_labels if not t.startswith(BOX_HEADS)])
        in_box = _numbers(box)
        for n in wanted:
            if n in in_drawing:
                drawn += 1
            elif n in in_box:
                box_only += 1
            else:
                absent += 1
    values = drawn + box_only + absent

    crossed = overlaps = None
    if not args.no_ocr and ok:
        reads = {pid: thread_ocr_engine().read(r.png) for pid, r in ok.items()}
        crossed = sum(proxies.labels_crossed_by_lines(ok[pid].png, t) for pid, t in reads.items()) / len(reads)
        overlaps = sum(proxies.text_overlaps(t) for t in reads.values()) / len(reads)

    reasons = collections.Counter(d.reason.split(":", 1)[0] + ": " + d.reason.split(":", 1)[-1][:60].strip()
                                  for d in declined.values())
    for reason, n in reasons.most_common(10):
        print(f"declined {n:4d}  {reason}")
    for pid in identical[:10]:
        print(f"identical {pid}: {by_id[pid]['image_type']}: {by_id[pid]['question'][:80]!r}")
    n = len(items)
    print(json.dumps({
        "items": n,
        "declined": len(declined), "declined_share": round(len(declined) / n, 4),
        "rendered": len(ok), "render_failed": len(results) - len(ok),
        "identical_to_another": len(identical), "identical_share": round(len(identical) / n, 4),
        "identical_share_of_rendered": round(len(identical) / len(ok), 4) if ok else None,
        "given_values": values,
        "drawn_values_share": round(drawn / values, 4) if values else None,
        "box_only_values_share": round(box_only / values, 4) if values else None,
        "values_not_shown_share": round(absent / values, 4) if values else None,
        "labels_crossed_by_lines_per_figure": None if crossed is None else round(crossed, 3),
        "text_overlaps_per_figure": None if overlaps is None else round(overlaps, 3),
        "seconds": round(time.perf_counter() - started, 1),
    }))


if __name__ == "__main__":
    main()
