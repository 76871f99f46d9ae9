"""The judge: the five rubric dimensions (0-2) per figure, only ever from the judge role's
model. Offline the rubric is "not measured" (with the reason), and the figure gets the OCR
proxies of :mod:`scigen_dagster.evaluation.proxies` in columns of their own."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pandas as pd

from scigen_dagster import prompts
from scigen_dagster.evaluation import proxies
from scigen_dagster.evaluation.protocol import EvaluationProtocol, call_usage, client_role, evaluation_protocol
from scigen_dagster.evaluation.protocol import settings as protocol_settings
from scigen_dagster.llm import schemas
from scigen_dagster.llm.client import Request
from scigen_dagster.llm.vision import readable_data_url
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


_FENCED_JSON = re.compile(r"```json\s*(.*?)```", re.S | re.I)


def parse_fenced_scores(text: str) -> dict[str, int | None]:
    """The study's judge reading (llm_as_judge.py): only a fenced ```json block counts; a
    key it lacks scores 0, a value that is not a whole number is missing (the study's mean
    drops such a row). No block, or a block that is not JSON, raises (asked again)."""
    m = _FENCED_JSON.search(text or "")
    if not m:
        raise ValueError("no ```json block with the five scores")
    try:
        raw = json.loads(m.group(1).strip())
    except json.JSONDecodeError as exc:
        raise ValueError(f"the ```json block is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError("the ```json block is not an object")
    out: dict[str, int | None] = {}
    for d in JUDGE_DIMENSIONS:
        value = raw.get(d, 0)
        number = pd.to_numeric(value, errors="coerce") if not isinstance(value, bool) else float("nan")
        out[d] = int(number) if pd.notna(number) and float(number).is_integer() else None
    return out


def llm_judge_row(result: Any) -> dict[str, Any]:
    """Scores of a judge model's validated reply; a failed judgement is missing, never 0."""
    if result.status == "ok":
        scores = result.value if isinstance(result.value, dict) else result.value.model_dump()
        return scores | {"judge_status": "ok", "not_measured": "", "not_measured_reason": ""}
    return dict.fromkeys(JUDGE_DIMENSIONS) | {
        "judge_status": f"{result.status}: {result.reason}"[:300], "not_measured": ",".join(JUDGE_DIMENSIONS),
        "not_measured_reason": "the judge call failed (missing, never 0)"}


JUDGE_COLUMNS = ["problem_id", "model", "protocol", "judge", "judge_temperature", "prompt", *JUDGE_DIMENSIONS,
                 "judge_status", "not_measured", "not_measured_reason", *proxies.PROXY_COLUMNS,
                 "llm_calls", "llm_tokens", "llm_cost_usd"]


class _Missing:
    """Stands in for the image row of an item that has none."""

    status = "missing"


MISSING_IMAGE = _Missing()


def judge_temperature(llm, protocol: EvaluationProtocol) -> float | None:
    return llm.judge.temperature if protocol.judge_temperature is None else protocol.judge_temperature


def judge_role(llm, protocol: EvaluationProtocol | None = None) -> str:
    """The client role the judge's calls go under (its own per protocol, see client_role)."""
    protocol = protocol or evaluation_protocol(llm)
    return client_role(llm, protocol, "judge", temperature=judge_temperature(llm, protocol))


def _judge_schema(protocol: EvaluationProtocol) -> dict | None:
    """The reply schema sent as response_format: none under the study's contract (a reasoned
    reply ending in a fenced json block)."""
    return None if protocol.judge_fenced_json else schemas.json_schema(schemas.JudgeScores)


def judge_settings(llm) -> object:
    """What identifies the judge in a fingerprint: the protocol, and the offline proxy or
    the model, its temperature and the rubric prompt's hash."""
    protocol = evaluation_protocol(llm)
    if llm.is_offline("judge"):
        return [OFFLINE_JUDGE, protocol.name]
    return [llm.model_id("judge"), judge_temperature(llm, protocol), protocol_settings(protocol, protocol.judge_prompt),
            llm.client().sent_settings(judge_role(llm, protocol), _judge_schema(protocol))]


def judge_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=JUDGE_COLUMNS)
    for c in (*JUDGE_DIMENSIONS, "text_overlaps", "labels_crossed_by_lines", "text_lines_read", "llm_calls",
              "llm_tokens"):
        frame[c] = frame[c].astype("Int64")
    for c in ("given_values_shown", "llm_cost_usd"):
        frame[c] = frame[c].astype("Float64")
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
    protocol = evaluation_protocol(llm)
    # The judge's client role under this protocol (its own per protocol), made once per partition.
    role = None if llm.is_offline("judge") else judge_role(llm, protocol)

    def one(item):
        return lambda: judge_item(item, by_id.get(item.problem_id), model, storage, ocr, llm, protocol, role)

    return PartitionWork([one(item) for item in items.itertuples(index=False)], judge_frame)


async def judge_item(item: Any, image: Any, model: str, storage, ocr, llm,
                     protocol: EvaluationProtocol | None = None, role: str | None = None) -> dict[str, Any]:
    """One figure's row. With a judge model: one call with the image and the problem text
    (under the run's protocol: its rubric, image size and reply contract), read into the
    five integer scores while the figure's OCR proxies are read; a figure that never
    rendered, or whose file cannot be decoded, is not sent and stays missing. Under the
    scigenbench protocol the judge gets the study's rubric, the figure at full resolution
    (RGB), and its reply is read from the fenced json block only. Offline: the proxies,
    the rubric "not measured"."""
    protocol = protocol or evaluation_protocol(llm)
    workers = getattr(ocr, "workers", 1)
    no_cost = {"llm_calls": 0, "llm_tokens": 0, "llm_cost_usd": 0.0}
    if llm.is_offline("judge"):
        png, tokens = await in_lane("ocr", workers, _figure, storage, ocr, image)
        return {"problem_id": item.problem_id, "model": model, "protocol": protocol.name, "judge": OFFLINE_JUDGE,
                "judge_temperature": None, "prompt": "",
                **offline_judge_row(item.question, image or MISSING_IMAGE, png, tokens), **no_cost}
    role = role or judge_role(llm, protocol)
    prompt = prompts.load(protocol.judge_prompt)
    row = {"problem_id": item.problem_id, "model": model, "protocol": protocol.name, "judge": llm.model_id("judge"),
           "judge_temperature": judge_temperature(llm, protocol), "prompt": prompt.ref} | no_cost
    if image is None or image.status != "ok":
        return row | proxies.proxy_row(item.question, None, None) | dict.fromkeys(JUDGE_DIMENSIONS) | {
            "judge_status": "no_image", "not_measured": ",".join(JUDGE_DIMENSIONS),
            "not_measured_reason": "no figure to judge"}
    png = await in_lane("io", 8, storage.read_bytes, image.image_path)
    tokens = asyncio.ensure_future(in_lane("ocr", workers, ocr.tokens, storage, image.image_sha256, image.image_path))
    url = readable_data_url(png, max_side=protocol.judge_image_max_side, rgb=protocol.rgb_images)
    if url is None:
        return row | proxies.proxy_row(item.question, png, await tokens) | dict.fromkeys(JUDGE_DIMENSIONS) | {
            "judge_status": "corrupted", "not_measured": ",".join(JUDGE_DIMENSIONS),
            "not_measured_reason": "the stored figure cannot be decoded (corrupted)"}
    parse = parse_fenced_scores if protocol.judge_fenced_json else schemas.parse_judge
    try:
        result = await llm.client().acall(role, Request(item.problem_id, prompt.messages(
            image_data_url=url, question=item.question), prompt.sha256), parse, schema=_judge_schema(protocol))
    except BaseException:
        tokens.cancel()
        raise
    calls_done()
    return (row | proxies.proxy_row(item.question, png, await tokens) | llm_judge_row(result)
            | call_usage(llm, (role, result)))
