"""The graph against the provider emulator as a new user would run it: an ImgCoder model
whose planner is anthropic/claude-sonnet-4-5 (extended thinking), the judge on
gemini/gemini-3-flash (thinks by default) and the answerer on openai/gpt-5-mini (a
reasoning model), each through litellm's real request path over HTTP. The answerer is
always right, in varied reply styles, so R_inv must equal the share of figures rendered;
a user price table prices the Gemini judge, which litellm's map does not."""

import json

import dagster as dg
import pandas as pd
import pytest

from scigen_dagster.definitions import build_definitions
from scigen_dagster.devtools.provider_emulator import ProviderEmulator, scigen_responder
from scigen_dagster.evaluation import inverse
from scigen_dagster.registry import ModelSpec
from scigen_dagster.resources.llm import LLMResource, RoleConfig

PARTITIONS = ["physics.mechanical", "physics.circuit"]
PLANNER, JUDGE, ANSWERER = "anthropic/claude-sonnet-4-5", "gemini/gemini-3-flash", "openai/gpt-5-mini"
PRICES = {JUDGE: {"input_usd_per_mtok": 0.5, "output_usd_per_mtok": 3.0}}


class AnswerKey:
    """Always right: the correct option's text of the quiz, read from the stored items."""

    def __init__(self, root):
        self.root, self.by_question = root, {}

    def __call__(self, question, options):
        key = (question, tuple(sorted(options.values())))
        if key not in self.by_question:
            for path in (self.root / "tables" / "benchmark_items").glob("*.parquet"):
                for quizzes in pd.read_parquet(path)["quizzes_json"]:
                    for quiz in json.loads(quizzes):
                        self.by_question[(quiz["question"], tuple(sorted(quiz["options"].values())))] = \
                            quiz["options"][quiz["correct_option"]]
        right = self.by_question.get(key)
        return next((k for k, v in options.items() if v == right), None)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("providers-store")
    with ProviderEmulator(scigen_responder(AnswerKey(root))) as emu:
        spec = ModelSpec(name="imgcoder_claude", kind="imgcoder", planner=PLANNER, api_base=emu.anthropic_base,
                         thinking_budget=2048, max_tokens=8192)
        llm = LLMResource(
            judge=RoleConfig(model=JUDGE, api_base=emu.gemini_base, temperature=0.1),
            answerer=RoleConfig(model=ANSWERER, api_base=emu.openai_base, reasoning_effort="low"),
            prices=PRICES,
        )
        defs = build_definitions(models=[spec], store_root=str(root), llm=llm)
        job = defs.resolve_job_def("scigen_all")
        instance = dg.DagsterInstance.ephemeral()
        results = [job.execute_in_process(partition_key=p, instance=instance) for p in PARTITIONS]
        yield {"root": root, "defs": defs, "results": results, "emu": emu, "ledger": _ledger(results)}


def _ledger(results) -> dict:
    """The run's cost ledger: every step's llm_usage, summed per role."""
    roles: dict = {}
    for result in results:
        for event in result.get_asset_materialization_events():
            usage = event.materialization.metadata.get("llm_usage")
            for role, row in ((usage.value if usage else {}).get("by_role") or {}).items():
                acc = roles.setdefault(role, {"model": row["model"], "calls": 0, "prompt_tokens": 0,
                                              "completion_tokens": 0, "cost_usd": 0.0})
                for k in ("calls", "prompt_tokens", "completion_tokens"):
                    acc[k] += row[k]
                acc["cost_usd"] = row["cost_usd"] if isinstance(row["cost_usd"], str) else acc["cost_usd"] + row["cost_usd"]
    total = sum(r["cost_usd"] for r in roles.values() if not isinstance(r["cost_usd"], str))
    return {"by_role": roles, "cost_usd": round(total, 6)}


def _table(run, family):
    storage = run["defs"].resources["storage"]
    return pd.concat([storage.read_table(f"{family}/imgcoder_claude", p) for p in PARTITIONS], ignore_index=True)


def test_every_provider_was_called_and_none_rejected(run):
    assert all(r.success for r in run["results"])
    emu = run["emu"]
    assert emu.stats.by_provider["anthropic"] and emu.stats.by_provider["gemini"] and emu.stats.by_provider["openai"]
    assert not emu.stats.rejected, f"the emulator refused requests: {dict(emu.stats.rejected)}"
    sent = [b for p, _, b in emu.stats.bodies if p == "anthropic"]
    assert all("seed" not in b and b["thinking"]["budget_tokens"] == 2048 and "temperature" not in b for b in sent)
    assert all(b["model"] == "gpt-5-mini" and "temperature" not in b and b["reasoning_effort"] == "low"
               for p, _, b in emu.stats.bodies if p == "openai")


def test_most_figures_render_and_r_inv_equals_the_rendered_share(run):
    images, iv = _table(run, "images"), _table(run, "iv_results")
    rendered = float((images["status"] == "ok").mean())
    assert rendered >= 0.9, images[["problem_id", "status", "reason"]].to_dict("records")
    assert inverse.r_inv(iv) == pytest.approx(rendered)
    asked = iv[iv["image_status"] == "ok"]
    assert (asked["answer_status"] == "answered").all() and asked["correct"].all()


def test_judge_scores_come_from_gemini(run):
    judge = _table(run, "judge_scores")
    ok = judge[judge["judge_status"] == "ok"]
    assert len(ok) and (ok["judge"] == JUDGE).all()


def test_the_ledger_prices_every_role_with_the_user_table(run, capsys):
    ledger = run["ledger"]
    roles = ledger["by_role"]
    assert set(roles) == {"planner:imgcoder_claude", "judge", "answerer"}
    judge = roles["judge"]
    want = judge["prompt_tokens"] * 0.5e-6 + judge["completion_tokens"] * 3e-6
    assert judge["cost_usd"] == pytest.approx(want, rel=1e-4) and want > 0
    assert all(isinstance(r["cost_usd"], float) and r["cost_usd"] > 0 for r in roles.values()), roles
    with capsys.disabled():
        print("\ncost ledger of the run:", json.dumps(ledger, indent=1))
