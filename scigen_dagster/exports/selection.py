"""Which figures become training data: rendered, faithful, above the judge threshold and
not showing their answer, each naming what verified it; and the hybrid set, the best model
per image type."""

from __future__ import annotations

import pandas as pd

from scigen_dagster import taxonomy
from scigen_dagster.evaluation import inverse, scores
from scigen_dagster.evaluation.judge import JUDGE_DIMENSIONS

OFFLINE_PROXIES = "offline proxies"


def verifiers(judge: pd.DataFrame, iv: pd.DataFrame) -> dict[str, str]:
    """Per problem, what verified its figure: the rubric judge that scored it and the
    answerer that answered its quizzes, each only when a model did ("offline proxies"
    when neither did: the OCR lookup and the OCR proxies are not a verification)."""
    by: dict[str, list[str]] = {}
    if len(judge):
        scored = judge[judge[list(JUDGE_DIMENSIONS)].notna().any(axis=1)]
        for pid, name in zip(scored["problem_id"], scored["judge"].astype(str)):
            by.setdefault(pid, []).append(f"judge {name}")
    if len(iv):
        answered = iv[~iv["answerer"].map(inverse.is_ocr_lookup)] if "answerer" in iv else iv.iloc[0:0]
        for pid, name in answered[["problem_id", "answerer"]].drop_duplicates().itertuples(index=False):
            by.setdefault(pid, []).append(f"answerer {name}")
    return {pid: "; ".join(sorted(set(names))) for pid, names in by.items()}


def select_for_training(items: pd.DataFrame, tables: dict[str, pd.DataFrame], require_faithful: bool,
                        min_judge_mean: float, export_offline_verified: bool = False) -> pd.DataFrame:
    """Items whose figure rendered, passed inverse validation and the judge threshold, with
    ``verified_by``. A figure that only offline proxies checked is left out unless
    ``export_offline_verified``; then it is exported labelled "offline proxies"."""
    images, judge, iv = tables["images"], tables["judge_scores"], tables["iv_results"]
    if images.empty:
        return pd.DataFrame(columns=[*items.columns, "image_path", "image_sha256", "model", "judge_mean",
                                     "verified_by"])
    # A figure that shows its own answer teaches nothing: it never enters a training set.
    usable = images[(images["status"] == "ok") & ~images["answer_leak"].fillna(False).astype(bool)]
    chosen = items.merge(usable[["problem_id", "image_path", "image_sha256", "model"]], on="problem_id")
    if require_faithful:
        per = scores.per_image(iv)  # faithful under the protocol the rows were made under
        chosen = chosen[chosen["problem_id"].isin(per.loc[per["faithful"].astype(bool), "problem_id"])]
    dims = list(JUDGE_DIMENSIONS)
    means = judge.set_index("problem_id")[dims].apply(pd.to_numeric, errors="coerce").mean(axis=1, skipna=True) \
        if len(judge) else pd.Series(dtype=float)
    chosen = chosen.assign(judge_mean=chosen["problem_id"].map(means))
    # An item whose every dimension went unmeasured is not rejected by the judge threshold.
    keep = chosen["judge_mean"].isna() | (chosen["judge_mean"] >= min_judge_mean)
    chosen = chosen[keep].assign(verified_by=chosen["problem_id"].map(verifiers(judge, iv)).astype(object).fillna(OFFLINE_PROXIES))
    if not export_offline_verified:
        chosen = chosen[chosen["verified_by"] != OFFLINE_PROXIES]
    return chosen.sort_values("problem_id").reset_index(drop=True)


HYBRID = "hybrid"


def hybrid_choice(board: pd.DataFrame, candidates: list[str]) -> pd.DataFrame:
    """Per image type, the candidate model with the best R_inv (ties broken by question
    accuracy, then the judge mean, then the name): the study's suggestion of combining
    the code and pixel paradigms type by type."""
    dims = list(JUDGE_DIMENSIONS)
    types = board[(board["scope"] == "type") & board["model"].isin(candidates)].copy()
    for c in ["R_inv", "question_acc", *dims]:
        types[c] = pd.to_numeric(types[c], errors="coerce")
    types["judge_mean"] = types[dims].mean(axis=1, skipna=True)
    rows = []
    for label in taxonomy.LABELS:
        part = types[(types["group"] == label) & types["R_inv"].notna()]
        if part.empty:
            rows.append({"image_type": label, "model": None, "R_inv": None, "runner_up": None, "runner_up_R_inv": None})
            continue
        ranked = part.sort_values(["R_inv", "question_acc", "judge_mean", "model"],
                                  ascending=[False, False, False, True], na_position="last")
        best = ranked.iloc[0]
        second = ranked.iloc[1] if len(ranked) > 1 else None
        rows.append({"image_type": label, "model": best["model"], "R_inv": float(best["R_inv"]),
                     "runner_up": None if second is None else second["model"],
                     "runner_up_R_inv": None if second is None else float(second["R_inv"])})
    return pd.DataFrame(rows, columns=["image_type", "model", "R_inv", "runner_up", "runner_up_R_inv"])


def hybrid_selection(choice: pd.DataFrame, selections: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The verified items of each type's winning model, together."""
    parts = [selections[r.model][selections[r.model]["image_type"] == r.image_type]
             for r in choice.itertuples(index=False) if r.model is not None and r.model in selections]
    parts = [p for p in parts if len(p)]
    if not parts:
        return next(iter(selections.values())).iloc[0:0] if selections else pd.DataFrame()
    return pd.concat(parts, ignore_index=True).sort_values("problem_id").reset_index(drop=True)
