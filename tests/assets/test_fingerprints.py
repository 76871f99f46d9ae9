"""Fingerprints cover the code that made each table, found from the code itself.

A small graph is materialized once; then, for each stage, the source of one of its
modules is edited (through the one reader of module sources) and the graph runs again.
The tables whose stored fingerprint changed must be exactly those that stage computes.
The expectations below are written by hand from what each step does: they are the
reference the automatic code closure is held against.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from scigen_dagster import fingerprints, taxonomy
from scigen_dagster.definitions import build_definitions
from scigen_dagster.evaluation import judge
from scigen_dagster.registry import ModelSpec

MODELS = [ModelSpec(name="imgcoder_rules", kind="imgcoder"), ModelSpec(name="real_figures", kind="reference")]
PARTITIONS = list(taxonomy.PARTITION_KEYS[:2])
RANGE = {"dagster/asset_partition_range_start": PARTITIONS[0], "dagster/asset_partition_range_end": PARTITIONS[-1]}

PER_PARTITION = {f"{family}/{model}/{key}" for family in ("images", "judge_scores", "iv_results")
                 for model in ("imgcoder_rules", "real_figures") for key in PARTITIONS}


def tables(prefix: str) -> set[str]:
    return {t for t in PER_PARTITION if t.startswith(prefix)}


# What each table is computed from, by hand: a table's fingerprint includes its inputs'
# stored bytes (fingerprint included), so a change reaches everything downstream.
def inputs_of(table: str) -> set[str]:
    family, _, rest = table.partition("/")
    model, _, key = rest.partition("/")
    items = {f"benchmark_items/{k}" for k in PARTITIONS}
    if table == "taxonomy_labels":
        return {"visualizable_problems"}
    if family == "benchmark_items":
        return {"taxonomy_labels"}
    if family == "images":
        return {f"benchmark_items/{key}"}
    if family in ("judge_scores", "iv_results"):
        return {f"benchmark_items/{key}", f"images/{model}/{key}"}
    if family == "reference_metrics":
        return items | tables(f"images/{rest}")
    if family == "reference_summary":
        return {f"reference_metrics/{rest}"} | items | tables(f"images/{rest}")
    if table == "leaderboard":
        return PER_PARTITION | {"reference_summary/imgcoder_rules"} | items
    if family == "finetune_selection":
        return {t for t in PER_PARTITION if f"/{rest}/" in t}
    return set()


ALL_TABLES = ({"visualizable_problems", "taxonomy_labels", "leaderboard", "finetune_selection/imgcoder_rules",
               "reference_metrics/imgcoder_rules", "reference_summary/imgcoder_rules"}
              | {f"benchmark_items/{k}" for k in PARTITIONS} | PER_PARTITION)


def with_downstream(direct: set[str]) -> set[str]:
    changed = set(direct)
    while True:
        more = {t for t in ALL_TABLES if inputs_of(t) & changed} - changed
        if not more:
            return changed
        changed |= more


# module edited -> the tables it computes directly (their downstream ones change too)
DIRECT = {
    "scigen_dagster.problems.visual_filter": {"visualizable_problems"},
    "scigen_dagster.problems.labels": {"taxonomy_labels"},
    "scigen_dagster.problems.items": {f"benchmark_items/{k}" for k in PARTITIONS},
    "scigen_dagster.problems.quizzes": {f"benchmark_items/{k}" for k in PARTITIONS},
    "scigen_dagster.generation.rules.physics": tables("images/imgcoder_rules"),
    "scigen_dagster.generation.plan": tables("images/imgcoder_rules"),
    "scigen_dagster.sandbox.worker": tables("images/imgcoder_rules"),
    "scigen_dagster.generation.reference": tables("images/real_figures"),
    "scigen_dagster.generation.leaks": tables("images/"),
    "scigen_dagster.evaluation.judge": tables("judge_scores/"),
    "scigen_dagster.evaluation.proxies": tables("judge_scores/"),
    "scigen_dagster.evaluation.inverse": tables("iv_results/"),
    "scigen_dagster.engines.ocr": tables("images/") | tables("judge_scores/") | tables("iv_results/"),
    "scigen_dagster.evaluation.image_metrics": tables("images/real_figures") | {
        "reference_metrics/imgcoder_rules", "reference_summary/imgcoder_rules"},
    "scigen_dagster.evaluation.fid": {"reference_summary/imgcoder_rules"},
    "scigen_dagster.reporting.leaderboard": {"leaderboard"},
    "scigen_dagster.exports.selection": {"finetune_selection/imgcoder_rules"},
    # The Dagster layer: descriptions, metadata and wiring decide no table's content.
    "scigen_dagster.assets.evaluation": set(),
    "scigen_dagster.assets.generation": set(),
    "scigen_dagster.assets.problems": set(),
    "scigen_dagster.registry.kinds": set(),
    "scigen_dagster.resources.llm": set(),
}
EXPECTED = {module: with_downstream(direct) for module, direct in DIRECT.items()}


def stored_fingerprints(root: Path) -> dict[str, str]:
    out = {}
    for path in (root / "tables").rglob("*.parquet"):
        rel = path.relative_to(root / "tables").with_suffix("").as_posix()
        if rel.startswith("exports/"):
            continue  # the export files are not fingerprinted tables (the manifest tracks them)
        meta = pq.read_schema(path).metadata or {}
        out[rel] = meta.get(b"scigen.fingerprint", b"").decode()
    return out


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    defs = build_definitions(models=MODELS, store_root=str(root))
    job = defs.resolve_job_def("scigen_all")
    instance = dg.DagsterInstance.ephemeral()

    def run() -> dict[str, str]:
        fingerprints.clear_cache()
        assert job.execute_in_process(instance=instance, tags=RANGE).success
        return stored_fingerprints(root)

    baseline = run()
    assert set(baseline) == ALL_TABLES | {"corpus", "corpus_quarantine"}, sorted(baseline)
    yield {"run": run, "baseline": baseline, "storage": defs.resources["storage"]}
    fingerprints.clear_cache()


def edited(module: str):
    """A stand-in for ``fingerprints.module_source`` in which ``module`` was edited."""
    original = fingerprints.module_source

    def source(name: str) -> str:
        text = original(name)
        return text + "\n# an edit\n" if name == module else text

    return source


def _undo(graph, module: str) -> None:
    """With the edit undone, the tables the stage computes from unchanged inputs get their
    old fingerprints back. (Tables downstream of a recomputed figure table may not: its
    render times are measured anew, so its bytes differ.) The next case starts from here."""
    after = graph["run"]()
    for table in {t for t in DIRECT[module] if not inputs_of(t) & DIRECT[module]}:
        assert after[table] == graph["baseline"][table], f"{table} did not return to its fingerprint"
    graph["baseline"] = after


@pytest.mark.slow
@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_editing_a_stage_changes_exactly_its_tables(graph, monkeypatch, module):
    assert fingerprints.module_file(module) is not None, f"{module} is not a module of the package"
    monkeypatch.setattr(fingerprints, "module_source", edited(module))
    after = graph["run"]()
    changed = {t for t, fp in after.items() if graph["baseline"].get(t) != fp}
    assert changed == EXPECTED[module], (
        f"editing {module} changed {sorted(changed)}; expected {sorted(EXPECTED[module])}")
    monkeypatch.undo()
    _undo(graph, module)


@pytest.mark.slow
def test_a_behaviour_change_recomputes_the_table_and_what_reads_it(graph, monkeypatch):
    """Edit the judge so that it scores differently: its tables change, and so do the
    leaderboard and the training selection that read them; figures and quizzes don't,
    and the new scores are what the leaderboard shows."""
    monkeypatch.setattr(fingerprints, "module_source", edited("scigen_dagster.evaluation.judge"))
    scored = judge.offline_judge_row

    def stricter(*args, **kwargs):
        row = scored(*args, **kwargs)
        return row | {"text_overlaps": 99 if row.get("text_overlaps") is not None else None}

    monkeypatch.setattr(judge, "offline_judge_row", stricter)
    after = graph["run"]()
    changed = {t for t, fp in after.items() if graph["baseline"].get(t) != fp}
    assert tables("judge_scores/imgcoder_rules") <= changed
    assert {"leaderboard", "finetune_selection/imgcoder_rules"} <= changed, sorted(changed)
    assert not changed & (tables("images/") | tables("iv_results/")), sorted(changed)
    assert not {t for t in changed if t.startswith(("benchmark_items", "reference_", "taxonomy", "visualizable"))}
    board = graph["storage"].read_table("leaderboard")
    overall = board[(board["scope"] == "overall") & (board["model"] == "imgcoder_rules")].iloc[0]
    assert overall["text_overlaps"] == 99, "the leaderboard was rebuilt from the new scores"
    monkeypatch.undo()
    _undo(graph, "scigen_dagster.evaluation.judge")


def test_the_code_closure_follows_imports_and_skips_annotations_only_imports():
    closure = fingerprints.module_closure(["scigen_dagster.generation.imgcoder"])
    assert "scigen_dagster.generation.rules.physics" in closure, "templates register through rules/__init__"
    assert "scigen_dagster.generation.plan" in closure
    assert "scigen_dagster.registry" not in closure, "ModelSpec is imported for annotations only"
    assert "scigen_dagster.generation.diffusers" not in closure
    lazily = fingerprints.module_closure(["scigen_dagster.evaluation.fid"])
    assert "scigen_dagster.engines.inception" in lazily, "imports inside functions count"
