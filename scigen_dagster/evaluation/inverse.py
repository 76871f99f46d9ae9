"""Inverse validation: every quiz answered from the image alone (and, as a blind control,
with no image); an image is faithful when all its quizzes are right; R_inv."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from typing import Any

import pandas as pd

from scigen_dagster import prompts
from scigen_dagster.llm import schemas
from scigen_dagster.llm.client import Request
from scigen_dagster.llm.vision import image_data_url

# (quiz question, shown options) -> (letter or None for an abstention, evidence or reply)
Answerer = Callable[[str, dict[str, str]], tuple[str | None, str]]


def quiz_rng(problem_id: str, quiz_index: int) -> random.Random:
    digest = hashlib.sha256(f"{problem_id}\x1f{quiz_index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def shuffle_options(options: dict[str, str], problem_id: str, quiz_index: int) -> tuple[dict[str, str], dict[str, str]]:
    """Shuffle option texts over the letters with a seed fixed per quiz.

    Returns (shown options, shown letter -> original letter), so that a letter bias of
    the answerer or of the released answer key cannot score.
    """
    letters = sorted(options)
    order = letters[:]
    quiz_rng(problem_id, quiz_index).shuffle(order)
    shown = {new: options[old] for new, old in zip(letters, order)}
    back = dict(zip(letters, order))
    return shown, back


IV_COLUMNS = [
    "problem_id", "model", "quiz_index", "image_status", "question", "shown_options_json",
    "chosen_letter", "correct_letter", "correct", "abstained", "answerer", "evidence",
    "blind_letter", "blind_correct", "answer_status",
]
# answer_status: answered | abstained (NONE, or a failed call) | truncated (the reply was cut
# by the output budget even after a retry with a larger one: not an abstention, not an
# answer) | not_asked (no rendered image)


def iv_rows(
    item: Any, image_row: Any, model: str, answer: Answerer | None, answerer_name: str,
    blind: Answerer | None = None,
) -> list[dict[str, Any]]:
    """One row per quiz; ``answer(question, shown_options)`` sees only the image (bound
    inside the callable) and returns (shown letter or None, evidence).

    ``blind`` is the same answerer with no image at all: a quiz it gets right says
    nothing about the figure (the control of TIFA-style evaluation)."""
    rows = []
    for i, quiz in enumerate(json.loads(item.quizzes_json)):
        shown, back = shuffle_options(quiz["options"], item.problem_id, i)
        row = {
            "problem_id": item.problem_id, "model": model, "quiz_index": i,
            "image_status": image_row.status if image_row is not None else "missing",
            "question": quiz["question"], "shown_options_json": json.dumps(shown, ensure_ascii=False),
            "chosen_letter": None, "correct_letter": quiz["correct_option"], "correct": False,
            "abstained": True, "answerer": answerer_name, "evidence": "",
            "blind_letter": None, "blind_correct": None, "answer_status": "not_asked",
        }
        if blind is not None:
            letter, _ = blind(quiz["question"], shown)
            row["blind_letter"] = back.get(letter, letter) if letter else None
            row["blind_correct"] = row["blind_letter"] == quiz["correct_option"]
        if answer is not None and row["image_status"] == "ok":
            letter, evidence, *status = answer(quiz["question"], shown)
            status = status[0] if status else ("answered" if letter else "abstained")
            chosen = back.get(letter, letter) if letter else None  # a letter not shown (E of four) is wrong
            row.update(chosen_letter=chosen, correct=chosen == quiz["correct_option"],
                       abstained=status == "abstained", evidence=evidence[:300], answer_status=status)
        rows.append(row)
    return rows


def per_image_faithfulness(iv: pd.DataFrame, exclude_failed: bool = False) -> pd.DataFrame:
    """Per (model, problem): faithful when every quiz is right.

    A missing or failed image counts as not faithful (our rule). ``exclude_failed`` gives
    the original study's rule, which leaves never-rendered images out of the denominator.
    """
    if iv.empty:
        return pd.DataFrame(columns=["model", "problem_id", "faithful", "image_ok", "quizzes", "correct"])
    g = iv.groupby(["model", "problem_id"], sort=True)
    out = g.agg(quizzes=("correct", "size"), correct=("correct", "sum"),
                image_ok=("image_status", lambda s: bool((s == "ok").all()))).reset_index()
    out["faithful"] = (out["correct"] == out["quizzes"]) & out["image_ok"]
    if exclude_failed:
        out = out[out["image_ok"]]
    return out


def r_inv(iv: pd.DataFrame, exclude_failed: bool = False) -> float | None:
    per = per_image_faithfulness(iv, exclude_failed)
    return float(per["faithful"].mean()) if len(per) else None


def image_dependent(iv: pd.DataFrame) -> pd.DataFrame:
    """The quizzes the blind control got wrong: only these are evidence about a figure."""
    if iv.empty or "blind_correct" not in iv:
        return iv
    return iv[iv["blind_correct"].astype("boolean").fillna(False) == False]  # noqa: E712 - nullable bool


def blind_accuracy(iv: pd.DataFrame) -> float | None:
    measured = iv["blind_correct"].dropna() if "blind_correct" in iv else pd.Series(dtype=bool)
    return float(measured.astype(bool).mean()) if len(measured) else None


OFFLINE_ANSWERER = "offline:ocr-lookup (lower bound)"

OCR_LOOKUP_NOTE = ("OCR lookup, a lower bound: offline, a quiz counts as answered only when OCR reads an "
                   "option's words in the figure; a figure that shows the setting without spelling out the "
                   "option scores 0, so these R_inv values cannot rank models against a vision model's")


def is_ocr_lookup(answerer: object) -> bool:
    """Whether an ``answerer`` value of the rows names the offline OCR lookup."""
    return str(answerer).startswith(OFFLINE_ANSWERER)


def iv_method(answerers) -> str | None:
    """How a set of rows was answered, for people: the model ids, or the OCR lookup note."""
    names = sorted({str(a) for a in answerers if a is not None and not pd.isna(a)})
    if not names:
        return None
    return "; ".join("OCR lookup (lower bound)" if is_ocr_lookup(n) else n for n in names)


def answerer_settings(llm, ocr) -> str:
    """What identifies the answerer in a fingerprint and in every row."""
    if llm.is_offline("answerer"):
        return ocr.describe()
    grader = "" if llm.is_offline("grader") else f"|grader {llm.model_id('grader')}|{prompts.load('grade_answer').ref}"
    sent = llm.client().sent_settings("answerer")
    sent = (f"|T {sent['temperature_requested']}->{sent['temperature_sent']}, max_tokens {sent['max_tokens']}"
            f"{', effort ' + sent['reasoning_effort'] if sent['reasoning_effort'] else ''}"
            f"{', thinking ' + str(sent['thinking_budget']) if sent['thinking_budget'] else ''}"
            f"{', seed ' + str(sent['seed']) if sent['seed'] is not None else ', no seed'}")
    return f"{llm.model_id('answerer')}|{prompts.load('answer_from_image').ref}{grader}{sent}"


def iv_table(items: pd.DataFrame, images: pd.DataFrame, model: str, storage, ocr, llm) -> pd.DataFrame:
    """One row per quiz: answered from the image (by the answerer role's model, else by
    the OCR answerer) and blind; a missing or failed image answers nothing."""
    by_id = {r.problem_id: r for r in images.itertuples(index=False)}
    offline = llm.is_offline("answerer")
    answerer = OFFLINE_ANSWERER if offline else answerer_settings(llm, ocr)
    if not offline:
        prompt = prompts.load("answer_from_image")
        seen = _llm_answers(storage, llm, prompt, items, by_id)
        blind_seen = _llm_answers(storage, llm, prompt, items, by_id, blind=True)
    rows = []
    for item in items.itertuples(index=False):
        image = by_id.get(item.problem_id)
        # The OCR lookup reads nothing without an image: a blind control by it would be empty
        # by construction, so offline it is not measured (None), not 0.
        blind = None
        if not offline:
            def blind(q, opts, pid=item.problem_id):
                return blind_seen[(pid, q, json.dumps(opts))][:2]
        answer = None
        if image is not None and image.status == "ok":
            if offline:
                tokens = ocr.tokens(storage, image.image_sha256, image.image_path)

                def answer(q, opts, tokens=tokens):
                    return ocr.answer(tokens, q, opts)
            else:
                def answer(q, opts, pid=item.problem_id):
                    return seen[(pid, q, json.dumps(opts))]
        rows += iv_rows(item, image, model, answer, answerer, blind)
    return pd.DataFrame(rows, columns=IV_COLUMNS)


class _Unread(str):
    """A reply the rule reader could not read, left to the grader."""


def _answer_parser(letters: str, with_grader: bool):
    """The answerer's parser: the rule reader; what it cannot read is re-asked, or, with a
    grader configured, handed to the grader as it is."""
    def parse(text: str):
        if schemas.is_abstention(text):
            return None
        letter = schemas.read_letter(text, letters)
        if letter is not None:
            return letter
        if with_grader:
            return _Unread(text)
        return schemas.parse_letter(text, letters)  # raises: the model is asked again
    return parse


def grade(llm, pending: dict) -> dict:
    """The grader role's reading of the replies the rules could not read:
    {key: (options text, reply)} -> {key: letter or None}."""
    prompt = prompts.load("grade_answer")
    keys = list(pending)
    requests = [Request(f"grade#{i}", prompt.messages(options=pending[k][0], reply=pending[k][1][:2000]),
                        prompt.sha256) for i, k in enumerate(keys)]
    results = llm.client().batch("grader", requests, schemas.parse_grader,
                                 schema=schemas.json_schema(schemas.GraderVerdict))
    return {k: (r.value.letter if r.status == "ok" and r.value.letter != "NONE" else None)
            for k, r in zip(keys, results)}


def _llm_answers(storage, llm, prompt, items: pd.DataFrame, images: dict, blind: bool = False) -> dict:
    """Every quiz of every rendered figure answered by the answerer role from the image
    alone (or, for the blind control, with no image), options shown in the same shuffled
    order as the rows record; keyed by (problem, quiz question, shown options) ->
    (letter, evidence, answer_status). Replies are read by rule (a letter A-E, bold,
    boxed, "the answer is C", "C. <text>"); the rest go to the grader role when it is
    configured. A failed call counts as an abstention; a truncated one does not."""
    requests, keys, option_texts = [], [], []
    for item in items.itertuples(index=False):
        image = images.get(item.problem_id)
        if not blind and (image is None or image.status != "ok"):
            continue
        url = None if blind else image_data_url(storage.read_bytes(image.image_path))
        for i, quiz in enumerate(json.loads(item.quizzes_json)):
            shown, _ = shuffle_options(quiz["options"], item.problem_id, i)
            options = "\n".join(f"{letter}. {text}" for letter, text in shown.items())
            keys.append((item.problem_id, quiz["question"], json.dumps(shown)))
            option_texts.append(options)
            requests.append(Request(f"{item.problem_id}#{i}{'#blind' if blind else ''}", prompt.messages(
                image_data_url=url, quiz_question=quiz["question"], options=options), prompt.sha256))
    with_grader = not llm.is_offline("grader")
    results = llm.client().batch("answerer", requests, _answer_parser("ABCDE", with_grader))
    unread = {key: (opts, str(r.value)) for key, opts, r in zip(keys, option_texts, results)
              if r.status == "ok" and isinstance(r.value, _Unread)}
    graded = grade(llm, unread) if unread else {}
    out = {}
    for key, r in zip(keys, results):
        if r.status == "ok":
            letter = graded.get(key) if key in unread else r.value
            out[key] = (letter, r.content[:100], "answered" if letter else "abstained")
        elif r.status == "truncated":
            out[key] = (None, r.reason[:300], "truncated")
        else:
            out[key] = (None, r.reason[:100], "abstained")
    return out
