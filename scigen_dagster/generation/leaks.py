"""The answer-leak check: figures whose text (OCR, plus a code figure's text artists)
shows a number of the answer that the problem does not give."""

from __future__ import annotations

import json
import re

import pandas as pd

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def leaked_answer_terms(question: str, answer: str, image_texts: list[str]) -> list[str]:
    """Numbers of the answer that the problem does not state but the figure shows.

    Single digits are left out: tick labels and enumerations show them in honest figures.
    """
    given = set(_NUMBER.findall(question))
    wanted = {n for n in _NUMBER.findall(answer) if n not in given and len(n.replace(".", "").replace(",", "")) >= 2}
    shown = set(_NUMBER.findall(" ".join(image_texts)))
    return sorted(wanted & shown)


def flag_leaks(frame: pd.DataFrame, items: pd.DataFrame, ocr, storage) -> pd.DataFrame:
    """Mark figures whose text (OCR, plus the text artists of code-rendered figures)
    reveals the answer; the OCR is cached, so evaluation reuses it."""
    ok = frame[frame["status"] == "ok"]
    ocr.prefetch(storage, list(zip(ok["image_sha256"], ok["image_path"])))
    answers = dict(zip(items["problem_id"], zip(items["question"], items["answer"])))
    leaks, terms = [], []
    for row in frame.itertuples(index=False):
        if row.status != "ok":
            leaks.append(None)
            terms.append("[]")
            continue
        texts = ocr.texts(ocr.tokens(storage, row.image_sha256, row.image_path)) + json.loads(row.text_labels_json)
        found = leaked_answer_terms(*answers[row.problem_id], texts)
        leaks.append(bool(found))
        terms.append(json.dumps(found))
    return frame.assign(answer_leak=pd.array(leaks, dtype="boolean"), leak_terms=terms)
