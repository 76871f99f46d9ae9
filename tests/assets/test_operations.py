"""The nightly schedule and the asset checks."""

import dagster as dg
import pandas as pd
import pytest

from scigen_dagster import taxonomy
from scigen_dagster.assets import checks
from scigen_dagster.definitions import build_definitions
from scigen_dagster.registry import ModelSpec
from scigen_dagster.resources.storage import StorageResource


def test_nightly_schedule_requests_every_partition_tagged_with_subject_and_type(tmp_path):
    defs = build_definitions(models=[ModelSpec(name="imgcoder_rules", kind="imgcoder")], store_root=str(tmp_path))
    schedule = defs.resolve_schedule_def("nightly_evaluation_schedule")
    job = defs.resolve_job_def("nightly_evaluation")
    selected = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert selected == {"imgcoder_rules_judge_scores", "imgcoder_rules_iv_results"}
    context = dg.build_schedule_context(scheduled_execution_time=pd.Timestamp("2026-11-21 02:00", tz="UTC").to_pydatetime())
    requests = list(schedule(context))
    assert sorted(r.partition_key for r in requests) == sorted(taxonomy.PARTITION_KEYS)
    for r in requests:
        subject, type_name = taxonomy.subject_type_for_key(r.partition_key)
        assert r.tags["scigen/subject"] == subject and r.tags["scigen/image_type"] == f"{subject} - {type_name}"
    assert len({r.run_key for r in requests}) == 25


def _write(storage, asset, frame, key=None):
    storage.write_table(asset, frame, key)


def test_checks_fail_on_low_success_and_unexplained_quarantine(tmp_path):
    storage = StorageResource(root=str(tmp_path))
    spec = ModelSpec(name="m", kind="imgcoder")
    _write(storage, "images/m", pd.DataFrame({"status": ["ok", "failed", "failed"], "image_sha256": ["a", "b", "c"],
                                               "answer_leak": [False, None, None]}), "physics.circuit")
    result = checks.success_rate_result(storage, spec.name)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["success_rate"].value == pytest.approx(1 / 3)
    _write(storage, "corpus_quarantine", pd.DataFrame({"source": ["s"], "file": ["f.jsonl"], "line": [3], "reason": [""],
                                                       "raw": ["{"]}))
    assert not checks.quarantine_result(storage).passed


def test_corpus_sensor_requests_a_run_when_a_source_file_changes(tmp_path):
    import json
    import os

    from scigen_dagster.resources.corpus import CorpusResource

    data = tmp_path / "problems.jsonl"
    data.write_text(json.dumps({"question": "Resistors R1 = 4 Ω and R2 = 6 Ω in series."}) + "\n")
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"sources:\n  - {{name: local, kind: jsonl, path: '{tmp_path}/*.jsonl'}}\n")
    defs = build_definitions(models=[ModelSpec(name="imgcoder_rules", kind="imgcoder")], store_root=str(tmp_path / "s"))
    sensor = defs.resolve_sensor_def("corpus_files_changed")
    resources = {"corpus_sources": CorpusResource(sources_file=str(sources))}
    with dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources=resources) as context:
        first = sensor(context)
        assert isinstance(first, dg.RunRequest)
        assert first.tags["dagster/asset_partition_range_end"] == taxonomy.PARTITION_KEYS[-1]
        assert isinstance(sensor(context), dg.SkipReason), "nothing changed: no run"
        data.write_text(data.read_text() + json.dumps({"question": "A lens with f = 10 cm."}) + "\n")
        os.utime(data, ns=(1, 2_000_000_000_000_000_000))
        second = sensor(context)
        assert isinstance(second, dg.RunRequest) and second.run_key != first.run_key
