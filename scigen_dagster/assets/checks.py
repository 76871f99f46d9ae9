"""Asset checks: what must hold of the tables before anyone trusts a number or trains on
an export. Thresholds are module constants so the UI's check descriptions state them."""

from __future__ import annotations

import io
from typing import Callable

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq
from PIL import Image

from scigen_dagster import taxonomy
from scigen_dagster.assets import keys
from scigen_dagster.evaluation import inverse
from scigen_dagster.evaluation.judge import JUDGE_COLUMNS, JUDGE_DIMENSIONS
from scigen_dagster.evaluation.protocol import PROTOCOLS
from scigen_dagster.exports import selection
from scigen_dagster.generation import image_table
from scigen_dagster.registry import ModelSpec
from scigen_dagster.resources.storage import StorageResource

MIN_EXECUTION_SUCCESS = 0.8
MAX_JUDGE_FAILURE = 0.1


def _partitions(storage: StorageResource, asset: str) -> pd.DataFrame:
    return storage.read_partitions(asset, taxonomy.PARTITION_KEYS)


def quarantine_result(storage: StorageResource) -> dg.AssetCheckResult:
    q = storage.read_table(keys.QUARANTINE)
    unexplained = q[(q["file"] == "") | q["line"].isna() | (q["reason"].str.strip() == "")]
    return dg.AssetCheckResult(passed=unexplained.empty, metadata={"quarantined": len(q), "unexplained": len(unexplained)})


def success_rate_result(storage: StorageResource, model: str) -> dg.AssetCheckResult:
    images = _partitions(storage, keys.model_table(keys.IMAGES, model))
    if images.empty:  # no item to draw in these partitions (or, for real figures, none ships one)
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN,
                                   metadata={"success_rate": "not measured: no items", "figures": 0})
    rate = float((images["status"] == "ok").mean())
    return dg.AssetCheckResult(passed=rate >= MIN_EXECUTION_SUCCESS, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"success_rate": rate, "figures": len(images)})


def _in(values: set) -> Callable[[pd.Series], pd.Series]:
    return lambda col: col.isna() | col.isin(values)


# Expected columns and value domains of the per-model tables (None = any value).
SCHEMAS: dict[str, tuple[list[str], dict[str, Callable[[pd.Series], pd.Series]]]] = {
    keys.IMAGES: (image_table.IMAGE_COLUMNS, {"status": lambda c: c.isin({"ok", "failed", "declined"}),
                                          "problem_id": lambda c: c.notna() & (c != "")}),
    keys.JUDGE: (JUDGE_COLUMNS, {**{d: _in({0, 1, 2}) for d in JUDGE_DIMENSIONS},
                                 "protocol": lambda c: c.isin(PROTOCOLS)}),
    keys.IV: (inverse.IV_COLUMNS, {"correct": _in({True, False}), "protocol": lambda c: c.isin(PROTOCOLS),
                                   "check": lambda c: c.isin({"quiz", "full_question"}),
                                   **{c: _in(set("ABCDEFGH")) for c in ("shown_answer", "original_answer",
                                                                         "shown_correct", "original_correct")}}),
}


def schema_result(storage: StorageResource, family: str, model: str) -> dg.AssetCheckResult:
    """Every stored partition has exactly the expected columns and in-domain values."""
    columns, domains = SCHEMAS[family]
    problems, rows = [], 0
    for key in taxonomy.PARTITION_KEYS:
        if not storage.exists(storage.table_rel(keys.model_table(family, model), key)):
            continue
        frame = storage.read_table(keys.model_table(family, model), key)
        rows += len(frame)
        if list(frame.columns) != list(columns):
            missing, extra = sorted(set(columns) - set(frame.columns)), sorted(set(frame.columns) - set(columns))
            problems.append(f"{key}: columns differ (missing {missing}, unexpected {extra})")
            continue
        for column, ok in domains.items():
            bad = frame.loc[~ok(frame[column]).astype(bool), column]
            if len(bad):
                problems.append(f"{key}: {len(bad)} out-of-domain values in {column}, e.g. {bad.iloc[0]!r}")
    return dg.AssetCheckResult(passed=not problems, metadata={
        "rows": rows, "problems": dg.MetadataValue.json(problems[:20]), "expected_columns": dg.MetadataValue.json(list(columns))})


@dg.asset_check(asset=keys.QUARANTINE, description="Every quarantined row names its file, line and reason.")
def quarantine_explained(storage: StorageResource) -> dg.AssetCheckResult:
    return quarantine_result(storage)


def model_checks(spec: ModelSpec) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(asset=keys.model_key(keys.IMAGES, spec.name), name="execution_success_rate",
                    description=f"At least {MIN_EXECUTION_SUCCESS:.0%} of the figures rendered (a warning).")
    def execution_success_rate(storage: StorageResource) -> dg.AssetCheckResult:
        return success_rate_result(storage, spec.name)

    @dg.asset_check(asset=keys.model_key(keys.JUDGE, spec.name), name="judge_failure_rate",
                    description=f"At most {MAX_JUDGE_FAILURE:.0%} of rendered figures lack a judgement.")
    def judge_failure_rate(storage: StorageResource) -> dg.AssetCheckResult:
        judge = _partitions(storage, keys.model_table(keys.JUDGE, spec.name))
        judged = judge[judge["judge_status"] != "no_image"] if len(judge) else judge
        if judged.empty:
            return dg.AssetCheckResult(passed=True, metadata={"failure_rate": "not measured: no figures", "judged": 0})
        rate = float((judged["judge_status"] != "ok").mean())
        return dg.AssetCheckResult(passed=rate <= MAX_JUDGE_FAILURE, metadata={"failure_rate": rate, "judged": len(judged)})

    def schema_check(family: str) -> dg.AssetChecksDefinition:
        @dg.asset_check(asset=keys.model_key(family, spec.name), name="schema", blocking=True,
                        description="Every partition has exactly the expected columns and in-domain values "
                                    "(judge scores 0-2 or missing, answers a valid letter, status ok/failed).")
        def _schema(storage: StorageResource) -> dg.AssetCheckResult:
            return schema_result(storage, family, spec.name)

        return _schema

    return [execution_success_rate, judge_failure_rate, *(schema_check(f) for f in SCHEMAS)]


def export_checks(models: list[ModelSpec]) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(asset=keys.FINETUNE, blocking=True,
                    description="No exported figure shows its answer, and every exported image decodes.")
    def exports_are_clean(storage: StorageResource) -> dg.AssetCheckResult:
        leaks, broken, rows = [], [], 0
        leaked = set()  # sha256 of every figure flagged as showing its answer, any model
        for spec in models:
            images = _partitions(storage, keys.model_table(keys.IMAGES, spec.name))
            if len(images):
                leaked |= set(images.loc[images["answer_leak"].fillna(False).astype(bool), "image_sha256"])
        for name in [spec.name for spec in models] + [selection.HYBRID]:
            path = storage.table_rel(f"exports/{name}/verl")
            if not storage.exists(path):
                continue
            with storage._filesystem().open(storage.path(path), "rb") as fh:
                table = pq.read_table(fh).to_pylist()
            for row in table:
                rows += 1
                if row["extra_info"]["image_sha256"] in leaked:
                    leaks.append(f"{name}:{row['extra_info']['problem_id']}")
                try:
                    Image.open(io.BytesIO(row["images"][0]["bytes"])).verify()
                except Exception:  # any decoder error means a broken export
                    broken.append(f"{name}:{row['extra_info']['problem_id']}")
        return dg.AssetCheckResult(passed=not leaks and not broken, metadata={
            "rows": rows, "leaks": dg.MetadataValue.json(leaks[:20]), "undecodable": dg.MetadataValue.json(broken[:20])})

    return [exports_are_clean]
