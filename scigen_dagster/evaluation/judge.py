"""The judge: five rubric dimensions (0-2) per figure, from the judge role's model, or
from the offline proxy where an honest measure exists ("not measured" elsewhere)."""

from __future__ import annotations

import json
from typing import Any, Sequence

import pandas as pd

from scigen_dagster import prompts
from scigen_dagster.llm import schemas
from scigen_dagster.llm.client import Request
from scigen_dagster.llm.vision import image_data_url
from scigen_dagster.problems.quantities import extract_quantities

JUDGE_DIMENSIONS = (
    "Correctness_Fidelity",
    "Layout_Precision",
    "Readability_Occlusion",
    "Scientific_Plausibility",
    "Expressiveness_Richness",
)


OFFLINE_JUDGE = "offline-proxy:v1"


NOT_MEASURED_OFFLINE = ("Layout_Precision", "Scientific_Plausibility", "Expressiveness_Richness")


def _match_key(text: str) -> str:
    """A comparison key for values in figure text (case, minus signs and spacing folded);
    not a rendering of the text (that is ``quantities.normalize_text``)."""
    text = text.lower().replace("\u2212", "-").replace("×", "x")
    return "".join(ch for ch in text if ch.isalnum() or ch in ".-=%°")


def label_recall(question: str, image_texts: Sequence[str]) -> tuple[float | None, list[str]]:
    """Share of the problem's given values whose number (and unit) the image shows.

    None when the problem states no given value, so the proxy has nothing to check.
    """
    wanted = [q for q in extract_quantities(question) if q.value]
    if not wanted:
        return None, []
    haystack = _match_key(" ".join(image_texts))
    missing = [q.label() for q in wanted if _match_key(f"{q.value}{q.unit}") not in haystack
               and _match_key(q.value) not in haystack]
    return 1 - len(missing) / len(wanted), missing


def _band(value: float, high: float, low: float) -> int:
    return 2 if value >= high else 1 if value >= low else 0


def offline_judge_row(question: str, image_row: Any, image_texts: Sequence[str] | None) -> dict[str, Any]:
    """Scores only what can be measured honestly without a vision-language judge.

    Correctness & Fidelity: recall of the given values in the image's text (OCR).
    Readability & Occlusion: overlapping text artists, known for code-rendered figures.
    The other three dimensions need a judge model and stay missing ("not measured").
    """
    scores: dict[str, Any] = {d: None for d in JUDGE_DIMENSIONS}
    if image_row.status != "ok":
        return scores | {"judge_status": "no_image", "label_recall": None, "missing_labels": "[]",
                         "not_measured": ",".join(JUDGE_DIMENSIONS)}
    recall, missing = label_recall(question, image_texts or [])
    if recall is not None:
        scores["Correctness_Fidelity"] = _band(recall, 0.9, 0.5)
    overlaps = image_row.overlapping_text_pairs
    if overlaps is not None and not pd.isna(overlaps):
        scores["Readability_Occlusion"] = 2 if overlaps == 0 else 1 if overlaps <= 2 else 0
    not_measured = [d for d in JUDGE_DIMENSIONS if scores[d] is None]
    return scores | {
        "judge_status": "ok",
        "label_recall": None if recall is None else round(recall, 4),
        "missing_labels": json.dumps(missing, ensure_ascii=False),
        "not_measured": ",".join(not_measured),
    }


def llm_judge_row(result: Any) -> dict[str, Any]:
    """Scores of a judge model's validated reply; a failed judgement is missing, never 0."""
    if result.status == "ok":
        return result.value.model_dump() | {"judge_status": "ok", "label_recall": None, "missing_labels": "[]",
                                            "not_measured": ""}
    return {d: None for d in JUDGE_DIMENSIONS} | {
        "judge_status": f"{result.status}: {result.reason}"[:300], "label_recall": None, "missing_labels": "[]",
        "not_measured": ",".join(JUDGE_DIMENSIONS)}


JUDGE_COLUMNS = ["problem_id", "model", "judge", "judge_temperature", "prompt", *JUDGE_DIMENSIONS,
                 "judge_status", "label_recall", "missing_labels", "not_measured"]


class _Missing:
    """Stands in for the image row of an item that has none."""

    status = "missing"
    overlapping_text_pairs = None


MISSING_IMAGE = _Missing()


def judge_settings(llm) -> object:
    """What identifies the judge in a fingerprint: the offline proxy, or the model, its
    temperature and the rubric prompt's hash."""
    if llm.is_offline("judge"):
        return OFFLINE_JUDGE
    return [llm.model_id("judge"), llm.judge.temperature, prompts.load("judge").sha256,
            llm.client().sent_settings("judge", schemas.json_schema(schemas.JudgeScores))]


def judge_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=JUDGE_COLUMNS)
    for d in JUDGE_DIMENSIONS:
        frame[d] = frame[d].astype("Int64")
    return frame


def judge_table(items: pd.DataFrame, images: pd.DataFrame, model: str, storage, ocr, llm) -> pd.DataFrame:
    """The five rubric scores of every item's figure: by the judge role's model when one
    is configured, else by the offline proxy (label recall of OCR'd text)."""
    by_id = {r.problem_id: r for r in images.itertuples(index=False)}
    if not llm.is_offline("judge"):
        return _llm_judge_table(storage, llm, model, items, by_id)
    rows = []
    for item in items.itertuples(index=False):
        image = by_id.get(item.problem_id)
        texts = None
        if image is not None and image.status == "ok":
            texts = ocr.texts(ocr.tokens(storage, image.image_sha256, image.image_path))
            if image.text_labels_json:  # code-rendered figures also report their text artists
                texts = texts + json.loads(image.text_labels_json)
        row = offline_judge_row(item.question, image if image is not None else MISSING_IMAGE, texts)
        rows.append({"problem_id": item.problem_id, "model": model, "judge": OFFLINE_JUDGE,
                     "judge_temperature": None, "prompt": "", **row})
    return judge_frame(rows)


def _llm_judge_table(storage, llm, model: str, items: pd.DataFrame, images: dict) -> pd.DataFrame:
    """One judge call per rendered figure (image + problem text), validated to the five
    integer scores; a figure that never rendered is not sent and stays missing."""
    prompt = prompts.load("judge")
    requests, rows = [], {}
    for item in items.itertuples(index=False):
        image = images.get(item.problem_id)
        rows[item.problem_id] = {"problem_id": item.problem_id, "model": model, "judge": llm.model_id("judge"),
                                 "judge_temperature": llm.judge.temperature, "prompt": prompt.ref}
        if image is None or image.status != "ok":
            rows[item.problem_id] |= offline_judge_row(item.question, image or MISSING_IMAGE, None)
            continue
        url = image_data_url(storage.read_bytes(image.image_path))
        requests.append(Request(item.problem_id, prompt.messages(image_data_url=url, question=item.question),
                                prompt.sha256))
    for result in llm.client().batch("judge", requests, schemas.parse_judge,
                                        schema=schemas.json_schema(schemas.JudgeScores)):
        rows[result.item_id] |= llm_judge_row(result)
    return judge_frame(list(rows.values()))
