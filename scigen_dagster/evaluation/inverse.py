"""Inverse validation: every quiz answered from the image alone (and, as a blind control,
with no image); an image is faithful when all its quizzes are right; R_inv."""

from __future__ import annotations

import asyncio
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
from scigen_dagster.streaming import PartitionWork, calls_done, in_lane, run_partition

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
    return run_partition(iv_work(items, images, model, storage, ocr, llm))


def iv_work(items: pd.DataFrame, images: pd.DataFrame, model: str, storage, ocr, llm) -> PartitionWork:
    """The partition as one item per problem (see ``iv_item``), its quiz rows in order."""
    by_id = {r.problem_id: r for r in images.itertuples(index=False)}
    answerer = OFFLINE_ANSWERER if llm.is_offline("answerer") else answerer_settings(llm, ocr)

    def one(item):
        return lambda: iv_item(item, by_id.get(item.problem_id), model, storage, ocr, llm, answerer)

    return PartitionWork([one(item) for item in items.itertuples(index=False)],
                         lambda results: pd.DataFrame([row for rows in results for row in rows], columns=IV_COLUMNS))


async def iv_item(item: Any, image: Any, model: str, storage, ocr, llm, answerer: str) -> list[dict[str, Any]]:
    """The quiz rows of one problem. With an answerer model, every quiz is asked from the
    image and blind, all at once; offline, the OCR lookup answers from the figure's
    tokens and the blind control is not measured (it would read nothing by construction:
    None, not 0)."""
    rendered = image is not None and image.status == "ok"
    if llm.is_offline("answerer"):
        answer = None
        if rendered:
            tokens = await in_lane("ocr", getattr(ocr, "workers", 1), ocr.tokens, storage, image.image_sha256,
                                   image.image_path)

            def answer(q, opts):
                return ocr.answer(tokens, q, opts)
        return iv_rows(item, image, model, answer, answerer, None)
    prompt = prompts.load("answer_from_image")
    url = image_data_url(await in_lane("io", 8, storage.read_bytes, image.image_path)) if rendered else None
    quizzes = list(enumerate(json.loads(item.quizzes_json)))
    asked = [(i, quiz, seen_url) for seen_url in ([url] if rendered else []) + [None] for i, quiz in quizzes]
    replies = await asyncio.gather(*(answer_quiz(llm, prompt, item.problem_id, i, quiz, seen_url, blind=seen_url is None)
                                     for i, quiz, seen_url in asked))
    calls_done()
    seen, blind_seen = {}, {}
    for (i, quiz, seen_url), reply in zip(asked, replies):
        shown, _ = shuffle_options(quiz["options"], item.problem_id, i)
        (seen if seen_url is not None else blind_seen)[(quiz["question"], json.dumps(shown))] = reply

    def blind(q, opts):
        return blind_seen[(q, json.dumps(opts))][:2]

    def answer(q, opts):
        return seen[(q, json.dumps(opts))]

    return iv_rows(item, image, model, answer if rendered else None, answerer, blind)


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


async def grade_one(llm, options: str, reply: str, item_id: str = "grade") -> str | None:
    """The grader role's reading of one reply the rules could not read: a letter or None."""
    prompt = prompts.load("grade_answer")
    r = await llm.client().acall("grader", Request(item_id, prompt.messages(options=options, reply=reply[:2000]),
                                                   prompt.sha256),
                                 schemas.parse_grader, schema=schemas.json_schema(schemas.GraderVerdict))
    return r.value.letter if r.status == "ok" and r.value.letter != "NONE" else None


def grade(llm, pending: dict) -> dict:
    """``grade_one`` for many replies: {key: (options text, reply)} -> {key: letter or None}."""
    async def all_of() -> list:
        return await asyncio.gather(*(grade_one(llm, opts, reply, f"grade#{i}")
                                      for i, (opts, reply) in enumerate(pending.values())))
    return dict(zip(pending, asyncio.run(all_of())))


async def answer_quiz(llm, prompt, problem_id: str, index: int, quiz: dict, image_url: str | None,
                      blind: bool = False) -> tuple[str | None, str, str]:
    """One quiz answered by the answerer role from the image alone (or, for the blind
    control, with no image), options shown in the shuffled order the rows record:
    (letter, evidence, answer_status). The reply is read by rule (a letter A-E, bold,
    boxed, "the answer is C", "C. <text>"); what the rules cannot read goes to the grader
    role when it is configured. A failed call counts as an abstention; a truncated one
    does not."""
    shown, _ = shuffle_options(quiz["options"], problem_id, index)
    options = "\n".join(f"{letter}. {text}" for letter, text in shown.items())
    request = Request(f"{problem_id}#{index}{'#blind' if blind else ''}", prompt.messages(
        image_data_url=image_url, quiz_question=quiz["question"], options=options), prompt.sha256)
    with_grader = not llm.is_offline("grader")
    r = await llm.client().acall("answerer", request, _answer_parser("ABCDE", with_grader))
    if r.status == "ok":
        letter = r.value
        if isinstance(letter, _Unread):
            letter = await grade_one(llm, options, str(letter))
        return letter, r.content[:100], "answered" if letter else "abstained"
    if r.status == "truncated":
        return None, r.reason[:300], "truncated"
    return None, r.reason[:100], "abstained"
