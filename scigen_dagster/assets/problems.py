"""From raw problems to benchmark items: corpus -> visualizable_problems ->
taxonomy_labels -> benchmark_items[subject.type]."""


import json
from pathlib import Path

import dagster as dg
import pandas as pd

from .. import corpus as corpus_mod
from .. import taxonomy
from ..offline import classifier as classifier_backend
from ..offline import quantities, quiz_writer, visual_filter
from .. import prompts
from ..llm import schemas
from ..llm.client import Request
from ..resources.corpus import CorpusResource
from ..resources.llm import LLMResource, usage_between
from ..resources.offline import TaxonomyClassifierResource
from ..resources.storage import StorageResource, fingerprint, sha256_bytes
from .common import (
    OWNERS,
    build_or_reuse,
    code_hash,
    counts_md,
    input_fingerprint,
    partition_keys,
    partitions_md,
    preview,
)

GROUP = "problems"


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
    result = corpus_mod.load_corpus(config)
    rows, quarantine = result.frames()
    fp = fingerprint(config.model_dump(), [sha256_bytes(Path(f).read_bytes()) for f in result.files],
                     code_hash(corpus_mod, taxonomy))
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


def filter_table(corpus_df: pd.DataFrame, llm: LLMResource | None = None) -> pd.DataFrame:
    decisions = [
        visual_filter.decide(q, has_type=bool(t), has_quizzes=qz != "[]")
        for q, t, qz in zip(corpus_df["question"], corpus_df["image_type"], corpus_df["quizzes_json"])
    ]
    version = visual_filter.FILTER_VERSION
    if llm is not None and not llm.is_offline("filter"):
        prompt = prompts.load("visual_filter")
        version = f"{llm.model_id('filter')}|{prompt.ref}"
        todo = [i for i, d in enumerate(decisions) if d.reason_category != visual_filter.PASS_THROUGH]
        requests = [Request(corpus_df["problem_id"].iat[i], prompt.messages(question=corpus_df["question"].iat[i]),
                            prompt.sha256) for i in todo]
        for i, r in zip(todo, llm.client().batch("filter", requests, schemas.parse_filter)):
            # A failed call keeps the problem: losing a valid problem silently is worse
            # than drawing one figure too many, and the reason says what happened.
            decisions[i] = (visual_filter.FilterDecision(r.value.keep, r.value.reason_category, r.value.reason)
                            if r.status == "ok" else
                            visual_filter.FilterDecision(True, "unfiltered", f"filter call {r.status}: {r.reason}"))
    return pd.DataFrame(
        {
            "problem_id": corpus_df["problem_id"].to_numpy(),
            "keep": [d.keep for d in decisions],
            "reason_category": [d.reason_category for d in decisions],
            "reason": [d.reason for d in decisions],
            "filter_version": version,
        }
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
    fp = input_fingerprint(storage, ("corpus", None), extra=[code_hash(visual_filter), llm.model_id("filter"),
                                                             prompts.load("visual_filter").sha256])
    before = llm.usage()
    out = build_or_reuse(storage, "visualizable_problems", None, fp,
                         lambda: filter_table(storage.read_table("corpus"), llm))
    df = out.frame
    return dg.MaterializeResult(
        data_version=dg.DataVersion(out.data_version),
        metadata={
            "dagster/row_count": len(df),
            "kept": int(df["keep"].sum()),
            "dropped": int((~df["keep"]).sum()),
            "by_reason": counts_md(df["reason_category"], "reason_category"),
            "reused": out.reused,
            "dropped_preview": preview(df[~df["keep"]], ["problem_id", "reason_category", "reason"]),
            "llm_usage": dg.MetadataValue.json(usage_between(before, llm.usage())),
        },
    )


def _llm_labels(llm: LLMResource, todo: pd.DataFrame) -> tuple[list, str]:
    prompt = prompts.load("classify_type")
    requests = []
    for r in todo.itertuples(index=False):
        allowed = [t.label for t in taxonomy.IMAGE_TYPES if not r.subject_hint or t.subject == r.subject_hint]
        labels = "\n".join(f"- {label}" for label in allowed)
        requests.append(Request(r.problem_id, prompt.messages(question=r.question, labels=labels), prompt.sha256))
    results = llm.client().batch("classifier", requests, schemas.parse_label)
    return [r.value.label if r.status == "ok" else taxonomy.UNCLASSIFIABLE for r in results], \
        f"{llm.model_id('classifier')}|{prompt.ref}"


def label_table(corpus_df: pd.DataFrame, filt: pd.DataFrame, classifier: TaxonomyClassifierResource,
                llm: LLMResource | None = None) -> pd.DataFrame:
    kept = corpus_df.merge(filt[filt["keep"]][["problem_id"]], on="problem_id")
    labelled = kept["image_type"] != ""
    out = pd.DataFrame(
        {
            "problem_id": kept["problem_id"].to_numpy(),
            "label": kept["image_type"].to_numpy(),
            "method": "source",
            "score": 1.0,
            "margin": 1.0,
            "classifier_version": "",
        }
    )
    todo = kept[~labelled]
    if len(todo) and llm is not None and not llm.is_offline("classifier"):
        labels, version = _llm_labels(llm, todo)
        out.loc[todo.index, "label"] = labels
        out.loc[todo.index, ["score", "margin"]] = None
        out.loc[todo.index, "method"] = "llm"
        out.loc[todo.index, "classifier_version"] = version
    elif len(todo):
        preds = classifier.classify(todo["question"].tolist(), todo["subject_hint"].tolist())
        idx = todo.index
        out.loc[idx, "label"] = [p.label for p in preds]
        out.loc[idx, "score"] = [round(float(p.score), 4) for p in preds]
        out.loc[idx, "margin"] = [round(float(p.margin), 4) for p in preds]
        out.loc[idx, "method"] = "classifier"
        out.loc[idx, "classifier_version"] = classifier.version()
    out["partition_key"] = [
        taxonomy.key_for_label(lbl) if lbl != taxonomy.UNCLASSIFIABLE else "" for lbl in out["label"]
    ]
    return out


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
    the source's own label when it has one, else the zero-shot classifier's."""
    fp = input_fingerprint(
        storage, ("corpus", None), ("visualizable_problems", None), extra=[classifier.version(), code_hash(taxonomy, classifier_backend), llm.model_id("classifier"),
               prompts.load("classify_type").sha256]
    )
    out = build_or_reuse(
        storage, "taxonomy_labels", None, fp,
        lambda: label_table(storage.read_table("corpus"), storage.read_table("visualizable_problems"), classifier, llm),
    )
    df = out.frame
    return dg.MaterializeResult(
        data_version=dg.DataVersion(out.data_version),
        metadata={
            "dagster/row_count": len(df),
            "by_method": counts_md(df["method"], "method"),
            "by_label": counts_md(df["label"], "label"),
            "unclassifiable": int((df["label"] == taxonomy.UNCLASSIFIABLE).sum()),
            "classifier": classifier.version(),
            "reused": out.reused,
        },
    )


ITEM_COLUMNS = [
    "problem_id", "question", "answer", "image_type", "subject", "elements_json",
    "quizzes_json", "quiz_source", "multimodal_question", "reference_image",
]


def _llm_quizzes(llm: LLMResource, part: pd.DataFrame) -> dict[str, tuple[list, str]]:
    """Quizzes written by the quiz_writer role for problems without their own; evidence
    snippets are checked against the problem and letters reshuffled with a fixed seed, so
    the model's letter habits cannot leak into the answer key."""
    prompt = prompts.load("write_quizzes")
    todo = part[part["quizzes_json"] == "[]"]
    requests = [Request(r.problem_id, prompt.messages(question=r.question), prompt.sha256)
                for r in todo.itertuples(index=False)]
    results = llm.client().batch("quiz_writer", requests, None)
    out = {}
    for r, question in zip(results, todo["question"]):
        try:
            parsed = schemas.quiz_parser(question)(r.content) if r.status == "ok" else None
        except ValueError as exc:
            parsed, r.reason = None, f"invalid reply: {exc}"
        if parsed is None:
            out[r.item_id] = ([], f"none: quiz_writer {r.status}: {r.reason}"[:200])
            continue
        quizzes = []
        for i, quiz in enumerate(parsed.quizzes):
            correct = quiz.options[quiz.correct_option]
            distractors = [text for letter, text in sorted(quiz.options.items()) if letter != quiz.correct_option]
            options, letter = quiz_writer.shuffled_options(correct, distractors, r.item_id, i)
            quizzes.append({"question": quiz.question, "options": options, "correct_option": letter,
                            "evidence_snippet": quiz.evidence_snippet})
        out[r.item_id] = (quizzes, f"{llm.model_id('quiz_writer')}|{prompt.ref}")
    return out


def items_for_partition(corpus_df: pd.DataFrame, labels: pd.DataFrame, key: str,
                        llm: LLMResource | None = None) -> pd.DataFrame:
    subject, _ = taxonomy.subject_type_for_key(key)
    ids = labels.loc[labels["partition_key"] == key, "problem_id"]
    part = corpus_df[corpus_df["problem_id"].isin(ids)].sort_values("problem_id")
    written = _llm_quizzes(llm, part) if llm is not None and not llm.is_offline("quiz_writer") else {}
    rows = []
    for r in part.itertuples(index=False):
        elements = json.loads(r.elements_json) or quiz_writer.write_elements(r.question)
        quizzes = json.loads(r.quizzes_json)
        quiz_source = "source"
        if not quizzes and r.problem_id in written:
            quizzes, quiz_source = written[r.problem_id]
        elif not quizzes:
            quizzes = quiz_writer.write_quizzes(r.question, r.problem_id)
            quiz_source = f"offline:{quiz_writer.QUIZ_WRITER_VERSION}" if quizzes else "none"
        rows.append(
            {
                "problem_id": r.problem_id,
                "question": r.question,
                "answer": r.answer,
                "image_type": taxonomy.label_for_key(key),
                "subject": subject,
                "elements_json": json.dumps(elements, ensure_ascii=False),
                "quizzes_json": json.dumps(quizzes, ensure_ascii=False),
                "quiz_source": quiz_source,
                "multimodal_question": r.multimodal_question,
                "reference_image": r.reference_image,
            }
        )
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


@dg.asset(
    deps=["corpus", "taxonomy_labels"],
    partitions_def=taxonomy.image_type_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    kinds={"parquet", "python"},
    owners=OWNERS,
)
def benchmark_items(context: dg.AssetExecutionContext, storage: StorageResource, llm: LLMResource) -> dg.MaterializeResult:
    """The problems of one (subject, image type) partition with their required visual
    elements and multiple-choice quizzes (the source's, or written offline with shuffled
    letters and an evidence snippet quoted from the problem)."""
    base = input_fingerprint(storage, ("corpus", None), ("taxonomy_labels", None),
                             extra=[code_hash(quiz_writer, quantities, taxonomy), llm.model_id("quiz_writer"),
                                    prompts.load("write_quizzes").sha256])
    before = llm.usage()
    frames: dict[str, pd.DataFrame] = {}

    def load(name: str) -> pd.DataFrame:
        if name not in frames:
            frames[name] = storage.read_table(name)
        return frames[name]

    outcomes = []
    for key in partition_keys(context):
        outcomes.append(build_or_reuse(
            storage, "benchmark_items", key, fingerprint(base, key),
            lambda key=key: items_for_partition(load("corpus"), load("taxonomy_labels"), key, llm),
        ))
    all_rows = pd.concat([o.frame for o in outcomes], ignore_index=True)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(all_rows),
            "partitions": partitions_md(outcomes, lambda f: {"quizzes": int(f["quizzes_json"].map(lambda s: len(json.loads(s))).sum())}),
            "quiz_source": counts_md(all_rows["quiz_source"], "quiz_source"),
            "items_without_quizzes": int(all_rows["quiz_source"].str.startswith("none").sum()),
            "llm_usage": dg.MetadataValue.json(usage_between(before, llm.usage())),
            "reused_partitions": sum(o.reused for o in outcomes),
            "preview": preview(all_rows, ["problem_id", "image_type", "question"]),
        },
    )
