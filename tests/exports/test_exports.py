"""Fine-tuning exports: the hybrid set, nested log-spaced scaling subsets and the dataset card."""

import io
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from PIL import Image

from scigen_dagster import taxonomy
from scigen_dagster.assets.exports import FinetuneConfig
from scigen_dagster.evaluation.inverse import OFFLINE_ANSWERER
from scigen_dagster.evaluation.judge import JUDGE_DIMENSIONS, OFFLINE_JUDGE
from scigen_dagster.exports import scaling, selection
from scigen_dagster.exports.card import dataset_card
from scigen_dagster.exports.writer import export_set, verified_by
from scigen_dagster.registry import RegistryError, load_registry
from scigen_dagster.resources.storage import StorageResource

A, B, C = taxonomy.LABELS[:3]


def test_log_spaced_sizes():
    assert scaling.log_spaced_sizes(1000, 5, 8) == [8, 27, 89, 299, 1000]
    assert scaling.log_spaced_sizes(5, 5, 8) == [5]
    assert scaling.log_spaced_sizes(0) == []
    sizes = scaling.log_spaced_sizes(20000, 6, 16)
    ratios = np.diff(np.log(sizes))
    assert sizes[-1] == 20000 and np.allclose(ratios, ratios[0], rtol=0.01)


def _chosen(counts: dict[str, int]) -> pd.DataFrame:
    rows = []
    for label, n in counts.items():
        for i in range(n):
            rows.append({"problem_id": f"{label[:4]}-{i:03d}", "image_type": label, "model": "m",
                         "verified_by": "judge stub/judge; answerer stub/answerer"})
    return pd.DataFrame(rows)


def test_scaling_order_is_seeded_nested_and_balanced():
    chosen = _chosen({A: 10, B: 5, C: 1})
    order = scaling.scaling_order(chosen, seed=0)
    assert sorted(order["problem_id"]) == sorted(chosen["problem_id"])
    assert set(order["image_type"].head(3)) == {A, B, C}  # every prefix as balanced as possible
    assert order["image_type"].head(10).value_counts().to_dict() == {A: 5, B: 4, C: 1}
    again = scaling.scaling_order(chosen, seed=0)
    assert order["problem_id"].tolist() == again["problem_id"].tolist()
    assert order["problem_id"].tolist() != scaling.scaling_order(chosen, seed=1)["problem_id"].tolist()


def _board(rows):
    cols = ["scope", "group", "model", "R_inv", "question_acc", *JUDGE_DIMENSIONS]
    return pd.DataFrame([dict(zip(cols, r + (None,) * (len(cols) - len(r)))) for r in rows], columns=cols)


def test_hybrid_takes_the_best_r_inv_per_type_with_documented_tie_breaks():
    board = _board([
        ("type", A, "code", 0.5, 0.6), ("type", A, "pixel", 0.7, 0.7),
        ("type", B, "code", 0.4, 0.9), ("type", B, "pixel", 0.4, 0.5),  # tie: question accuracy decides
        ("type", C, "code", None, None), ("type", C, "pixel", None, None),  # nobody measured
        ("overall", "", "code", 0.9, 0.9), ("type", A, "real_figures", 1.0, 1.0),  # not a candidate
    ])
    choice = selection.hybrid_choice(board, ["code", "pixel"]).set_index("image_type")
    assert choice.loc[A, "model"] == "pixel" and choice.loc[A, "runner_up"] == "code"
    assert choice.loc[B, "model"] == "code"
    assert pd.isna(choice.loc[C, "model"])
    assert len(choice) == 25
    selections = {"code": _chosen({A: 3, B: 2}).assign(model="code"), "pixel": _chosen({A: 4, B: 6}).assign(model="pixel")}
    hybrid = selection.hybrid_selection(choice.reset_index(), selections)
    assert hybrid.groupby("image_type")["model"].agg(set).to_dict() == {A: {"pixel"}, B: {"code"}}
    assert len(hybrid) == 4 + 2


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_export_writes_verl_hf_and_nested_subsets(tmp_path):
    storage = StorageResource(root=str(tmp_path))
    chosen = _chosen({A: 30, B: 12})
    shas = [storage.put_png(_png(i)) for i in range(len(chosen))]
    chosen = chosen.assign(
        image_sha256=[s for s, _ in shas], image_path=[p for _, p in shas], question="Q?", multimodal_question="",
        answer="42", subject="Math", elements_json="[]")
    out = export_set(storage, "m", chosen, FinetuneConfig(subset_count=4, subset_min=5).model_dump())
    assert out["rows"] == 42 and out["per_type"] == {A: 30, B: 12}
    assert scaling.log_spaced_sizes(42, 4, 5) == [5, 10, 21, 42]
    assert [s["rows"] for s in out["subsets"]] == [5, 10, 21], "the proper subsets; 42 is the full file"
    full = pq.read_table(storage.path(f"tables/exports/{out['files']['verl']['path']}")).to_pylist()
    assert [r["extra_info"]["index"] for r in full] == list(range(42))
    for subset in out["subsets"]:
        rows = pq.read_table(storage.path(f"tables/exports/{subset['path']}")).to_pylist()
        assert rows == full[:subset["rows"]]  # nested: a prefix of the full set
    hf = pq.read_table(storage.path(f"tables/exports/{out['files']['hf']['path']}"))
    assert [r["problem_id"] for r in hf.to_pylist()] == [r["extra_info"]["problem_id"] for r in full]


def test_the_name_hybrid_is_reserved(tmp_path):
    reg = tmp_path / "models.yaml"
    reg.write_text("models:\n  hybrid:\n    kind: imgcoder\n")
    with pytest.raises(RegistryError, match="'hybrid' is reserved"):
        load_registry(reg)


def test_dataset_card_states_provenance_thresholds_and_counts():
    manifest = {
        "created_at": "2026-11-21T00:00:00+00:00",
        "code": {"package": "scigen-dagster 0.1.0", "git_commit": "abc123", "source_sha256": "f00d"},
        "thresholds": FinetuneConfig().model_dump(),
        "models": {"code": "imgcoder, planner offline:rules, max_attempts 2"},
        "judge": ["offline-proxy:v1 | 0.0 | "], "answerer": ["offline:ocr-match"],
        "verified_by": ["judge stub/judge"],
        "prompts": {"judge": "9" * 64},
        "hybrid": [{"image_type": A, "model": "code", "R_inv": 0.5, "runner_up": None, "runner_up_R_inv": None}],
        "exports": {"code": {"rows": 3, "source_models": ["code"], "per_type": {A: 3},
                             "files": {"verl": {"path": "code/verl.parquet"}, "hf": {"path": "code/hf.parquet"}},
                             "subsets": [{"rows": 3}]}},
    }
    card = dataset_card(manifest)
    for text in ("abc123", "offline:ocr-match", "Verified by: judge stub/judge", "9" * 64, '"min_judge_mean": 1.0', "code/verl.parquet",
                 f"| {A} | 3 |", "## Hybrid set"):
        assert text in card, text
    json.dumps(manifest)  # the manifest itself is plain JSON


def _stored_chosen(storage, counts, models=("m",)):
    chosen = _chosen(counts)
    shas = [storage.put_png(_png(i)) for i in range(len(chosen))]
    return chosen.assign(
        model=[models[i % len(models)] for i in range(len(chosen))],
        image_sha256=[s for s, _ in shas], image_path=[p for _, p in shas], question="Q?", multimodal_question="",
        answer="42", subject="Math", elements_json="[]")


def test_hybrid_rows_name_the_model_that_made_each_figure(tmp_path):
    storage = StorageResource(root=str(tmp_path))
    chosen = _stored_chosen(storage, {A: 4, B: 4}, models=("code", "pixel"))
    out = export_set(storage, "hybrid", chosen, FinetuneConfig().model_dump())
    verl = pq.read_table(storage.path("tables/exports/hybrid/verl.parquet")).to_pylist()
    hf = pq.read_table(storage.path("tables/exports/hybrid/hf.parquet")).to_pylist()
    by_id = dict(zip(chosen["problem_id"], chosen["model"]))
    assert {r["extra_info"]["model"] for r in verl} == {"code", "pixel"} == set(out["source_models"])
    assert all(r["extra_info"]["model"] == by_id[r["extra_info"]["problem_id"]] for r in verl)
    assert all(r["model"] == by_id[r["problem_id"]] for r in hf)


def test_an_unchanged_export_is_not_rewritten_and_stale_subsets_go(tmp_path):
    storage = StorageResource(root=str(tmp_path))
    chosen = _stored_chosen(storage, {A: 40})
    first = export_set(storage, "m", chosen, FinetuneConfig(subset_count=3, subset_min=5).model_dump())
    full = tmp_path / "tables/exports/m/verl.parquet"
    stamp = full.stat().st_mtime_ns
    again = export_set(storage, "m", chosen, FinetuneConfig(subset_count=3, subset_min=5).model_dump(), previous=first)
    assert again == first and full.stat().st_mtime_ns == stamp
    old_subsets = {s["path"] for s in first["subsets"]}
    changed = export_set(storage, "m", chosen, FinetuneConfig(subset_count=2, subset_min=7).model_dump(), previous=first)
    assert [s["rows"] for s in changed["subsets"]] == [7]
    for path in old_subsets - {s["path"] for s in changed["subsets"]}:
        assert not (tmp_path / "tables/exports" / path).exists(), path


def test_hf_exports_load_with_datasets_and_images_decode(tmp_path):
    """Held against the `datasets` library itself: the HF file's images come back as images."""
    import datasets  # a dev dependency: imported here, it is slow to import
    storage = StorageResource(root=str(tmp_path))
    out = export_set(storage, "m", _stored_chosen(storage, {A: 5, B: 3}), FinetuneConfig().model_dump())
    path = storage.path(f"tables/exports/{out['files']['hf']['path']}")
    ds = datasets.load_dataset("parquet", data_files=path, split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert len(ds) == 8 and ds.features["image"].__class__.__name__ == "Image"
    first = ds[0]["image"]
    assert hasattr(first, "size") and first.size[0] > 0, "an image, not a {bytes, path} dict"
    assert ds[0]["elements"] == [] and isinstance(ds[0]["question"], str)


def test_a_model_with_nothing_verified_gets_no_empty_file(tmp_path):
    storage = StorageResource(root=str(tmp_path))
    out = export_set(storage, "empty", _stored_chosen(storage, {A: 1}).iloc[0:0], FinetuneConfig().model_dump())
    assert out["rows"] == 0 and out["files"] == {} and out["subsets"] == []
    assert not (tmp_path / "tables/exports/empty").exists()
    manifest = {"created_at": "x", "code": {"package": "p", "git_commit": "c", "source_sha256": "s"},
                "thresholds": FinetuneConfig().model_dump(), "models": {}, "judge": [], "answerer": [],
                "prompts": {}, "hybrid": [], "exports": {"empty": out}}
    card = dataset_card(manifest)
    assert card.startswith("---\nlicense: apache-2.0") and "configs: []" in card
    assert "| empty | empty | 0 | no file (nothing verified)" in card


def _evaluated(judge_id: str, answerer: str, scores) -> dict[str, pd.DataFrame]:
    """Tables of two rendered, faithful figures judged by ``judge_id`` and answered by ``answerer``."""
    images = pd.DataFrame({"problem_id": ["p1", "p2"], "status": "ok", "answer_leak": False, "model": "m",
                           "image_path": ["a.png", "b.png"], "image_sha256": ["a", "b"]})
    judge = pd.DataFrame([{"problem_id": p, "judge": judge_id} | dict.fromkeys(JUDGE_DIMENSIONS, scores)
                          for p in ("p1", "p2")])
    iv = pd.DataFrame({"model": "m", "problem_id": ["p1", "p2"], "image_status": "ok", "correct": True,
                       "answerer": answerer})
    return {"images": images, "judge_scores": judge, "iv_results": iv}


ITEMS = pd.DataFrame({"problem_id": ["p1", "p2"], "image_type": A})


def test_rows_only_offline_proxies_checked_are_not_exported_as_verified_by_default():
    offline = _evaluated(OFFLINE_JUDGE, OFFLINE_ANSWERER, None)
    assert selection.select_for_training(ITEMS, offline, True, 1.0).empty
    labelled = selection.select_for_training(ITEMS, offline, True, 1.0, export_offline_verified=True)
    assert len(labelled) == 2 and (labelled["verified_by"] == "offline proxies").all()
    judged = selection.select_for_training(ITEMS, _evaluated("gemini/flash", OFFLINE_ANSWERER, 2), True, 1.0)
    assert (judged["verified_by"] == "judge gemini/flash").all(), "a model judge verified it; the OCR lookup did not"
    answered = selection.select_for_training(ITEMS, _evaluated(OFFLINE_JUDGE, "qwen/vl|answer@1", None), True, 1.0)
    assert (answered["verified_by"] == "answerer qwen/vl|answer@1").all()


def test_the_manifest_and_card_name_what_verified_the_exports():
    assert verified_by({"judge": [OFFLINE_JUDGE], "answerer": [OFFLINE_ANSWERER]}) == ["offline proxies"]
    assert verified_by({"judge": ["gemini/flash, judge_temperature 0.1"], "answerer": ["qwen/vl|answer@1"]}) == [
        "judge gemini/flash, judge_temperature 0.1", "answerer qwen/vl|answer@1"]
    manifest = {
        "created_at": "2026-11-21T00:00:00+00:00",
        "code": {"package": "p", "git_commit": "c", "source_sha256": "s"},
        "thresholds": FinetuneConfig(export_offline_verified=True).model_dump(),
        "models": {}, "judge": [OFFLINE_JUDGE], "answerer": [OFFLINE_ANSWERER], "prompts": {},
        "verified_by": ["offline proxies"], "hybrid": [],
        "exports": {"m": {"rows": 2, "source_models": ["m"], "per_type": {A: 2}, "verified_by": {"offline proxies": 2},
                          "files": {"verl": {"path": "m/verl.parquet"}, "hf": {"path": "m/hf.parquet"}},
                          "subsets": []}},
    }
    card = dataset_card(manifest)
    assert "Verified by: offline proxies" in card and "Not verified by any model" in card
    assert "OCR lookup, a lower bound" in card
