"""Inverse validation: every quiz answered from the image alone (and, under our protocol,
as a blind control with no image); an image is faithful when all its quizzes are right;
R_inv. What is sent and how a reply counts is the protocol's (evaluation/protocol.py); the
denominators are in evaluation/scores.py."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from scigen_dagster import prompts
from scigen_dagster.evaluation import protocol as protocols
from scigen_dagster.evaluation.protocol import (
    EVALUATION,
    STRICT,
    EvaluationProtocol,
    call_usage,
    client_role,
    evaluation_protocol,
    split_of,
)
from scigen_dagster.llm import schemas
from scigen_dagster.llm.client import Request
from scigen_dagster.llm.vision import readable_data_url
from scigen_dagster.streaming import PartitionWork, calls_done, in_lane, run_partition

# (quiz question, shown options) -> an Answer, or (letter or None for an abstention, evidence[, status])
Answerer = Callable[[str, dict[str, str]], Any]


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


def shown_options(options: dict[str, str], problem_id: str, quiz_index: int,
                  protocol: EvaluationProtocol) -> tuple[dict[str, str], dict[str, str]]:
    """The options as the answerer sees them and shown letter -> original letter: shuffled
    with a seed fixed per quiz (ours), or in stored order (the study's)."""
    if protocol.shuffle_options:
        return shuffle_options(options, problem_id, quiz_index)
    return dict(options), {k: k for k in options}


def options_text(shown: dict[str, str], protocol: EvaluationProtocol) -> str:
    return "\n".join(f"{letter}{protocol.option_separator}{text}" for letter, text in shown.items())


@dataclass(frozen=True)
class Answer:
    """One reply, as the rows record it: the shown letter read from it (None when none
    was), what it said, its status, and the grading step's verdict where one decided."""

    letter: str | None
    evidence: str
    status: str
    verdict: bool | None = None
    grade: str = ""
    usage: dict | None = None


def _as_answer(reply: Answer | tuple) -> Answer:
    if isinstance(reply, Answer):
        return reply
    letter, evidence, *status = reply
    return Answer(letter, evidence, status[0] if status else ("answered" if letter else "abstained"))


IV_COLUMNS = [
    "problem_id", "model", "protocol", "check", "quiz_index", "image_status", "question", "shown_options_json",
    "shown_order", "shown_answer", "shown_correct", "original_answer", "original_correct", "reference_answer",
    "correct", "abstained", "answer_status", "answerer", "evidence", "grade",
    "blind_shown_answer", "blind_original_answer", "blind_correct", "llm_calls", "llm_tokens", "llm_cost_usd",
]
# Letters: ``shown_*`` as the answerer saw the options (``shown_order`` lists the original
# letter behind each shown one), ``original_*`` as the quiz stores them; with options in
# stored order the two agree. check: quiz | full_question (the scigenbench protocol's
# multimodal_question, graded against ``reference_answer``).
# answer_status: answered | abstained (NONE, or under ours a failed call) | truncated (cut by
# the output budget even after a retry with a larger one: not an abstention, not an answer)
# | failed (under the scigenbench protocol: the answer or grading call failed, which leaves
# the image out as the study does) | corrupted (the stored figure cannot be decoded) |
# not_asked (no rendered image)


def iv_rows(
    item: Any, image_row: Any, model: str, answer: Answerer | None, answerer_name: str,
    blind: Answerer | None = None, protocol: EvaluationProtocol = EVALUATION[STRICT],
) -> list[dict[str, Any]]:
    """One row per quiz; ``answer(question, shown_options)`` sees only the image (bound
    inside the callable) and returns an ``Answer`` (or (shown letter or None, evidence[,
    status])).

    ``blind`` is the same answerer with no image at all: a quiz it gets right says
    nothing about the figure (the control of TIFA-style evaluation)."""
    rows = []
    for i, quiz in enumerate(json.loads(item.quizzes_json)):
        shown, back = shown_options(quiz["options"], item.problem_id, i, protocol)
        correct_shown = next((k for k, v in back.items() if v == quiz["correct_option"]), None)
        row = {
            "problem_id": item.problem_id, "model": model, "protocol": protocol.name, "check": "quiz",
            "quiz_index": i, "image_status": image_row.status if image_row is not None else "missing",
            "question": quiz["question"], "shown_options_json": json.dumps(shown, ensure_ascii=False),
            "shown_order": "".join(back[k] for k in shown), "shown_answer": None, "shown_correct": correct_shown,
            "original_answer": None, "original_correct": quiz["correct_option"], "reference_answer": "",
            "correct": False, "abstained": True, "answer_status": "not_asked", "answerer": answerer_name,
            "evidence": "", "grade": "", "blind_shown_answer": None, "blind_original_answer": None,
            "blind_correct": None, "llm_calls": 0, "llm_tokens": 0, "llm_cost_usd": 0.0,
        }
        if blind is not None:
            letter = _as_answer(blind(quiz["question"], shown)).letter
            row["blind_shown_answer"] = letter
            row["blind_original_answer"] = back.get(letter, letter) if letter else None
            row["blind_correct"] = row["blind_original_answer"] == quiz["correct_option"]
        if answer is not None and row["image_status"] == "ok":
            reply = _as_answer(answer(quiz["question"], shown))
            chosen = back.get(reply.letter, reply.letter) if reply.letter else None  # a letter not shown (E of four) is wrong
            right = reply.verdict if reply.verdict is not None else chosen == quiz["correct_option"]
            row.update(shown_answer=reply.letter, original_answer=chosen, correct=bool(right and reply.status == "answered"),
                       abstained=reply.status == "abstained", evidence=reply.evidence[:300], answer_status=reply.status,
                       grade=reply.grade[:300], **(reply.usage or {}))
        rows.append(row)
    return rows


def full_question_row(item: Any, image_row: Any, model: str, reply: Answer | None, answerer_name: str,
                      protocol: EvaluationProtocol) -> dict[str, Any]:
    """The full-question check of a scigen item (the study's ve_infer.py): its
    multimodal_question answered from the figure, graded against the item's answer."""
    row = dict.fromkeys(IV_COLUMNS) | {
        "problem_id": item.problem_id, "model": model, "protocol": protocol.name, "check": "full_question",
        "quiz_index": -1, "image_status": image_row.status if image_row is not None else "missing",
        "question": item.multimodal_question, "shown_options_json": "", "shown_order": "",
        "reference_answer": str(item.answer), "correct": False, "abstained": False, "answer_status": "not_asked",
        "answerer": answerer_name, "evidence": "", "grade": "", "llm_calls": 0, "llm_tokens": 0, "llm_cost_usd": 0.0}
    if reply is not None and row["image_status"] == "ok":
        row.update(correct=bool(reply.verdict) and reply.status == "answered", answer_status=reply.status,
                   evidence=reply.evidence[:300], grade=reply.grade[:300], **(reply.usage or {}))
    return row


def needs_full_question(item: Any, protocol: EvaluationProtocol) -> bool:
    """Whether an item gets the full-question check: the protocol asks for it and the item
    is a scigen item with a multimodal_question (run.py folds it in for scigen only)."""
    return (protocol.full_question and split_of(item.problem_id) == "scigen"
            and bool(str(getattr(item, "multimodal_question", "") or "").strip()))


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


def _study_roles(llm, protocol: EvaluationProtocol) -> dict[str, str]:
    """The client roles of the scigenbench answer path: the answerer at temperature 0, the
    grading step by the same model at 0, the full-question answer at the provider's
    default temperature (ve_infer.py sends none) and its grading by the grader role's model
    where one is configured (the study used a second model), else the answerer's."""
    fq_grader = "answerer" if llm.is_offline("grader") else "grader"
    return {"answer": client_role(llm, protocol, "answerer", temperature=protocol.answerer_temperature),
            "grade": client_role(llm, protocol, "grader", base="answerer", temperature=protocol.answerer_temperature),
            "full_question": client_role(llm, protocol, "full_question", base="answerer", temperature=None),
            "full_question_grade": client_role(llm, protocol, "full_question_grader", base=fq_grader, temperature=None)}


def _sent(llm, role: str) -> str:
    sent = llm.client().sent_settings(role)
    return (f"T {sent['temperature_requested']}->{sent['temperature_sent']}, max_tokens {sent['max_tokens']}"
            f"{', effort ' + sent['reasoning_effort'] if sent['reasoning_effort'] else ''}"
            f"{', thinking ' + str(sent['thinking_budget']) if sent['thinking_budget'] else ''}"
            f"{', seed ' + str(sent['seed']) if sent['seed'] is not None else ', no seed'}")


def answerer_settings(llm, ocr) -> str:
    """What identifies the answerer in a fingerprint and in every row."""
    protocol = evaluation_protocol(llm)
    if llm.is_offline("answerer"):
        return ocr.describe()
    if protocol.grade_every_reply:
        roles = _study_roles(llm, protocol)
        model = llm.model_id("answerer")
        fq_model = llm.client().settings(roles["full_question_grade"]).model
        return (f"{model}|{prompts.load(protocol.answer_prompt).ref}|{_sent(llm, roles['answer'])}"
                f"|graded by {model}|{prompts.load(protocols.GRADE_PROMPT).ref}|{_sent(llm, roles['grade'])}"
                f"|full question {prompts.load(protocols.FULL_QUESTION_PROMPT).ref}|{_sent(llm, roles['full_question'])}"
                f"|graded by {fq_model}|{prompts.load(protocols.FULL_QUESTION_GRADE_PROMPT).ref}")
    grader = "" if llm.is_offline("grader") else f"|grader {llm.model_id('grader')}|{prompts.load('grade_answer').ref}"
    return f"{llm.model_id('answerer')}|{prompts.load(protocol.answer_prompt).ref}{grader}|{_sent(llm, 'answerer')}"


def iv_settings(llm, ocr) -> list:
    """What identifies the inverse validation in a fingerprint: the answerer and the
    protocol (its choices and prompts), offline too (the order options are shown in)."""
    protocol = evaluation_protocol(llm)
    return [answerer_settings(llm, ocr), protocols.settings(
        protocol, protocol.answer_prompt, *((protocols.GRADE_PROMPT, protocols.FULL_QUESTION_PROMPT,
                                             protocols.FULL_QUESTION_GRADE_PROMPT) if protocol.grade_every_reply else ()))]


CORRUPTED = "the stored figure cannot be decoded (corrupted)"


def iv_table(items: pd.DataFrame, images: pd.DataFrame, model: str, storage, ocr, llm) -> pd.DataFrame:
    """One row per quiz: answered from the image (by the answerer role's model, else by
    the OCR answerer) and, under our protocol, blind; a missing or failed image answers
    nothing. Under the scigenbench protocol each scigen item with a multimodal_question
    gets one more row, the full-question check."""
    return run_partition(iv_work(items, images, model, storage, ocr, llm))


def iv_work(items: pd.DataFrame, images: pd.DataFrame, model: str, storage, ocr, llm) -> PartitionWork:
    """The partition as one item per problem (see ``iv_item``), its rows in order."""
    by_id = {r.problem_id: r for r in images.itertuples(index=False)}
    protocol = evaluation_protocol(llm)
    offline = llm.is_offline("answerer")
    answerer = OFFLINE_ANSWERER if offline else answerer_settings(llm, ocr)
    # The client roles are made once per partition, before the items' calls start.
    roles = {} if offline else (_study_roles(llm, protocol) if protocol.grade_every_reply or protocol.full_question
                                else {"answer": "answerer"})

    def one(item):
        return lambda: iv_item(item, by_id.get(item.problem_id), model, storage, ocr, llm, answerer, protocol, roles)

    return PartitionWork([one(item) for item in items.itertuples(index=False)],
                         lambda results: _iv_frame([row for rows in results for row in rows]))


def _iv_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=IV_COLUMNS)
    frame["llm_cost_usd"] = frame["llm_cost_usd"].astype("Float64")
    return frame


async def iv_item(item: Any, image: Any, model: str, storage, ocr, llm, answerer: str,
                  protocol: EvaluationProtocol | None = None, roles: dict | None = None) -> list[dict[str, Any]]:
    """The rows of one problem. With an answerer model, every quiz is asked from the image
    (and, under ours, blind) all at once, with the full-question check where the protocol
    asks for it; offline, the OCR lookup answers from the figure's tokens and the blind
    control is not measured (it would read nothing by construction: None, not 0). A figure
    whose file cannot be decoded is not sent (its rows say corrupted)."""
    protocol = protocol or evaluation_protocol(llm)
    rendered = image is not None and image.status == "ok"
    if llm.is_offline("answerer"):
        answer = None
        if rendered:
            tokens = await in_lane("ocr", getattr(ocr, "workers", 1), ocr.tokens, storage, image.image_sha256,
                                   image.image_path)

            def answer(q, opts):
                return ocr.answer(tokens, q, opts)
        return iv_rows(item, image, model, answer, answerer, None, protocol)
    roles = roles or _study_roles(llm, protocol)
    url = None
    if rendered:
        png = await in_lane("io", 8, storage.read_bytes, image.image_path)
        url = readable_data_url(png, max_side=1024, rgb=protocol.rgb_images, jpeg_quality=protocol.answer_jpeg_quality)
    prompt = prompts.load(protocol.answer_prompt)
    quizzes = list(enumerate(json.loads(item.quizzes_json)))
    asked = [(i, quiz, seen_url) for seen_url in ([url] if url is not None else [])
             + ([None] if protocol.blind_control else []) for i, quiz in quizzes]
    calls = [answer_quiz(llm, protocol, roles, prompt, item.problem_id, i, quiz, seen_url, blind=seen_url is None)
             for i, quiz, seen_url in asked]
    full = rendered and needs_full_question(item, protocol)
    if full and url is not None:
        calls.append(full_question_answer(llm, roles, item, url))
    replies = await asyncio.gather(*calls)
    calls_done()
    seen, blind_seen = {}, {}
    for (i, quiz, seen_url), reply in zip(asked, replies):
        shown, _ = shown_options(quiz["options"], item.problem_id, i, protocol)
        (seen if seen_url is not None else blind_seen)[(quiz["question"], json.dumps(shown))] = reply

    def answer(q, opts):
        return seen.get((q, json.dumps(opts)), Answer(None, CORRUPTED, "corrupted"))

    def blind(q, opts):
        return blind_seen[(q, json.dumps(opts))]

    rows = iv_rows(item, image, model, answer if rendered else None, answerer,
                   blind if protocol.blind_control else None, protocol)
    if needs_full_question(item, protocol):
        reply = (replies[-1] if url is not None else Answer(None, CORRUPTED, "corrupted")) if full else None
        rows.append(full_question_row(item, image, model, reply, answerer, protocol))
    return rows


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


def study_verdict(text: str) -> bool:
    """The study's reading of a grading reply (quiz.py): the reply without its ```json
    fences, as JSON, its ``is_correct``; anything unreadable is 0 (wrong, not a failure)."""
    clean = (text or "").strip().replace("```json", "").replace("```", "").strip()
    try:
        value = json.loads(clean)
    except json.JSONDecodeError:
        return False
    verdict = value.get("is_correct", 0) if isinstance(value, dict) else 0
    return verdict is True or (not isinstance(verdict, bool) and pd.to_numeric(verdict, errors="coerce") == 1)


def boxed_judgment(text: str) -> str:
    """The study's reading of the full-question grader (prompts.py ``process_judgment``):
    the last \\boxed{A|B|C}; else the reply itself when it is one letter; else, after
    "Final Judgment:", the last "(X)" and then the last A-C letter; else ""."""
    boxed = re.findall(r"boxed\{([A-C])\}", text or "")
    if boxed:
        return boxed[-1]
    if text in ("A", "B", "C"):
        return text
    tail = (text or "").split("Final Judgment:")[-1]
    for pattern in (r"\(([A-C])\)", r"([A-C])"):
        found = re.findall(pattern, tail)
        if found:
            return found[-1]
    return ""


async def answer_quiz(llm, protocol: EvaluationProtocol, roles: dict, prompt, problem_id: str, index: int,
                      quiz: dict, image_url: str | None, blind: bool = False) -> Answer:
    """One quiz answered by the answerer role from the image alone (or, for the blind
    control, with no image), options shown as the rows record them.

    Ours: the reply is read by rule (a letter A-E, bold, boxed, "the answer is C", "C.
    <text>"); what the rules cannot read goes to the grader role when it is configured. A
    failed call counts as an abstention; a truncated one does not. The study's: the raw
    reply goes to the grading step (the answerer's model, text only, shown the question,
    the correct letter and the reply); a failed answer or grading call is "failed"."""
    shown, _ = shown_options(quiz["options"], problem_id, index, protocol)
    options = options_text(shown, protocol)
    fields = ({"quiz_content": f"{quiz['question']}\nOptions:\n{options}"} if protocol.grade_every_reply
              else {"quiz_question": quiz["question"], "options": options})
    request = Request(f"{problem_id}#{index}{'#blind' if blind else ''}",
                      prompt.messages(image_data_url=image_url, **fields), prompt.sha256)
    client = llm.client()
    if protocol.grade_every_reply:
        r = await client.acall(roles["answer"], request)
        g = None
        if r.status == "ok":
            grade_prompt = prompts.load(protocols.GRADE_PROMPT)
            g = await client.acall(roles["grade"], Request(f"{request.item_id}#grade", grade_prompt.messages(
                question=f"{quiz['question']}\nOptions:\n{options}", answer=quiz["correct_option"],
                model_response=r.content.strip()), grade_prompt.sha256))
        usage = call_usage(llm, (roles["answer"], r), (roles["grade"], g))
        if r.status != "ok" or g is None or g.status != "ok":
            why = r.reason if r.status != "ok" else f"grading: {g.reason if g is not None else 'not sent'}"
            return Answer(None, why[:300], "failed", usage=usage)
        return Answer(schemas.read_letter(r.content, "ABCDE"), r.content[:300], "answered",
                      verdict=study_verdict(g.content), grade=g.content[:300], usage=usage)
    with_grader = not llm.is_offline("grader")
    r = await client.acall("answerer", request, _answer_parser("ABCDE", with_grader))
    usage = call_usage(llm, ("answerer", r))
    if r.status == "ok":
        letter = r.value
        if isinstance(letter, _Unread):
            letter = await grade_one(llm, options, str(letter))
        return Answer(letter, r.content[:100], "answered" if letter else "abstained", usage=usage)
    if r.status == "truncated":
        return Answer(None, r.reason[:300], "truncated", usage=usage)
    return Answer(None, r.reason[:100], "abstained", usage=usage)


async def full_question_answer(llm, roles: dict, item: Any, url: str) -> Answer:
    """The full-question check (ve_infer.py): a scigen item's multimodal_question answered
    from its figure, then graded against the item's answer."""
    client = llm.client()
    prompt, grader = prompts.load(protocols.FULL_QUESTION_PROMPT), prompts.load(protocols.FULL_QUESTION_GRADE_PROMPT)
    r = await client.acall(roles["full_question"], Request(f"{item.problem_id}#full", prompt.messages(
        image_data_url=url, question=item.multimodal_question), prompt.sha256))
    g = None
    if r.status == "ok":
        g = await client.acall(roles["full_question_grade"], Request(f"{item.problem_id}#full#grade", grader.messages(
            question=item.multimodal_question, answer=str(item.answer), model_response=r.content.strip()),
            grader.sha256))
    usage = call_usage(llm, (roles["full_question"], r), (roles["full_question_grade"], g))
    if r.status != "ok" or g is None or g.status != "ok":
        why = r.reason if r.status != "ok" else f"grading: {g.reason if g is not None else 'not sent'}"
        return Answer(None, why[:300], "failed", usage=usage)
    return Answer(None, r.content[:300], "answered", verdict=boxed_judgment(g.content) == "A",
                  grade=g.content[-300:], usage=usage)
