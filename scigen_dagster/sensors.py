"""A sensor for changed corpus files: when a file of a configured source appears or
changes, one run rebuilds the graph over every partition. Fingerprints make that run
recompute only what the new rows touch."""

from __future__ import annotations

import dagster as dg

from scigen_dagster.assets.partitions import FULL_RANGE_TAGS
from scigen_dagster.fingerprints import fingerprint
from scigen_dagster.problems.sources import source_files
from scigen_dagster.resources.corpus import CorpusResource


def corpus_files_sensor(job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
               description=("Watches the files of the configured corpus sources (SCIGEN_SOURCES) and requests "
                            "one run over every partition when one is added or changed; fingerprints make that "
                            "run recompute only what the new rows touch. Off until turned on."))
    def corpus_files_changed(context: dg.SensorEvaluationContext, corpus_sources: CorpusResource):
        """Rebuild when a corpus file of a configured source is added or changed."""
        files = source_files(corpus_sources.config())
        signature = fingerprint([(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files])
        if context.cursor == signature:
            return dg.SkipReason(f"none of {len(files)} corpus files changed")
        context.update_cursor(signature)
        if not files:
            return dg.SkipReason("the configured sources read no files (embedded sample only)")
        return dg.RunRequest(run_key=signature, tags=FULL_RANGE_TAGS | {"scigen/trigger": "corpus-files"})

    return corpus_files_changed
