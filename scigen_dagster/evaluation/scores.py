"""How rows become numbers under each protocol: which images and quizzes count for R_inv
and question accuracy, and which judge rows enter the means.

Ours (``strict``): every attempted image counts, a missing, failed or corrupted figure is
not faithful, and question accuracy is over every quiz. The study's (``scigenbench``),
read off its scripts:

- quiz.py (scigen) keeps the quiz rows of images that rendered and whose every quiz call
  succeeded; an image that renders but cannot be encoded ("Corrupted image") keeps its
  rows, all wrong. quiz_seephys.py drops those rows too (its score keeps rows with an empty
  error). Question accuracy = correct / those quizzes; the perfect image rate = images
  whose kept quizzes are all right / images with kept quizzes.
- run.py (scigen) adds the full-question rows of ve_infer.py that carry no error, and takes
  the perfect image rate over every image with a kept row of either kind: an image whose
  quiz call failed still counts through its full-question row alone. That is R_inv here;
  the quizzes-only rate is reported beside it.
- llm_as_judge.py: the mean of each dimension over the rows that hold all five scores.

A stored figure that cannot be decoded is the corrupted case here: the study's reader
treats a file PIL cannot open as not found, and its corrupted branch is a file that opens
but cannot be encoded; our figures are PNGs this pipeline wrote after a successful render,
so one that no longer decodes is damaged, not missing. Items of other sources (the sample
corpus) follow the scigen rules. A table with rows of
both protocols is scored protocol by protocol; a row without a protocol is ours (tables
written before protocols existed).
"""

from __future__ import annotations

import pandas as pd

from scigen_dagster.evaluation.inverse import per_image_faithfulness
from scigen_dagster.evaluation.judge import JUDGE_DIMENSIONS
from scigen_dagster.evaluation.protocol import EVALUATION, STRICT, split_of

# answer statuses that leave an image out of the study's denominators: a quiz call that
# failed (or came back cut: no reply to grade)
FAILED_CALL = ("failed", "truncated")
PER_IMAGE_COLUMNS = ["model", "problem_id", "protocol", "split", "checks", "correct", "faithful"]


def protocols_in(frame: pd.DataFrame) -> list[str]:
    """The protocols a table's rows were made under, ours when the table predates them."""
    if frame is None or not len(frame):
        return []
    if "protocol" not in frame:
        return [STRICT]
    return sorted(frame["protocol"].fillna(STRICT).astype(str).unique())


def _rows_of(frame: pd.DataFrame, protocol: str) -> pd.DataFrame:
    if "protocol" not in frame:
        return frame if protocol == STRICT else frame.iloc[0:0]
    return frame[frame["protocol"].fillna(STRICT) == protocol]


def _checks(iv: pd.DataFrame, check: str) -> pd.DataFrame:
    return iv[iv["check"] == check] if "check" in iv else (iv if check == "quiz" else iv.iloc[0:0])


def counted_quizzes(iv: pd.DataFrame) -> pd.DataFrame:
    """The quiz rows that question accuracy and the quizzes-only R_inv are taken over."""
    parts = []
    for name in protocols_in(iv):
        quizzes = _checks(_rows_of(iv, name), "quiz")
        if EVALUATION[name].study_denominators and len(quizzes):
            call_failed = quizzes.groupby(["model", "problem_id"])["answer_status"].transform(
                lambda s: s.isin(FAILED_CALL).any()).astype(bool)
            corrupted_seephys = (quizzes["answer_status"] == "corrupted") & (quizzes["problem_id"].map(split_of) == "seephys")
            quizzes = quizzes[(quizzes["image_status"] == "ok") & ~call_failed & ~corrupted_seephys]
        parts.append(quizzes)
    return pd.concat(parts) if parts else iv.iloc[0:0]


def counted_full_questions(iv: pd.DataFrame) -> pd.DataFrame:
    """The full-question rows that count: graded replies (an error row is left out)."""
    full = _checks(iv, "full_question")
    return full[full["answer_status"] == "answered"] if len(full) else full


def per_image(iv: pd.DataFrame, full_question: bool = True) -> pd.DataFrame:
    """Per (model, problem) that counts: its checks, how many were right, and whether it is
    faithful (every counted check right). ``full_question=False`` leaves the
    full-question check out (the quizzes-only rate)."""
    parts = []
    for name in protocols_in(iv):
        rows = _rows_of(iv, name)
        if not EVALUATION[name].study_denominators:
            per = per_image_faithfulness(_checks(rows, "quiz") if not full_question else rows)
            per = per.rename(columns={"quizzes": "checks"})
        else:
            counted = [counted_quizzes(rows)] + ([counted_full_questions(rows)] if full_question else [])
            counted = pd.concat(counted)
            if not len(counted):
                continue
            per = counted.groupby(["model", "problem_id"], sort=True).agg(
                checks=("correct", "size"), correct=("correct", "sum")).reset_index()
            per["faithful"] = per["correct"] == per["checks"]
        parts.append(per.assign(protocol=name, split=per["problem_id"].map(split_of)))
    if not parts:
        return pd.DataFrame(columns=PER_IMAGE_COLUMNS)
    return pd.concat(parts, ignore_index=True)[PER_IMAGE_COLUMNS]


def _rate(values: pd.Series) -> float | None:
    return float(values.astype(bool).mean()) if len(values) else None


def iv_summary(iv: pd.DataFrame) -> dict:
    """R_inv (the protocol's own: the study's folds the full-question check in for scigen
    items), the quizzes-only R_inv, question accuracy, the full-question accuracy and the
    number of images R_inv is over."""
    if iv is None or not len(iv):
        return {"R_inv": None, "R_inv_quizzes": None, "question_acc": None, "full_question_acc": None,
                "iv_images": 0}
    per = per_image(iv)
    full = counted_full_questions(iv)
    return {"R_inv": _rate(per["faithful"]), "R_inv_quizzes": _rate(per_image(iv, full_question=False)["faithful"]),
            "question_acc": _rate(counted_quizzes(iv)["correct"]),
            "full_question_acc": _rate(full["correct"]) if len(_checks(iv, "full_question")) else None,
            "iv_images": len(per)}


def judged(judge: pd.DataFrame) -> pd.DataFrame:
    """The judge rows the means are taken over: ours, every row with a score (a failure is
    missing, never 0); the study's, the rows holding all five scores."""
    parts = []
    for name in protocols_in(judge):
        rows = _rows_of(judge, name)
        scores = rows[list(JUDGE_DIMENSIONS)].apply(pd.to_numeric, errors="coerce")
        parts.append(rows[scores.notna().all(axis=1)] if EVALUATION[name].study_denominators else rows)
    return pd.concat(parts) if parts else judge.iloc[0:0] if judge is not None else pd.DataFrame()


def judge_means(judge: pd.DataFrame) -> dict[str, float | None]:
    """The mean of each rubric dimension over the rows that count (None: not measured)."""
    rows = judged(judge)
    out = {}
    for d in JUDGE_DIMENSIONS:
        values = pd.to_numeric(rows[d], errors="coerce").dropna() if len(rows) and d in rows else pd.Series(dtype=float)
        out[d] = float(values.mean()) if len(values) else None
    return out
