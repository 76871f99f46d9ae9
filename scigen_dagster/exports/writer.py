"""Writing the fine-tuning sets: VeRL and HF parquet per set, in the nested scaling order,
with their subsets, a manifest and the dataset card, under ``tables/exports/``. An
unchanged set keeps its files, and an unchanged manifest its bytes and creation time."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from scigen_dagster.evaluation import inverse
from scigen_dagster.exports import card, formats, provenance, scaling, selection
from scigen_dagster.fingerprints import code_fingerprint, fingerprint

EXPORTS_DIR = "tables/exports"
MANIFEST = f"{EXPORTS_DIR}/manifest.json"
CARD = f"{EXPORTS_DIR}/README.md"


def export_set(storage, name: str, chosen: pd.DataFrame, settings: Mapping[str, Any],
               previous: dict | None = None) -> dict:
    """VeRL + HF parquet of one set, in the nested scaling order, plus its subsets; an
    unchanged set (same rows, figures, settings and code) keeps its files untouched."""
    key = ["problem_id", "model", "image_sha256", "verified_by"]
    fp = fingerprint(chosen[key].to_json(orient="values") if len(chosen) else "[]",
                     dict(settings), code_fingerprint(export_set))
    if previous and previous.get("fingerprint") == fp and all(
            storage.exists(f"{EXPORTS_DIR}/{f['path']}") for f in [*previous["files"].values(), *previous["subsets"]]):
        return previous
    storage.remove(f"{EXPORTS_DIR}/{name}")  # subsets of sizes no longer chosen must not linger
    if chosen.empty:  # nothing verified: listed in the card, no empty file to trip a loader
        return {"fingerprint": fp, "rows": 0, "files": {}, "subsets": [], "per_type": {}, "source_models": []}
    ordered = scaling.scaling_order(chosen, settings["subset_seed"])
    verl = formats.verl_rows(ordered, storage, settings["data_source"])
    hf = formats.hf_rows(ordered, storage)
    files = {}
    for fmt, frame, meta in (("verl", verl, None), ("hf", hf, formats.hf_schema_metadata())):
        _, sha = storage.write_table(f"exports/{name}/{fmt}", frame, schema_metadata=meta)
        files[fmt] = {"path": f"{name}/{fmt}.parquet", "sha256": sha}
    subsets = []  # the proper nested prefixes (the full set is the VeRL file itself)
    sizes = scaling.log_spaced_sizes(len(ordered), settings["subset_count"], settings["subset_min"])
    for size in sizes[:-1]:
        _, sha = storage.write_table(f"exports/{name}/subsets/verl_n{size}", verl.iloc[:size].reset_index(drop=True))
        subsets.append({"rows": size, "path": f"{name}/subsets/verl_n{size}.parquet", "sha256": sha})
    return {"fingerprint": fp, "rows": len(ordered), "files": files, "subsets": subsets,
            "per_type": {k: int(v) for k, v in ordered["image_type"].value_counts().items()} if len(ordered) else {},
            "source_models": sorted(ordered["model"].unique().tolist()) if len(ordered) else [],
            "verified_by": ({k: int(v) for k, v in ordered["verified_by"].value_counts().sort_index().items()}
                            if len(ordered) else {})}


def previous_exports(storage) -> dict:
    """The manifest of the last export (empty when there is none)."""
    return storage.read_json(MANIFEST) if storage.exists(MANIFEST) else {}


def write_manifest(storage, manifest: dict, previous: dict) -> dict:
    """Write the manifest and the dataset card, unless nothing changed since ``previous``
    (then both keep their bytes and creation time). Returns the manifest as stored."""
    manifest = json.loads(json.dumps(manifest, default=str))  # as it reads back from the file
    if {k: v for k, v in previous.items() if k != "created_at"} == manifest:
        return previous
    manifest = {"created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")} | manifest
    storage.write_json(MANIFEST, manifest)
    storage.write_bytes(CARD, card.dataset_card(manifest).encode())
    return manifest


def evaluators(tables: list[Mapping[str, pd.DataFrame]]) -> dict[str, list[str]]:
    """The judge and answerer settings found in the exported models' tables."""
    return {"judge": provenance.evaluator_settings([t["judge_scores"] for t in tables], provenance.JUDGE_SETTINGS),
            "answerer": provenance.evaluator_settings([t["iv_results"] for t in tables], provenance.ANSWERER_SETTINGS)}


def protocols(tables: list[Mapping[str, pd.DataFrame]]) -> list[str]:
    """The evaluation protocols that verified the exported models' figures."""
    return provenance.protocols([t[f] for t in tables for f in ("judge_scores", "iv_results")])


def verified_by(evaluated: Mapping[str, list[str]]) -> list[str]:
    """What verified the exports, for the manifest and the card: the rubric judge and
    answerer ids that are models, or "offline proxies" for the offline ones."""
    judges = [f"judge {j}" for j in evaluated["judge"] if not j.startswith("offline")]
    answerers = [f"answerer {a}" for a in evaluated["answerer"] if not inverse.is_ocr_lookup(a)]
    offline = len(judges) < len(evaluated["judge"]) or len(answerers) < len(evaluated["answerer"])
    return judges + answerers + ([selection.OFFLINE_PROXIES] if offline or not (judges or answerers) else [])


def write_exports(storage, specs: list, selections: Mapping[str, pd.DataFrame], candidates: Mapping[str, int],
                  tables: list[Mapping[str, pd.DataFrame]], board: pd.DataFrame, settings: Mapping[str, Any],
                  prompt_hashes: Mapping[str, str]) -> tuple[dict, pd.DataFrame, dict]:
    """Every model's verified set and the hybrid set (best model per image type by R_inv),
    the manifest and the card. Returns the exports by name, the hybrid choice and the
    manifest as stored."""
    previous = previous_exports(storage)
    before = previous.get("exports", {})
    exports = {name: export_set(storage, name, chosen, settings, before.get(name)) for name, chosen in selections.items()}
    choice = pd.DataFrame()
    if settings["hybrid"] and selections:
        choice = selection.hybrid_choice(board, list(selections))
        hybrid = selection.hybrid_selection(choice, dict(selections))
        exports[selection.HYBRID] = export_set(storage, selection.HYBRID, hybrid, settings, before.get(selection.HYBRID))
    for stale in set(before) - set(exports):  # a model left the registry, or hybrid was turned off
        storage.remove(f"{EXPORTS_DIR}/{stale}")
    evaluated = evaluators(tables)
    manifest = {
        "code": provenance.code_version(),
        "thresholds": dict(settings),
        "models": {s.name: s.model_kind.describe(s) for s in specs},
        **evaluated,
        "protocol": protocols(tables),
        "verified_by": verified_by(evaluated),
        "prompts": dict(prompt_hashes),
        "candidates": dict(candidates),
        "hybrid": choice.astype(object).where(choice.notna(), None).to_dict("records") if len(choice) else [],
        "exports": exports,
    }
    return exports, choice, write_manifest(storage, manifest, previous)
