"""Image generation logic, free of Dagster: ImgCoder (plan -> code -> sandbox, with
repair) and pixel models (diffusers). Each returns one row per problem."""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
from typing import Any

import pandas as pd
from PIL import Image

from . import prompts
from .evaluation import load_rgb
from .llm.client import Request
from .offline import imgcoder_rules
from .registry import ModelSpec
from .resources.storage import StorageResource

IMAGE_COLUMNS = [
    "problem_id", "model", "status", "reason", "image_sha256", "image_path", "width", "height",
    "attempts", "plan_json", "code", "exec_log", "render_seconds", "text_labels_json",
    "overlapping_text_pairs", "prompt", "seed", "note", "answer_leak", "leak_terms",
]

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def leaked_answer_terms(question: str, answer: str, image_texts: list[str]) -> list[str]:
    """Numbers of the answer that the problem does not state but the figure shows.

    Single digits are left out: tick labels and enumerations show them in honest figures.
    """
    given = set(_NUMBER.findall(question))
    wanted = {n for n in _NUMBER.findall(answer) if n not in given and len(n.replace(".", "").replace(",", "")) >= 2}
    shown = set(_NUMBER.findall(" ".join(image_texts)))
    return sorted(wanted & shown)


def flag_leaks(frame: pd.DataFrame, items: pd.DataFrame, ocr, storage: StorageResource) -> pd.DataFrame:
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


def item_dict(row: Any) -> dict[str, Any]:
    return {
        "problem_id": row.problem_id,
        "question": row.question,
        "answer": row.answer,
        "image_type": row.image_type,
        "elements": json.loads(row.elements_json),
        "quizzes": json.loads(row.quizzes_json),
    }


def _base_row(problem_id: str, spec: ModelSpec) -> dict[str, Any]:
    return {c: None for c in IMAGE_COLUMNS} | {
        "problem_id": problem_id, "model": spec.name, "reason": "", "attempts": 0,
        "plan_json": "", "code": "", "exec_log": "", "text_labels_json": "[]",
        "overlapping_text_pairs": None, "prompt": "", "note": "",
    }


OFFLINE_PLANNER = "offline:rules"


def _llm_plans(pending: dict, spec: ModelSpec, llm) -> dict[str, Any]:
    """Plans from the registry model's planner: one call per item, the reply parsed into
    the four parts and the code; a repair sends the last error back with the item."""
    prompt = prompts.load("imgcoder_plan")
    client = llm.client_with(f"planner:{spec.name}", spec.planner_settings())
    requests = []
    for pid, (item, hint) in pending.items():
        repair = (f"Your previous script failed with:\n{hint}\nWrite the whole plan and script again, fixed."
                  if hint else "")
        requests.append(Request(pid, prompt.messages(
            image_type=item["image_type"], elements="\n".join(f"- {e}" for e in item["elements"]),
            question=item["question"], repair=repair), prompt.sha256))
    results = client.batch(f"planner:{spec.name}", requests, imgcoder_rules.parse_plan_text)
    return {r.item_id: (r.value if r.status == "ok" else r) for r in results}


def render_imgcoder(items: pd.DataFrame, spec: ModelSpec, sandbox, storage: StorageResource, llm=None) -> pd.DataFrame:
    """Plan and render every item; a failed render goes back to the planner with its
    error (up to ``spec.max_attempts``), and the final status is recorded."""
    planner_ref = (f"{OFFLINE_PLANNER}:{imgcoder_rules.PLANNER_VERSION}" if spec.planner == OFFLINE_PLANNER
                   else f"{spec.planner}|{prompts.load('imgcoder_plan').ref}")
    rows = {r.problem_id: _base_row(r.problem_id, spec) | {"prompt": planner_ref} for r in items.itertuples(index=False)}
    pending = {r.problem_id: (item_dict(r), None) for r in items.itertuples(index=False)}
    for attempt in range(1, spec.max_attempts + 1):
        if not pending:
            break
        if spec.planner == OFFLINE_PLANNER:
            plans = {pid: imgcoder_rules.plan_figure(item, repair_hint=hint) for pid, (item, hint) in pending.items()}
        else:
            plans = _llm_plans(pending, spec, llm)
            for pid, plan in list(plans.items()):
                if not isinstance(plan, imgcoder_rules.FigurePlan):  # the planner call itself failed
                    rows[pid].update(status="failed", attempts=attempt, reason=f"planner {plan.status}: {plan.reason}"[:500])
                    del plans[pid]
        results = sandbox.render_many([p.code for p in plans.values()])
        retry = {}
        for (pid, plan), res in zip(plans.items(), results):
            row = rows[pid]
            row.update(
                attempts=attempt,
                plan_json=json.dumps(plan.sections, ensure_ascii=False),
                code=plan.code,
                exec_log=(row["exec_log"] + f"--- attempt {attempt}: {res.status}\n{res.error}\n{res.log}")[-4000:],
                render_seconds=round(res.seconds, 4),
            )
            if res.status == "ok":
                sha, rel = storage.put_png(res.png)
                row.update(
                    status="ok", reason="", image_sha256=sha, image_path=rel, width=res.width, height=res.height,
                    text_labels_json=json.dumps(list(res.text_labels), ensure_ascii=False),
                    overlapping_text_pairs=int(res.overlapping_text_pairs),
                )
            else:
                row.update(status="failed", reason=f"{res.status}: {res.error}".strip()[:500])
                retry[pid] = (pending[pid][0], res.error or res.status)
        pending = retry
    return pd.DataFrame(list(rows.values()), columns=IMAGE_COLUMNS)


def render_image_api(items: pd.DataFrame, spec: ModelSpec, llm, storage: StorageResource) -> pd.DataFrame:
    """Closed image models through litellm's image generation, with the cache, ledger,
    limits and retries of every other model call; a failure stays in the row."""
    client = llm.client_with(f"images:{spec.name}", spec.image_api_settings())
    prompt_hash = hashlib.sha256(spec.prompt_template.encode()).hexdigest()
    rows, requests = [], []
    for r in items.itertuples(index=False):
        row = _base_row(r.problem_id, spec) | {"prompt": spec.prompt_template.replace("{question}", r.question)}
        rows.append(row)
        requests.append(Request(r.problem_id, [{"role": "user", "content": row["prompt"]}], prompt_hash))
    for row, result in zip(rows, client.image_batch(f"images:{spec.name}", requests, spec.size)):
        row["attempts"] = result.attempts
        if result.status != "ok":
            row.update(status=result.status, reason=result.reason[:500])
            continue
        sha, rel = storage.put_png(result.value)
        width, height = Image.open(io.BytesIO(result.value)).size
        row.update(status="ok", image_sha256=sha, image_path=rel, width=width, height=height)
    return pd.DataFrame(rows, columns=IMAGE_COLUMNS)


def copy_reference_figures(items: pd.DataFrame, spec: ModelSpec, storage: StorageResource) -> pd.DataFrame:
    """The "real figures" model: each item's reference figure, flattened on white and
    stored as PNG like any generated image; items without one get no row (they are not
    part of this row's denominator)."""
    rows = []
    for r in items.itertuples(index=False):
        if not r.reference_image:
            continue
        row = _base_row(r.problem_id, spec) | {"note": "real reference figure", "attempts": 1}
        try:
            rgb = load_rgb(r.reference_image)  # flattened on paper white, as every metric sees it
            buf = io.BytesIO()
            Image.fromarray(rgb.astype("uint8")).save(buf, format="PNG")
            sha, rel = storage.put_png(buf.getvalue())
            row.update(status="ok", image_sha256=sha, image_path=rel, width=rgb.shape[1], height=rgb.shape[0])
        except (OSError, ValueError) as exc:
            row.update(status="failed", reason=f"unreadable_reference: {r.reference_image}: {exc}")
        rows.append(row)
    return pd.DataFrame(rows, columns=IMAGE_COLUMNS)


def render_diffusers(items: pd.DataFrame, spec: ModelSpec, diffusion, storage: StorageResource) -> pd.DataFrame:
    from .resources.diffusion import seed_for

    rows, questions, seeds = [], [], []
    for r in items.itertuples(index=False):
        row = _base_row(r.problem_id, spec)
        # The resource applies the model's prompt template; the row records what was sent.
        row["prompt"] = diffusion.format_prompt(r.question)
        row["seed"] = seed_for(r.problem_id, spec.seed)
        rows.append(row)
        questions.append(r.question)
        seeds.append(row["seed"])
    if not rows:
        return pd.DataFrame(columns=IMAGE_COLUMNS)
    start = time.perf_counter()
    try:
        images = diffusion.generate(questions, seeds)
    except Exception as exc:  # a failed batch stays in the table with its reason
        for row in rows:
            row.update(status="failed", reason=f"generation error: {type(exc).__name__}: {exc}"[:500], attempts=1)
        return pd.DataFrame(rows, columns=IMAGE_COLUMNS)
    per_image = (time.perf_counter() - start) / len(rows)
    for row, image in zip(rows, images):
        sha, rel = storage.put_png(image.png)
        width, height = Image.open(io.BytesIO(image.png)).size
        row.update(status="ok", image_sha256=sha, image_path=rel, width=width, height=height,
                   attempts=1, render_seconds=round(per_image, 4), note=image.note)
    return pd.DataFrame(rows, columns=IMAGE_COLUMNS)
