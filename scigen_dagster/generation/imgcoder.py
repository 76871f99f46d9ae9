"""ImgCoder: plan -> matplotlib code -> the sandbox, with the model planner or the rule
planner; a failed render goes back to the planner with its error."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pandas as pd

from scigen_dagster import prompts
from scigen_dagster.generation import protocol as generation_protocol
from scigen_dagster.generation import rules as imgcoder_rules
from scigen_dagster.generation.image_table import IMAGE_COLUMNS, base_row, item_dict
from scigen_dagster.generation.plan import FigurePlan
from scigen_dagster.generation.planner import llm_plans

if TYPE_CHECKING:  # the registry imports the generation functions of each kind
    from scigen_dagster.registry import ModelSpec


OFFLINE_PLANNER = "offline:rules"


def render_imgcoder(items: pd.DataFrame, spec: ModelSpec, sandbox, storage, llm=None) -> pd.DataFrame:
    """Plan and render every item; a failed render goes back to the planner with its
    error (up to ``spec.max_attempts``: one under the scigenbench protocol), and the final
    status is recorded."""
    spec = generation_protocol.apply(spec)
    planner_prompt = generation_protocol.generation_protocol(spec).planner_prompt
    planner_ref = (f"{OFFLINE_PLANNER}:{imgcoder_rules.PLANNER_VERSION}" if spec.planner == OFFLINE_PLANNER
                   else f"{spec.planner}|{prompts.load(planner_prompt).ref}")
    rows = {r.problem_id: base_row(r.problem_id, spec) | {"prompt": planner_ref} for r in items.itertuples(index=False)}
    pending = {r.problem_id: (item_dict(r), None) for r in items.itertuples(index=False)}
    for attempt in range(1, spec.max_attempts + 1):
        if not pending:
            break
        if spec.planner == OFFLINE_PLANNER:
            plans = {pid: imgcoder_rules.plan_figure(item, repair_hint=hint) for pid, (item, hint) in pending.items()}
            for pid, plan in list(plans.items()):
                if isinstance(plan, imgcoder_rules.Declined):  # no template fits: no figure, the reason kept
                    rows[pid].update(status="declined", attempts=attempt, reason=plan.reason[:500])
                    del plans[pid]
        else:
            plans = llm_plans(pending, spec, llm)
            for pid, plan in list(plans.items()):
                if not isinstance(plan, FigurePlan):  # the planner call itself failed
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
