"""From raw problems to benchmark items: corpus -> visualizable_problems ->
taxonomy_labels -> benchmark_items[subject.type]. The steps are in
:mod:`scigen_dagster.problems`; these assets read their inputs, call them, and report."""

import json
from pathlib import Path

import dagster as dg
import pandas as pd

from scigen_dagster import prompts, taxonomy
from scigen_dagster.assets import keys
from scigen_dagster.assets.metadata import counts_md, per_partition_result, preview, usage_text
from scigen_dagster.assets.partitions import image_type_partitions, partition_keys
from scigen_dagster.assets.steps import run_step
from scigen_dagster.fingerprints import code_fingerprint, fingerprint, sha256_bytes
from scigen_dagster.problems import items, labels, sources, visual_filter
from scigen_dagster.resources.corpus import CorpusResource
from scigen_dagster.resources.engines import TaxonomyClassifierResource
from scigen_dagster.resources.llm import LLMResource, usage_between
from scigen_dagster.resources.storage import StorageResource

GROUP = "problems"
OWNERS = keys.OWNERS


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "corpus",
            description="Every problem of the configured sources, one row each with a stable problem_id.",
            group_name=GROUP,
            kinds={"parquet", "python"},
            owners=OWNERS,
        ),
        dg.AssetSpec(
            "corpus_quarantine",
            description="Rows that could not be read, with file, line and reason; the valid rows went on.",
            group_name=GROUP,
            kinds={"parquet"},
            owners=OWNERS,
        ),
    ],
)
def corpus(context: dg.AssetExecutionContext, storage: StorageResource, corpus_sources: CorpusResource):
    """Load the configured corpus sources (sample, SciGenBench JSON, JSONL/Parquet)."""
    config = corpus_sources.config()
    result = sources.load_corpus(config)
    rows, quarantine = result.frames()
    fp = fingerprint(config.model_dump(), [sha256_bytes(Path(f).read_bytes()) for f in result.files],
                     code_fingerprint(sources.load_corpus))
    _, rows_sha = storage.write_table("corpus", rows, fp=fp)
    _, q_sha = storage.write_table("corpus_quarantine", quarantine, fp=fp)
    if len(quarantine):
        context.log.warning(f"{len(quarantine)} corpus rows quarantined; see asset corpus_quarantine")
    yield dg.MaterializeResult(
        asset_key="corpus",
        data_version=dg.DataVersion(rows_sha),
        metadata={
            "dagster/row_count": len(rows),
            "sources": dg.MetadataValue.json([s.model_dump() for s in config.sources]),
            "rows_by_source": counts_md(rows["source"], "source"),
            "with_image_type": int((rows["image_type"] != "").sum()),
            "quarantined": len(quarantine),
            # quizzes whose stored option keys were not plain letters, and how each was read
            "option_keys_repaired": len(result.repairs),
            "option_key_repairs": dg.MetadataValue.json(result.repairs[:200]),
            "preview": preview(rows, ["problem_id", "image_type", "question", "answer"]),
            "path": dg.MetadataValue.path(storage.path(storage.table_rel("corpus"))),
        },
    )
    yield dg.MaterializeResult(
        asset_key="corpus_quarantine",
        data_version=dg.DataVersion(q_sha),
        metadata={
            "dagster/row_count": len(quarantine),
            "by_reason": counts_md(quarantine["reason"].str.split(":").str[0], "reason"),
            "preview": preview(quarantine, ["file", "line", "reason"]),
        },
    )


@dg.asset(
    deps=["corpus"],
    group_name=GROUP,
    kinds={"parquet", "python"},
    owners=OWNERS,
)
def visualizable_problems(
    context: dg.AssetExecutionContext, storage: StorageResource, llm: LLMResource
) -> dg.MaterializeResult:
    """Keep or drop each problem with a reason category: drawable from the text alone,
    or needing missing context, lacking essential data, asking for a non-visual task, or
    abstract. Benchmark items that carry quizzes pass through."""
    before = llm.usage()
    out = run_step(context, storage, keys.VISUALIZABLE, [None], visual_filter.filter_table,
                   inputs=lambda _: [(keys.CORPUS, None)],
                   arguments=lambda _: {"corpus_df": storage.read_table(keys.CORPUS)},
                   engines={"llm": llm},
                   config=[llm.model_id("filter"), prompts.load("visual_filter").sha256])
    df = out.frame
    return dg.MaterializeResult(
        data_version=dg.DataVersion(out.data_version),
        metadata={
            "dagster/row_count": len(df),
            "kept": int(df["keep"].sum()),
            "dropped": int((~df["keep"]).sum()),
            "by_reason": counts_md(df["reason_category"], "reason_category"),
            "reused": bool(out.reused),
            "dropped_preview": preview(df[~df["keep"]], ["problem_id", "reason_category", "reason"]),
            "llm_usage": dg.MetadataValue.json(usage_between(before, llm.usage())),
        },
    )


@dg.asset(
    deps=["corpus", "visualizable_problems"],
    group_name=GROUP,
    kinds={"parquet", "pytorch"},
    owners=OWNERS,
)
def taxonomy_labels(
    context: dg.AssetExecutionContext, storage: StorageResource, classifier: TaxonomyClassifierResource,
    llm: LLMResource,
) -> dg.MaterializeResult:
    """Exactly one of the 25 image types (or "unclassifiable") for every kept problem:
    the source's own label when it has one, else the classifier's (calibrated on the
    labelled items when a labelled source is configured, zero-shot otherwise), with the
    method recorded per row."""
    engine = classifier.classifier()
    out = run_step(context, storage, keys.LABELS, [None], labels.label_table,
                   inputs=lambda _: [(keys.CORPUS, None), (keys.VISUALIZABLE, None)],
                   arguments=lambda _: {"corpus_df": storage.read_table(keys.CORPUS),
                                        "filt": storage.read_table(keys.VISUALIZABLE)},
                   engines={"classifier": engine, "llm": llm},
                   config=[engine.version(), llm.model_id("classifier"), prompts.load("classify_type").sha256])
    df = out.frame
    return dg.MaterializeResult(
        data_version=dg.DataVersion(out.data_version),
        metadata={
            "dagster/row_count": len(df),
            "by_method": counts_md(df["method"], "method"),
            "by_label": counts_md(df["label"], "label"),
            "unclassifiable": int((df["label"] == taxonomy.UNCLASSIFIABLE).sum()),
            "classifier": engine.version(),
            "reused": bool(out.reused),
        },
    )


@dg.asset(
    deps=["corpus", "taxonomy_labels"],
    partitions_def=image_type_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    kinds={"parquet", "python"},
    owners=OWNERS,
)
def benchmark_items(context: dg.AssetExecutionContext, storage: StorageResource, llm: LLMResource) -> dg.MaterializeResult:
    """The problems of one (subject, image type) partition with their required visual
    elements and multiple-choice quizzes (the source's, or written offline with shuffled
    letters and an evidence snippet quoted from the problem)."""
    before = llm.usage()
    frames: dict[str, pd.DataFrame] = {}

    def load(name: str) -> pd.DataFrame:
        if name not in frames:
            frames[name] = storage.read_table(name)
        return frames[name]

    step = run_step(context, storage, keys.ITEMS, partition_keys(context), items.items_for_partition,
                    inputs=lambda _: [(keys.CORPUS, None), (keys.LABELS, None)],
                    arguments=lambda key: {"corpus_df": load(keys.CORPUS), "labels": load(keys.LABELS), "key": key},
                    engines={"llm": llm},
                    config=[llm.model_id("quiz_writer"), prompts.load("write_quizzes").sha256], meter=llm.usage)

    def metadata_of(key: str, frame: pd.DataFrame) -> dict:
        quizzes = frame["quizzes_json"].map(lambda q: len(json.loads(q)))
        shown = frame.assign(question=frame["question"].str[:80])
        return {
            "quizzes": int(quizzes.sum()),
            "quiz_source": counts_md(frame["quiz_source"], "quiz_source"),
            "items_without_quizzes": int(frame["quiz_source"].str.startswith("none").sum()),
            "preview": preview(shown, ["problem_id", "image_type", "question"]),
        }

    usage = usage_between(before, llm.usage())
    return per_partition_result(context, step, metadata_of, (
        f"{keys.ITEMS}: {len(step.frame)} items over {len(step.outcomes)} partitions, {step.reused} reused; "
        f"{usage_text(usage)}"))
