"""ImgCoder: plan -> matplotlib code -> the sandbox, with the model planner or the rule
planner; a failed render goes back to the planner with its error."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from scigen_dagster import prompts
from scigen_dagster.generation import protocol as generation_protocol
from scigen_dagster.generation import rules as imgcoder_rules
from scigen_dagster.generation.image_table import IMAGE_COLUMNS, base_row, item_dict
from scigen_dagster.generation.plan import FigurePlan
from scigen_dagster.generation.planner import llm_plan, planner_role
from scigen_dagster.streaming import PartitionWork, in_lane, run_partition

if TYPE_CHECKING:  # the registry imports the generation functions of each kind
    from scigen_dagster.registry import ModelSpec


OFFLINE_PLANNER = "offline:rules"


def render_imgcoder(items: pd.DataFrame, spec: ModelSpec, sandbox, storage, llm=None) -> pd.DataFrame:
    """Plan and render every item; a failed render goes back to the planner with its
    error (up to ``spec.max_attempts``: one under the scigenbench protocol), and the final
    status is recorded."""
    work = imgcoder_items(items, spec, sandbox, storage, llm)
    return run_partition(PartitionWork(work, lambda rows: pd.DataFrame(rows, columns=IMAGE_COLUMNS)))


def imgcoder_items(items: pd.DataFrame, spec: ModelSpec, sandbox, storage, llm=None) -> list:
    """One coroutine function per item, each returning the item's row of the image table,
    under the model's generation protocol (planner prompt, attempts)."""
    spec = generation_protocol.apply(spec)
    planner_prompt = generation_protocol.generation_protocol(spec).planner_prompt
    planner_ref = (f"{OFFLINE_PLANNER}:{imgcoder_rules.PLANNER_VERSION}" if spec.planner == OFFLINE_PLANNER
                   else f"{spec.planner}|{prompts.load(planner_prompt).ref}")
    client = None if spec.planner == OFFLINE_PLANNER else llm.client_with(planner_role(spec), spec.planner_settings())

    def one(item: dict):
        return lambda: imgcoder_item(item, spec, sandbox, storage, client, planner_ref)

    return [one(item_dict(r)) for r in items.itertuples(index=False)]


async def plan_one(item: dict, hint: str | None, spec: ModelSpec, client) -> Any:
    """A plan for one item: the rule planner's (or its Declined), or the model's (or the
    failed call's result)."""
    if spec.planner == OFFLINE_PLANNER:
        return imgcoder_rules.plan_figure(item, repair_hint=hint)
    return await llm_plan(item, hint, spec, client)


async def render_one(sandbox, code: str):
    """One script in the sandbox, on a thread of the sandbox lane (one per worker)."""
    return await in_lane("sandbox", getattr(sandbox, "workers", 2), sandbox.render, code)


async def imgcoder_item(item: dict, spec: ModelSpec, sandbox, storage, client, planner_ref: str) -> dict[str, Any]:
    """One item from plan to its final row: plan, render, and on a failed render a
    repair with the error (up to ``spec.max_attempts``), never waiting for other items."""
    row = base_row(item["problem_id"], spec) | {"prompt": planner_ref}
    hint = None
    for attempt in range(1, spec.max_attempts + 1):
        plan = await plan_one(item, hint, spec, client)
        if isinstance(plan, imgcoder_rules.Declined):  # no template fits: no figure, the reason kept
            row.update(status="declined", attempts=attempt, reason=plan.reason[:500])
            break
        if not isinstance(plan, FigurePlan):  # the planner call itself failed
            row.update(status="failed", attempts=attempt, reason=f"planner {plan.status}: {plan.reason}"[:500])
            break
        res = await render_one(sandbox, plan.code)
        row.update(
            attempts=attempt,
            plan_json=json.dumps(plan.sections, ensure_ascii=False),
            code=plan.code,
            exec_log=(row["exec_log"] + f"--- attempt {attempt}: {res.status}\n{res.error}\n{res.log}")[-4000:],
            render_seconds=round(res.seconds, 4),
        )
        if res.status == "ok":
            sha, rel = await in_lane("io", 8, storage.put_png, res.png)
            row.update(
                status="ok", reason="", image_sha256=sha, image_path=rel, width=res.width, height=res.height,
                text_labels_json=json.dumps(list(res.text_labels), ensure_ascii=False),
                overlapping_text_pairs=int(res.overlapping_text_pairs),
            )
            break
        row.update(status="failed", reason=f"{res.status}: {res.error}".strip()[:500])
        hint = res.error or res.status
    return row
