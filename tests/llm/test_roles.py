"""Switching a role to a real model is configuration: the judge and the answerer talk to
an OpenAI-compatible server over HTTP, results are cached, and the key leaks nowhere."""

import json

import dagster as dg
import pytest

from scigen_dagster.assets import keys
from scigen_dagster.definitions import build_definitions
from scigen_dagster.devtools.openai_stub import OpenAIStub, StubConfig
from scigen_dagster.evaluation.judge import JUDGE_DIMENSIONS
from scigen_dagster.registry import ModelSpec
from scigen_dagster.resources.llm import LLMResource, RoleConfig

PARTITION = "physics.mechanical"
SECRET = "sk-test-SECRET-98765"


def responder(messages):
    system = messages[0]["content"]
    if "Rate the figure" in json.dumps(messages[-1]["content"]):
        return ("Labels are present. Layout is fine. No overlap. Conventions ok. Complete.\n"
                '{"Correctness_Fidelity": 2, "Layout_Precision": 1, "Readability_Occlusion": 2, '
                '"Scientific_Plausibility": 2, "Expressiveness_Richness": 1}')
    assert "single option letter" in system
    return "B"


@pytest.fixture(scope="module")
def run(tmp_path_factory, monkeypatch_module):
    root = tmp_path_factory.mktemp("llm-store")
    monkeypatch_module.setenv("SCIGEN_TEST_KEY", SECRET)
    with OpenAIStub(StubConfig(responder=responder)) as stub:
        llm = LLMResource(
            judge=RoleConfig(model="openai/stub-judge", api_base=stub.url, api_key_env="SCIGEN_TEST_KEY",
                             temperature=0.1),
            answerer=RoleConfig(model="openai/stub-answerer", api_base=stub.url, api_key_env="SCIGEN_TEST_KEY"),
            cache_path=str(root / "llm-cache.sqlite"),
        )
        defs = build_definitions(models=[ModelSpec(name="imgcoder_rules", kind="imgcoder")], store_root=str(root), llm=llm)
        instance = dg.DagsterInstance.ephemeral()
        job = defs.resolve_job_def("scigen_all")
        first = job.execute_in_process(partition_key=PARTITION, instance=instance)
        requests_after_first = stub.stats.requests
        # A changed code/config fingerprint would recompute; force recompute by removing the
        # tables and check the response cache alone keeps the second pass free.
        for family in ("judge_scores", "iv_results"):
            (root / "tables" / family / "imgcoder_rules" / f"{PARTITION}.parquet").unlink()
        second = job.execute_in_process(partition_key=PARTITION, instance=instance)
        requests_after_second = stub.stats.requests
        night = defs.resolve_job_def("nightly_evaluation").execute_in_process(partition_key=PARTITION, instance=instance)
        yield {"night": night, "night_requests": stub.stats.requests - requests_after_second,"root": root, "defs": defs, "first": first, "second": second, "stub": stub,
               "requests_after_first": requests_after_first, "instance": instance}


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_judge_scores_come_from_the_configured_model(run):
    assert run["first"].success
    storage = run["defs"].resources["storage"]
    judge = storage.read_table("judge_scores/imgcoder_rules", PARTITION)
    assert (judge["judge"] == "openai/stub-judge").all()
    assert (judge["judge_temperature"] == 0.1).all()
    assert judge["prompt"].str.startswith("judge@").all()
    assert judge[list(JUDGE_DIMENSIONS)].notna().all().all()
    assert (judge["Layout_Precision"] == 1).all()


def test_answers_are_letters_mapped_back_through_the_shuffle(run):
    storage = run["defs"].resources["storage"]
    iv = storage.read_table("iv_results/imgcoder_rules", PARTITION)
    assert len(iv) and iv["answerer"].str.startswith("openai/stub-answerer").all()
    # The model always says B; after un-shuffling, the chosen original letters vary.
    assert iv["original_answer"].nunique() > 1


def test_a_second_pass_is_served_from_the_cache(run):
    assert run["second"].success
    assert run["stub"].stats.requests == run["requests_after_first"], "a paid answer was paid for again"


def test_the_key_appears_in_no_table_cache_or_event(run):
    for path in run["root"].rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"secret found in {path}"
    records = run["instance"].get_event_records(dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_MATERIALIZATION))
    for record in records:
        assert SECRET not in str(record.event_log_entry), "secret found in materialization metadata"
    for run_record in run["instance"].get_runs():
        assert SECRET not in json.dumps(run_record.run_config, default=str)


def _usage(result, family):
    for event in result.get_asset_materialization_events():
        if event.asset_key == keys.model_key(family, "imgcoder_rules"):
            return event.materialization.metadata["llm_usage"].value
    raise AssertionError(f"no materialization of {family}")


def test_usage_metadata_counts_paid_calls_then_cache_hits(run):
    first, second = _usage(run["first"], "judge_scores"), _usage(run["second"], "judge_scores")
    assert first["paid_calls"] > 0 and first["cache_hits"] == 0
    assert second["paid_calls"] == 0 and second["cache_hits"] == first["paid_calls"]
    assert _usage(run["second"], "iv_results")["paid_calls"] == 0


def test_an_unchanged_night_makes_no_model_call(run):
    assert run["night"].success
    assert run["night_requests"] == 0, "the nightly re-evaluation paid for answers it already had"


def test_blind_control_asks_the_same_quizzes_without_the_image(run):
    storage = run["defs"].resources["storage"]
    iv = storage.read_table("iv_results/imgcoder_rules", PARTITION)
    # The stub says B with or without an image, so the blind answer equals the seen one.
    assert (iv["blind_original_answer"] == iv["original_answer"]).all()
    assert (iv["blind_correct"] == iv["correct"]).all()
