"""Asset checks: what must hold of the tables before anyone trusts a number or trains on
an export. Thresholds are module constants so the UI's check descriptions state them."""

from __future__ import annotations

import io

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq
from PIL import Image

from . import taxonomy
from .registry import ModelSpec
from .resources.storage import StorageResource

MIN_EXECUTION_SUCCESS = 0.8
MAX_JUDGE_FAILURE = 0.1


def _partitions(storage: StorageResource, asset: str) -> pd.DataFrame:
    return storage.read_partitions(asset, taxonomy.PARTITION_KEYS)


def quarantine_result(storage: StorageResource) -> dg.AssetCheckResult:
    q = storage.read_table("corpus_quarantine")
    unexplained = q[(q["file"] == "") | q["line"].isna() | (q["reason"].str.strip() == "")]
    return dg.AssetCheckResult(passed=unexplained.empty, metadata={"quarantined": len(q), "unexplained": len(unexplained)})


def success_rate_result(storage: StorageResource, model: str) -> dg.AssetCheckResult:
    images = _partitions(storage, f"images/{model}")
    rate = float((images["status"] == "ok").mean()) if len(images) else 0.0
    return dg.AssetCheckResult(passed=rate >= MIN_EXECUTION_SUCCESS, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"success_rate": rate, "figures": len(images)})


@dg.asset_check(asset="corpus_quarantine", description="Every quarantined row names its file, line and reason.")
def quarantine_explained(storage: StorageResource) -> dg.AssetCheckResult:
    return quarantine_result(storage)


def model_checks(spec: ModelSpec) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(asset=dg.AssetKey(["images", spec.name]), name="execution_success_rate",
                    description=f"At least {MIN_EXECUTION_SUCCESS:.0%} of the figures rendered (a warning).")
    def execution_success_rate(storage: StorageResource) -> dg.AssetCheckResult:
        return success_rate_result(storage, spec.name)

    @dg.asset_check(asset=dg.AssetKey(["judge_scores", spec.name]), name="judge_failure_rate",
                    description=f"At most {MAX_JUDGE_FAILURE:.0%} of rendered figures lack a judgement.")
    def judge_failure_rate(storage: StorageResource) -> dg.AssetCheckResult:
        judge = _partitions(storage, f"judge_scores/{spec.name}")
        judged = judge[judge["judge_status"] != "no_image"] if len(judge) else judge
        rate = float((judged["judge_status"] != "ok").mean()) if len(judged) else 0.0
        return dg.AssetCheckResult(passed=rate <= MAX_JUDGE_FAILURE, metadata={"failure_rate": rate, "judged": len(judged)})

    return [execution_success_rate, judge_failure_rate]


def export_checks(models: list[ModelSpec]) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(asset="finetune_datasets", blocking=True,
                    description="No exported figure shows its answer, and every exported image decodes.")
    def exports_are_clean(storage: StorageResource) -> dg.AssetCheckResult:
        leaks, broken, rows = [], [], 0
        leaked = set()  # sha256 of every figure flagged as showing its answer, any model
        for spec in models:
            images = _partitions(storage, f"images/{spec.name}")
            if len(images):
                leaked |= set(images.loc[images["answer_leak"].fillna(False).astype(bool), "image_sha256"])
        for name in [spec.name for spec in models] + ["hybrid"]:
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
