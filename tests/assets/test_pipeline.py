"""The whole graph, materialized in-process on the embedded default, checked by content."""

import io
import json

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq
import pytest
from PIL import Image

from scigen_dagster.definitions import build_definitions
from scigen_dagster.evaluation import inverse
from scigen_dagster.evaluation.judge import JUDGE_DIMENSIONS
from scigen_dagster.registry import ModelSpec

PARTITION = "physics.circuit"
MODELS = [
    ModelSpec(name="imgcoder_rules", kind="imgcoder"),
    ModelSpec(name="tiny_sd", kind="diffusers", steps=2, width=64, height=64, batch_size=4),
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    defs = build_definitions(models=MODELS, store_root=str(root))
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("scigen_all")
    # Every role is offline here: the figures are checked by offline proxies only, which the
    # exports leave out by default; this run exports them, labelled, to check the files.
    config = {"ops": {"finetune_datasets": {"config": {"export_offline_verified": True}}}}
    first = job.execute_in_process(partition_key=PARTITION, instance=instance, run_config=config)
    assert first.success
    storage = defs.resources["storage"]
    shas = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.parquet")}
    second = job.execute_in_process(partition_key=PARTITION, instance=instance, run_config=config)
    assert second.success
    return {"root": root, "storage": storage, "first": first, "second": second, "shas": shas,
            "defs": defs, "instance": instance, "job": job}


def test_lineage_runs_from_corpus_to_finetune_datasets(pipeline):
    graph = pipeline["defs"].resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for model in ("imgcoder_rules", "tiny_sd"):
        assert {f"{model}_images", f"{model}_judge_scores", f"{model}_iv_results", f"{model}_reference_metrics"} <= keys
    upstream = graph.get(dg.AssetKey("finetune_datasets")).parent_keys
    assert dg.AssetKey("leaderboard") in upstream
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name != "default", f"{key} needs a group"
        assert node.description, f"{key} needs a description (its docstring)"
        assert node.kinds, f"{key} needs kinds"


def test_items_of_the_partition_have_elements_and_quizzes(pipeline):
    items = pipeline["storage"].read_table("benchmark_items", PARTITION)
    assert len(items) >= 2
    assert set(items["image_type"]) == {"Physics - Circuit"} and set(items["subject"]) == {"Physics"}
    assert all(len(json.loads(q)) >= 2 for q in items["quizzes_json"])


def test_only_the_materialized_partition_was_written(pipeline):
    written = sorted(p.name for p in (pipeline["root"] / "tables" / "benchmark_items").iterdir())
    assert written == [f"{PARTITION}.parquet"]
    assert sorted(p.name for p in (pipeline["root"] / "tables" / "images" / "tiny_sd").iterdir()) == [f"{PARTITION}.parquet"]


def test_images_are_real_pngs_with_plans_and_code(pipeline):
    storage = pipeline["storage"]
    items = storage.read_table("benchmark_items", PARTITION)
    for model in ("imgcoder_rules", "tiny_sd"):
        images = storage.read_table(f"images/{model}", PARTITION)
        assert images["problem_id"].tolist() == items["problem_id"].tolist()
        assert (images["status"] == "ok").all(), images[["problem_id", "reason"]].to_dict("records")
        for r in images.itertuples():
            png = storage.read_bytes(r.image_path)
            assert r.image_path.endswith(f"{r.image_sha256}.png")
            assert Image.open(io.BytesIO(png)).size == (r.width, r.height)
    code_rows = storage.read_table("images/imgcoder_rules", PARTITION)
    assert code_rows["answer_leak"].notna().all() and not code_rows["answer_leak"].any(), \
        "the rule planner never prints the answer, and every rendered figure was checked"
    for r in code_rows.itertuples():
        plan = json.loads(r.plan_json)
        assert list(plan) == ["Image Content", "Layout", "Labels", "Drawing Considerations"]
        assert "savefig" in r.code and r.attempts >= 1


def test_offline_the_rubric_is_not_measured_and_the_ocr_proxies_are_filled(pipeline):
    for model in ("imgcoder_rules", "tiny_sd"):
        judge = pipeline["storage"].read_table(f"judge_scores/{model}", PARTITION)
        assert judge[list(JUDGE_DIMENSIONS)].isna().all().all(), f"{model}: no rubric judge, so no rubric score"
        assert judge["not_measured_reason"].str.contains("no rubric judge").all()
        ok = judge[judge["judge_status"] == "ok"]
        assert len(ok) and ok["text_lines_read"].notna().all() and ok["text_overlaps"].notna().all()
    code = pipeline["storage"].read_table("judge_scores/imgcoder_rules", PARTITION)
    assert code["given_values_shown"].notna().any()


def test_iv_results_cover_every_quiz_and_code_figures_beat_noise(pipeline):
    storage = pipeline["storage"]
    items = storage.read_table("benchmark_items", PARTITION)
    n_quizzes = sum(len(json.loads(q)) for q in items["quizzes_json"])
    code_iv = storage.read_table("iv_results/imgcoder_rules", PARTITION)
    noise_iv = storage.read_table("iv_results/tiny_sd", PARTITION)
    assert len(code_iv) == len(noise_iv) == n_quizzes
    # A random-weight diffusion model draws no legible labels: the OCR answerer abstains.
    assert code_iv["correct"].mean() > noise_iv["correct"].mean()
    assert inverse.r_inv(noise_iv) == 0.0
    # The OCR lookup cannot answer blind: the control is not measured (missing), never 0.
    assert code_iv["blind_original_answer"].isna().all() and code_iv["blind_correct"].isna().all()
    assert (code_iv["answerer"] == inverse.OFFLINE_ANSWERER).all()


def test_leaderboard_and_exports(pipeline):
    storage = pipeline["storage"]
    board = storage.read_table("leaderboard")
    overall = board[board["scope"] == "overall"].set_index("model")
    assert set(overall.index) == {"imgcoder_rules", "tiny_sd"}
    assert overall.loc["imgcoder_rules", "R_inv"] >= overall.loc["tiny_sd", "R_inv"]
    for model in overall.index:
        row = overall.loc[model]
        assert row["R_inv_ci_low"] <= row["R_inv"] <= row["R_inv_ci_high"]
        assert all(pd.isna(row[d]) for d in JUDGE_DIMENSIONS), f"{model}: the rubric columns stay empty offline"
        assert row["rubric_judge"].startswith("not measured") and row["iv_answerer"] == "OCR lookup (lower bound)"
    assert overall[["given_values_shown", "text_overlaps", "labels_crossed_by_lines"]].notna().all().all()
    # plots, a thumbnail grid for the materialized partition and one self-contained page
    for name in ("r_inv_bars", "r_inv_heatmap", "judge_radar"):
        Image.open(io.BytesIO(storage.read_bytes(f"reports/{name}.png"))).verify()
    Image.open(io.BytesIO(storage.read_bytes(f"reports/thumbnails/{PARTITION}.png"))).verify()
    html = storage.read_bytes("reports/leaderboard.html").decode()
    assert "SciGenBench leaderboard" in html and "https://" not in html
    assert all(m in html for m in overall["display_name"])
    manifest = json.loads(storage.read_bytes("tables/exports/manifest.json"))
    assert set(manifest["exports"]) == {"imgcoder_rules", "tiny_sd", "hybrid"}
    winner = next(r["model"] for r in manifest["hybrid"] if r["image_type"] == "Physics - Circuit")
    assert winner in {"imgcoder_rules", "tiny_sd"}
    assert manifest["exports"]["hybrid"]["rows"] == manifest["exports"][winner]["rows"] > 0
    hybrid = pq.read_table(storage.path("tables/exports/hybrid/verl.parquet")).to_pylist()
    assert {r["extra_info"]["model"] for r in hybrid} == {winner}
    card = storage.read_bytes("tables/exports/README.md").decode()
    assert manifest["code"]["source_sha256"] in card and "## Hybrid set" in card
    assert manifest["verified_by"] == ["offline proxies"] and "Verified by: offline proxies" in card
    assert "Not verified by any model" in card and "OCR lookup, a lower bound" in card
    assert all(r["extra_info"]["verified_by"] == "offline proxies" for r in hybrid)
    assert "OCR lookup (lower bound)" in html and "OCR proxies (not rubric scores)" in html
    verl = pq.read_table(storage.path("tables/exports/imgcoder_rules/verl.parquet"))
    assert verl.column_names == ["data_source", "prompt", "images", "ability", "reward_model", "extra_info"]
    for row in verl.to_pylist():
        assert row["prompt"][0]["content"].startswith("<image>")
        assert row["reward_model"]["style"] == "rule"
        Image.open(io.BytesIO(row["images"][0]["bytes"])).verify()


def test_rematerializing_unchanged_inputs_is_identical_and_reused(pipeline):
    root = pipeline["root"]
    again = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.parquet")}
    changed = [k for k, v in pipeline["shas"].items() if again.get(k) != v]
    assert not changed, f"tables changed on an unchanged rerun: {changed}"
    # Each partition's materialization says whether that partition was reused.
    reused = [
        e.materialization.metadata["reused"].value
        for e in pipeline["second"].get_asset_materialization_events()
        if e.materialization.partition and "reused" in e.materialization.metadata
    ]
    assert reused and all(v is True for v in reused)


def test_asset_checks_run_with_the_graph_and_exports_are_clean(pipeline):
    evaluations = {e.check_name: e for e in pipeline["first"].get_asset_check_evaluations()}
    assert {"quarantine_explained", "execution_success_rate", "judge_failure_rate", "exports_are_clean"} <= set(evaluations)
    assert evaluations["exports_are_clean"].passed
    assert evaluations["quarantine_explained"].passed
    schema = [e for e in pipeline["first"].get_asset_check_evaluations() if e.check_name == "schema"]
    assert len(schema) == 3 * len(MODELS) and all(e.passed for e in schema)


def test_schema_check_catches_a_bad_score_and_a_missing_column(pipeline, tmp_path):
    from scigen_dagster.assets.checks import schema_result
    from scigen_dagster.resources.storage import StorageResource

    storage = pipeline["storage"]
    copy = StorageResource(root=str(tmp_path))
    judge = storage.read_table("judge_scores/imgcoder_rules", PARTITION)
    assert schema_result(storage, "judge_scores", "imgcoder_rules").passed
    bad = judge.copy()
    bad.loc[0, "Correctness_Fidelity"] = 3
    copy.write_table("judge_scores/imgcoder_rules", bad, PARTITION)
    result = schema_result(copy, "judge_scores", "imgcoder_rules")
    assert not result.passed and "Correctness_Fidelity" in result.metadata["problems"].value[0]
    copy.write_table("judge_scores/imgcoder_rules", judge.drop(columns="judge_status"), PARTITION)
    result = schema_result(copy, "judge_scores", "imgcoder_rules")
    assert not result.passed and "missing ['judge_status']" in result.metadata["problems"].value[0]
