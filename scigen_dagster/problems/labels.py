"""Taxonomy labels: the source's own label, else the offline classifier's (an engine,
calibrated on the labelled items when a labelled source is configured, zero-shot otherwise)
or the `classifier` role's model; exactly one of the 25 image types or "unclassifiable".
Each row records how it was labelled: ``method`` is "source", "llm", "classifier-calibrated"
or "classifier-zero-shot", and ``classifier_version`` names the model (and, calibrated, the
labelled set and the fitted head)."""

from __future__ import annotations

import json

import pandas as pd

from scigen_dagster import prompts, taxonomy
from scigen_dagster.engines.calibrated import LabelledSet
from scigen_dagster.llm import schemas
from scigen_dagster.llm.client import Request


def _llm_labels(llm, todo: pd.DataFrame) -> tuple[list, str]:
    prompt = prompts.load("classify_type")
    requests = []
    for r in todo.itertuples(index=False):
        allowed = [t.label for t in taxonomy.IMAGE_TYPES if not r.subject_hint or t.subject == r.subject_hint]
        labels = "\n".join(f"- {label}" for label in allowed)
        requests.append(Request(r.problem_id, prompt.messages(question=r.question, labels=labels), prompt.sha256))
    results = llm.client().batch("classifier", requests, schemas.parse_label,
                                 schema=schemas.json_schema(schemas.TypeLabel))
    return [r.value.label if r.status == "ok" else taxonomy.UNCLASSIFIABLE for r in results], \
        f"{llm.model_id('classifier')}|{prompt.ref}"


def labelled_set(rows: pd.DataFrame) -> LabelledSet | None:
    """The corpus rows whose source gives an image type of the taxonomy, as a calibration
    set (question, type, and the required visual elements joined), or None if there are none."""
    known = rows[rows["image_type"].isin(taxonomy.LABELS)]
    if not len(known):
        return None
    elements = known["elements_json"] if "elements_json" in known else pd.Series("[]", index=known.index)
    return LabelledSet(tuple(known["question"]), tuple(known["image_type"]),
                       tuple(". ".join(json.loads(e or "[]")) for e in elements))


def label_table(corpus_df: pd.DataFrame, filt: pd.DataFrame, classifier, llm=None) -> pd.DataFrame:
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
        # Items of a labelled source (SciGenBench carries its types) calibrate the classifier
        # for the unlabelled ones; with none it stays zero-shot.
        calibration = labelled_set(kept[labelled])
        preds = classifier.classify(todo["question"].tolist(), todo["subject_hint"].tolist(), calibration)
        idx = todo.index
        out.loc[idx, "label"] = [p.label for p in preds]
        out.loc[idx, "score"] = [round(float(p.score), 4) for p in preds]
        out.loc[idx, "margin"] = [round(float(p.margin), 4) for p in preds]
        out.loc[idx, "method"] = "classifier-calibrated" if calibration else "classifier-zero-shot"
        out.loc[idx, "classifier_version"] = classifier.version(calibration)
    out["partition_key"] = [
        taxonomy.key_for_label(lbl) if lbl != taxonomy.UNCLASSIFIABLE else "" for lbl in out["label"]
    ]
    return out
