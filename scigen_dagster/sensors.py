"""A sensor for changed corpus files: when a file of a configured source appears or
changes, one run rebuilds the graph over every partition. Fingerprints make that run
recompute only what the new rows touch."""

from __future__ import annotations

import glob
from pathlib import Path

import dagster as dg

from . import taxonomy
from .corpus import SourcesConfig
from .resources.corpus import CorpusResource
from .resources.storage import fingerprint


def source_files(config: SourcesConfig) -> list[Path]:
    """The files the configured sources read (the embedded sample never changes)."""
    files: list[Path] = []
    for source in config.sources:
        if source.kind == "scigenbench":
            files += [p for p in (Path(source.path) / "scigen.json", Path(source.path) / "seephys.json") if p.exists()]
        elif source.kind in ("jsonl", "parquet"):
            files += [Path(p) for p in sorted(glob.glob(source.path))]
    return files


def corpus_files_sensor(job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
    def corpus_files_changed(context: dg.SensorEvaluationContext, corpus_sources: CorpusResource):
        """Rebuild when a corpus file of a configured source is added or changed."""
        files = source_files(corpus_sources.config())
        signature = fingerprint([(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files])
        if context.cursor == signature:
            return dg.SkipReason(f"none of {len(files)} corpus files changed")
        context.update_cursor(signature)
        if not files:
            return dg.SkipReason("the configured sources read no files (embedded sample only)")
        return dg.RunRequest(run_key=signature, tags=taxonomy.FULL_RANGE_TAGS | {"scigen/trigger": "corpus-files"})

    return corpus_files_changed
