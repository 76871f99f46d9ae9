"""The offline quiz writer: given values and named labels of a problem become
multiple-choice questions that a faithful figure answers.

Each quiz asks for something the figure must show (a labelled value, a named entity),
never the answer. The correct option is quoted from the problem (its evidence snippet is
an exact substring, checked), distractors are numeric perturbations of the same unit or
labels absent from the problem, and option letters are shuffled with a seed derived from
the problem id, so reruns give the same quizzes and no letter is favoured.
"""

from __future__ import annotations

import hashlib
import random
import re
import string

import pandas as pd

from scigen_dagster import prompts
from scigen_dagster.llm import schemas
from scigen_dagster.llm.client import Request
from scigen_dagster.problems.quantities import Quantity, extract_labels, extract_quantities

QUIZ_WRITER_VERSION = "rules-v1"
LETTERS = "ABCD"


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _format_like(template: str, value: float) -> str:
    decimals = len(template.split(".")[1]) if "." in template else 0
    return f"{value:.{decimals}f}"


def numeric_distractors(value: str, unit: str, rng: random.Random, n: int = 3) -> list[str]:
    try:
        x = float(value.replace(",", ""))
    except ValueError:
        return []
    candidates = [x * 2, x / 2, x + 1, x * 3, x - 1, x * 1.5, x + 10, x * 10]
    if "." in value:
        step = 10 ** -len(value.split(".")[1])
        candidates += [x + step * 5, x - step * 5]
    rng.shuffle(candidates)
    correct = _format_like(value, x)
    out: list[str] = []
    for c in candidates:
        if c <= 0 < x:
            continue
        text = _format_like(value, c)
        if text != correct and text not in out:
            out.append(text)
        if len(out) == n:
            break
    return [f"{t} {unit}".strip() for t in out]


def _shuffled(correct: str, distractors: list[str], rng: random.Random) -> tuple[dict[str, str], str]:
    options = [correct, *distractors[:3]]
    rng.shuffle(options)
    letters = dict(zip(LETTERS, options))
    return letters, LETTERS[options.index(correct)]


def shuffled_options(correct: str, distractors: list[str], problem_id: str, index: int) -> tuple[dict[str, str], str]:
    """Options under letters shuffled with a seed fixed per (problem, quiz)."""
    return _shuffled(correct, distractors, _rng(problem_id, "shuffle", index))


def _quantity_quiz(q: Quantity, question: str, problem_id: str, index: int) -> dict | None:
    rng = _rng(problem_id, "quantity", index)
    distractors = numeric_distractors(q.value, q.unit, rng)
    if len(distractors) < 3 or q.text not in question:
        return None
    correct = f"{q.value} {q.unit}".strip()
    what = f"the quantity {q.symbol}" if q.symbol else "a given quantity"
    options, letter = _shuffled(correct, distractors, rng)
    return {
        "question": f"Which value is labelled for {what} in the figure?",
        "options": options,
        "correct_option": letter,
        "evidence_snippet": q.text,
    }


def _label_quiz(label: str, labels: list[str], question: str, problem_id: str, index: int) -> dict | None:
    rng = _rng(problem_id, "label", index)
    # Distractors: labels of the same shape that the problem never names.
    if re.fullmatch(r"[A-Z]", label):
        pool = [c for c in string.ascii_uppercase if c not in labels and not re.search(rf"\b{c}\b", question)]
    elif m := re.fullmatch(r"([A-Za-z]+)(\d+)", label):
        pool = [f"{m.group(1)}{i}" for i in range(1, 10) if f"{m.group(1)}{i}" not in labels]
    else:
        return None
    if len(pool) < 3 or label not in question:
        return None
    distractors = rng.sample(pool, 3)
    options, letter = _shuffled(label, distractors, rng)
    return {
        "question": "Which of these labels is marked in the figure?",
        "options": options,
        "correct_option": letter,
        "evidence_snippet": label,
    }


def write_elements(question: str) -> list[str]:
    """Required visual elements: every given value labelled, every named entity shown."""
    elements = [f"the given value {q.label()} is labelled" for q in extract_quantities(question)]
    elements += [f"the entity {label} is drawn and labelled" for label in extract_labels(question)]
    return elements


def write_quizzes(question: str, problem_id: str, max_quizzes: int = 5) -> list[dict]:
    quizzes: list[dict] = []
    for i, q in enumerate(extract_quantities(question)):
        if quiz := _quantity_quiz(q, question, problem_id, i):
            quizzes.append(quiz)
    labels = extract_labels(question)
    for i, label in enumerate(labels):
        if len(quizzes) >= max_quizzes:
            break
        if quiz := _label_quiz(label, labels, question, problem_id, i):
            quizzes.append(quiz)
    return quizzes[:max_quizzes]


def llm_quizzes(llm, part: pd.DataFrame) -> dict[str, tuple[list, str]]:
    """Quizzes written by the quiz_writer role for problems without their own; evidence
    snippets are checked against the problem and letters reshuffled with a fixed seed, so
    the model's letter habits cannot leak into the answer key."""
    prompt = prompts.load("write_quizzes")
    todo = part[part["quizzes_json"] == "[]"]
    requests = [Request(r.problem_id, prompt.messages(question=r.question), prompt.sha256)
                for r in todo.itertuples(index=False)]
    results = llm.client().batch("quiz_writer", requests, None, schema=schemas.json_schema(schemas.QuizSet))
    out = {}
    for r, question in zip(results, todo["question"]):
        try:
            parsed = schemas.quiz_parser(question)(r.content) if r.status == "ok" else None
        except ValueError as exc:
            parsed, r.reason = None, f"invalid reply: {exc}"
        if parsed is None:
            out[r.item_id] = ([], f"none: quiz_writer {r.status}: {r.reason}"[:200])
            continue
        quizzes = []
        for i, quiz in enumerate(parsed.quizzes):
            correct = quiz.options[quiz.correct_option]
            distractors = [text for letter, text in sorted(quiz.options.items()) if letter != quiz.correct_option]
            options, letter = shuffled_options(correct, distractors, r.item_id, i)
            quizzes.append({"question": quiz.question, "options": options, "correct_option": letter,
                            "evidence_snippet": quiz.evidence_snippet})
        out[r.item_id] = (quizzes, f"{llm.model_id('quiz_writer')}|{prompt.ref}")
    return out
