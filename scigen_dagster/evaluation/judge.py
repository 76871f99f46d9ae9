"""The judge: the five rubric dimensions (0-2) per figure, only ever from the judge role's
model. Offline the rubric is "not measured" (with the reason), and the figure gets the OCR
proxies of :mod:`scigen_dagster.evaluation.proxies` in columns of their own."""

from __future__ import annotations

import asyncio
from typing import Any

import pandas as pd

from scigen_dagster import prompts
from scigen_dagster.evaluation import proxies
from scigen_dagster.llm import schemas
from scigen_dagster.llm.client import Request
from scigen_dagster.llm.vision import image_data_url
from scigen_dagster.streaming import PartitionWork, calls_done, in_lane, run_partition

JUDGE_DIMENSIONS = (
    "Correctness_Fidelity",
    "Layout_Precision",
    "Readability_Occlusion",
    "Scientific_Plausibility",
    "Expressiveness_Richness",
)


OFFLINE_JUDGE = f"offline proxies ({proxies.PROXY_VERSION}), no rubric judge"

OFFLINE_REASON = ("not measured: no rubric judge is configured (the judge role is offline); the rubric needs a "
                  "vision-language judge, the proxy columns measure something else")


def offline_judge_row(question: str, image_row: Any, png: bytes | None, tokens) -> dict[str, Any]:
    """No rubric score (a proxy is a different construct and never stands in for one),
    plus the OCR proxies of the figure's PNG."""
    scores: dict[str, Any] = dict.fromkeys(JUDGE_DIMENSIONS)
    status = "ok" if image_row.status == "ok" else "no_image"
    return scores | proxies.proxy_row(question, png if status == "ok" else None, tokens) | {
        "judge_status": status, "not_measured": ",".join(JUDGE_DIMENSIONS), "not_measured_reason": OFFLINE_REASON}


def llm_judge_row(result: Any) -> dict[str, Any]:
    """Scores of a judge model's validated reply; a failed judgement is missing, never 0."""
    if result.status == "ok":
        return result.value.model_dump() | {"judge_status": "ok", "not_measured": "", "not_measured_reason": ""}
    return dict.fromkeys(JUDGE_DIMENSIONS) | {
        "judge_status": f"{result.status}: {result.reason}"[:300], "not_measured": ",".join(JUDGE_DIMENSIONS),
        "not_measured_reason": "the judge call failed (missing, never 0)"}


JUDGE_COLUMNS = ["problem_id", "model", "judge", "judge_temperature", "prompt", *JUDGE_DIMENSIONS,
                 "judge_status", "not_measured", "not_measured_reason", *proxies.PROXY_COLUMNS]


class _Missing:
    """Stands in for the image row of an item that has none."""

    status = "missing"


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
    for c in (*JUDGE_DIMENSIONS, "text_overlaps", "labels_crossed_by_lines", "text_lines_read"):
        frame[c] = frame[c].astype("Int64")
    frame["given_values_shown"] = frame["given_values_shown"].astype("Float64")
    return frame


def _figure(storage, ocr, image) -> tuple[bytes | None, list | None]:
    """The PNG of a rendered figure and its OCR tokens (cached), or (None, None)."""
    if image is None or image.status != "ok":
        return None, None
    return storage.read_bytes(image.image_path), ocr.tokens(storage, image.image_sha256, image.image_path)


def judge_table(items: pd.DataFrame, images: pd.DataFrame, model: str, storage, ocr, llm) -> pd.DataFrame:
    """Every item's figure: the rubric by the judge role's model when one is configured
    (else "not measured"), and the OCR proxies of its PNG either way."""
    return run_partition(judge_work(items, images, model, storage, ocr, llm))


def judge_work(items: pd.DataFrame, images: pd.DataFrame, model: str, storage, ocr, llm) -> PartitionWork:
    """The partition as one item per figure (see ``judge_item``), in item order."""
    by_id = {r.problem_id: r for r in images.itertuples(index=False)}

    def one(item):
        return lambda: judge_item(item, by_id.get(item.problem_id), model, storage, ocr, llm)

    return PartitionWork([one(item) for item in items.itertuples(index=False)], judge_frame)


async def judge_item(item: Any, image: Any, model: str, storage, ocr, llm) -> dict[str, Any]:
    """One figure's row. With a judge model: one call with the image and the
    problem text, validated to the five integer scores, while the figure's OCR proxies are
    read; a figure that never rendered is not sent and stays missing. Offline: the
    proxies, the rubric "not measured"."""
    workers = getattr(ocr, "workers", 1)
    if llm.is_offline("judge"):
        png, tokens = await in_lane("ocr", workers, _figure, storage, ocr, image)
        return {"problem_id": item.problem_id, "model": model, "judge": OFFLINE_JUDGE, "judge_temperature": None,
                "prompt": "", **offline_judge_row(item.question, image or MISSING_IMAGE, png, tokens)}
    prompt = prompts.load("judge")
    row = {"problem_id": item.problem_id, "model": model, "judge": llm.model_id("judge"),
           "judge_temperature": llm.judge.temperature, "prompt": prompt.ref}
    if image is None or image.status != "ok":
        return row | proxies.proxy_row(item.question, None, None) | dict.fromkeys(JUDGE_DIMENSIONS) | {
            "judge_status": "no_image", "not_measured": ",".join(JUDGE_DIMENSIONS),
            "not_measured_reason": "no figure to judge"}
    png = await in_lane("io", 8, storage.read_bytes, image.image_path)
    tokens = asyncio.ensure_future(in_lane("ocr", workers, ocr.tokens, storage, image.image_sha256, image.image_path))
    try:
        result = await llm.client().acall("judge", Request(item.problem_id, prompt.messages(
            image_data_url=image_data_url(png), question=item.question), prompt.sha256),
            schemas.parse_judge, schema=schemas.json_schema(schemas.JudgeScores))
    except BaseException:
        tokens.cancel()
        raise
    calls_done()
    return row | proxies.proxy_row(item.question, png, await tokens) | llm_judge_row(result)
