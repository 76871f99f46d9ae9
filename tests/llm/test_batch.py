"""Batch mode against the devtools stub's OpenAI Files and Batch API over real HTTP,
through litellm's own create_file / create_batch / retrieve_batch / file_content: the
judge step of a Dagster run submits its calls as one batch file and ends without a
materialization; the llm_batches sensor ingests the finished batch and requests the
step, which then completes from the cache with no interactive call, its ledger billing
the batch at litellm's batch price (half the interactive one for gpt-4o-mini). Failed and
expired requests go into the next batch, nothing is submitted twice, and a provider whose
batches litellm cannot submit runs interactively and says so."""

from __future__ import annotations

import json
import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import dagster as dg
import litellm
import pytest

from scigen_dagster.definitions import build_definitions
from scigen_dagster.devtools.openai_stub import OpenAIStub, StubConfig
from scigen_dagster.devtools.provider_emulator import ProviderEmulator, scigen_responder
from scigen_dagster.llm import schemas
from scigen_dagster.llm.client import LLMClient, Request, RoleSettings
from scigen_dagster.registry import ModelSpec
from scigen_dagster.resources.llm import LLMResource, RoleConfig

PARTITION = "physics.mechanical"
JUDGE_MODEL = "openai/gpt-4o-mini"
SCORES = {"Correctness_Fidelity": 2, "Layout_Precision": 1, "Readability_Occlusion": 2,
          "Scientific_Plausibility": 2, "Expressiveness_Richness": 1}


class BodyStub(OpenAIStub):
    """The stub, keeping every interactive chat body it receives."""

    def __init__(self, config: StubConfig):
        super().__init__(config)
        self.bodies: list[dict] = []

    def _handle(self, handler, body) -> None:
        with self._lock:
            self.bodies.append(body)
        super()._handle(handler, body)


def judge_reply(messages) -> str:
    return json.dumps(SCORES)


def batch_lines(stub: OpenAIStub) -> list[list[dict]]:
    """The lines of every batch input file uploaded, per file, in upload order."""
    return [[json.loads(line) for line in f["bytes"].decode().splitlines()]
            for _, f in sorted(stub.files.items()) if f["purpose"] == "batch"]


def run_until_done(defs, instance, partition: str, max_rounds: int = 4):
    """The job over one partition, then the sensor and the runs it requests, until no
    batch is in flight; returns (every run's result, every sensor answer)."""
    job = defs.resolve_job_def("scigen_all")
    results = [job.execute_in_process(partition_key=partition, instance=instance)]
    sensor = defs.get_sensor_def("llm_batches")
    answers = []
    for _ in range(max_rounds):
        answer = sensor(dg.build_sensor_context(instance=instance, resources={"llm": defs.resources["llm"]}))
        answers.append(answer)
        if not isinstance(answer, list):
            break
        for request in answer:
            results.append(job.execute_in_process(instance=instance, asset_selection=request.asset_selection,
                                                  tags=request.tags))
    return results, answers


def judge_events(results) -> list:
    return [e for r in results for e in r.get_asset_materialization_events()
            if e.asset_key.to_user_string() == "batch_coder_judge_scores"]


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch-store")
    with BodyStub(StubConfig(responder=judge_reply)) as stub:
        llm = LLMResource(judge=RoleConfig(model=JUDGE_MODEL, api_base=stub.url, temperature=0.1, batch=True))
        defs = build_definitions(models=[ModelSpec(name="batch_coder", kind="imgcoder")], store_root=str(root),
                                 llm=llm)
        instance = dg.DagsterInstance.ephemeral()
        results, answers = run_until_done(defs, instance, PARTITION)
        yield {"stub": stub, "defs": defs, "results": results, "answers": answers, "root": root}


def test_the_first_run_submits_one_batch_and_materializes_no_judge_scores(batch_run):
    first, stub = batch_run["results"][0], batch_run["stub"]
    assert first.success
    assert not judge_events([first]), "the judge step materialized before its batch came back"
    materialized = {e.asset_key.to_user_string() for e in first.get_asset_materialization_events()}
    assert "batch_coder_images" in materialized and "leaderboard" not in materialized
    files = batch_lines(stub)
    storage = batch_run["defs"].resources["storage"]
    rendered = int((storage.read_table("images/batch_coder", PARTITION)["status"] == "ok").sum())
    assert len(files[0]) == rendered > 0, f"{len(files[0])} batch lines for {rendered} rendered figures"
    for line in files[0]:
        assert set(line) == {"custom_id", "method", "url", "body"} and line["method"] == "POST"
        assert line["url"] == "/v1/chat/completions" and line["body"]["model"] == "gpt-4o-mini"
        assert line["body"]["messages"][-1]["content"][0]["type"] in ("text", "image_url")


def test_the_sensor_requests_the_step_which_completes_from_the_batch_with_no_interactive_call(batch_run):
    stub, results, answers = batch_run["stub"], batch_run["results"], batch_run["answers"]
    assert isinstance(answers[0], list) and len(answers[0]) == 1, answers
    request = answers[0][0]
    assert [k.to_user_string() for k in request.asset_selection] == ["batch_coder_judge_scores"]
    assert request.tags["dagster/asset_partition_range_start"] == PARTITION
    assert isinstance(answers[1], dg.SkipReason), "a batch was still in flight after the step completed"
    assert all(r.success for r in results)
    assert stub.stats.answered == 0, f"{stub.stats.answered} interactive calls in batch mode"
    assert stub.stats.batch_lines == len(batch_lines(stub)[0])

    (event,) = judge_events(results)
    usage = event.materialization.metadata["llm_usage"].value
    assert usage["paid_calls"] == 0 and usage["batch_calls"] == stub.stats.batch_lines, usage
    judge = usage["by_role"]["judge"]
    assert judge["calls"] == 0 and judge["batch_calls"] == stub.stats.batch_lines
    info = litellm.model_cost["gpt-4o-mini"]  # the outside reference: litellm's own price map
    at_batch = (judge["prompt_tokens"] * info["input_cost_per_token_batches"]
                + judge["completion_tokens"] * info["output_cost_per_token_batches"])
    interactive = (judge["prompt_tokens"] * info["input_cost_per_token"]
                   + judge["completion_tokens"] * info["output_cost_per_token"])
    rounding = 1e-6 * judge["batch_calls"]  # the ledger keeps each role's dollars to 6 decimals per call
    assert judge["cost_usd"] == pytest.approx(at_batch, abs=rounding) and at_batch > 0
    assert at_batch == pytest.approx(interactive / 2, rel=1e-9), "litellm's batch price is not half the interactive"

    storage = batch_run["defs"].resources["storage"]
    table = storage.read_table("judge_scores/batch_coder", PARTITION)
    ok = table[table["judge_status"] == "ok"]
    assert len(ok) == stub.stats.batch_lines and (ok["Correctness_Fidelity"] == 2).all()


def test_a_batch_line_is_the_body_litellm_sends_interactively(batch_run):
    """The outside reference for the batch file: the request litellm itself sends for the
    same call, captured by the server."""
    stub = batch_run["stub"]
    line = batch_lines(stub)[0][0]
    settings = RoleSettings(model=JUDGE_MODEL, api_base=stub.url, api_key="no-key", temperature=0.1)
    before = len(stub.bodies)
    client = LLMClient({"judge": settings})
    result = client.batch("judge", [Request("x", line["body"]["messages"], "ph")], schemas.parse_judge,
                          schema=schemas.json_schema(schemas.JudgeScores))[0]
    assert result.status == "ok"
    sent = stub.bodies[before]
    assert line["body"] == {k: v for k, v in sent.items() if k != "stream"}, (
        f"batch body keys {sorted(line['body'])}, interactive {sorted(sent)}")


def test_failed_and_expired_requests_are_resubmitted_and_nothing_twice(tmp_path):
    failed_once: set[str] = set()

    def fail_first_time(custom_id: str) -> bool:
        """The first request the server runs fails (a 500 line in the error file), once."""
        if not failed_once:
            failed_once.add(custom_id)
            return True
        return False

    with BodyStub(StubConfig(responder=judge_reply, batch_fail=fail_first_time, batch_expire=True)) as stub:
        llm = LLMResource(judge=RoleConfig(model=JUDGE_MODEL, api_base=stub.url, temperature=0.1, batch=True))
        defs = build_definitions(models=[ModelSpec(name="batch_coder", kind="imgcoder")], store_root=str(tmp_path),
                                 llm=llm)
        instance = dg.DagsterInstance.ephemeral()
        job = defs.resolve_job_def("scigen_all")
        results = [job.execute_in_process(partition_key=PARTITION, instance=instance)]
        sensor = defs.get_sensor_def("llm_batches")
        for round_ in range(4):
            if round_ == 1:
                stub.config.batch_expire = False  # only the first batch runs out of time
            answer = sensor(dg.build_sensor_context(instance=instance, resources={"llm": defs.resources["llm"]}))
            if not isinstance(answer, list):
                break
            for request in answer:
                results.append(job.execute_in_process(instance=instance, asset_selection=request.asset_selection,
                                                      tags=request.tags))
        files = batch_lines(stub)

    assert all(r.success for r in results)
    assert len(judge_events(results)) == 1, "the judge step did not complete after the resubmissions"
    first, *later = [[line["custom_id"] for line in f] for f in files]
    assert later, "nothing was resubmitted"
    expired = set(first[(len(first) + 1) // 2:])
    failed = {c for c in first[: (len(first) + 1) // 2] if c in failed_once}
    assert expired and failed, (expired, failed)
    assert len(later) == 1 and set(later[0]) == expired | failed, (
        "the second batch is not exactly the expired and the failed requests")
    assert len(later[0]) == len(set(later[0])) and len(first) == len(set(first))
    assert not (set(first) - expired - failed) & set(later[0]), "an answered request was submitted again"
    assert stub.stats.answered == 0


def test_a_provider_litellm_cannot_batch_runs_interactively_and_says_so(tmp_path):
    with ProviderEmulator(scigen_responder()) as emu:
        settings = RoleSettings(model="anthropic/claude-sonnet-4-5", api_base=emu.anthropic_base, api_key="sk-ant-test",
                                batch=True)
        from scigen_dagster.llm.batch import BatchStore

        client = LLMClient({"judge": settings}, batch_store=BatchStore(tmp_path / "batches.sqlite"))
        request = Request("x", [{"role": "system", "content": "You review scientific figures."},
                                {"role": "user", "content": "Rate it."}], "ph")
        result = client.batch("judge", [request], schemas.parse_judge)[0]
    assert result.status == "ok"
    summary = client.ledger.summary()
    assert summary["paid_calls"] == 1 and summary["batch_calls"] == 0
    assert "cannot submit batches for provider 'anthropic'" in summary["batch_refused"]["judge"]
