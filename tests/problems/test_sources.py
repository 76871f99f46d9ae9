import json
from collections import Counter

import pandas as pd
import pytest

from scigen_dagster import taxonomy
from scigen_dagster.problems.sources import CorpusError, SourcesConfig, SourceSpec, load_corpus, load_sources_file


def _sources(*specs):
    return SourcesConfig(sources=list(specs))


def test_sample_corpus_covers_every_type_with_quizzes():
    rows, quarantine = load_corpus(_sources(SourceSpec(name="sample", kind="sample"))).frames()
    assert len(quarantine) == 0, quarantine.to_dict("records")
    assert len(rows) >= 50
    per_type = Counter(rows["image_type"])
    assert set(per_type) == set(taxonomy.LABELS), "every image type needs sample problems"
    assert min(per_type.values()) >= 2
    for r in rows.itertuples():
        quizzes = json.loads(r.quizzes_json)
        assert 2 <= len(quizzes) <= 5, r.problem_id
        assert r.answer and json.loads(r.elements_json), r.problem_id
        for q in quizzes:
            assert q["evidence_snippet"] in r.question, (r.problem_id, q["evidence_snippet"])
    assert rows["problem_id"].is_unique


def test_scigenbench_dev_split_loads_whole(dev_data):
    rows, quarantine = load_corpus(_sources(SourceSpec(name="scigenbench", kind="scigenbench", path=str(dev_data)))).frames()
    assert len(quarantine) == 0, quarantine[["line", "reason"]].to_dict("records")
    scigen = rows[rows["source_id"].str.startswith("scigen-")]
    seephys = rows[rows["source_id"].str.startswith("seephys-")]
    assert (len(scigen), len(seephys)) == (327, 100)
    assert scigen["image_type"].isin(taxonomy.LABELS).all(), "every scigen label maps to a partition"
    assert {taxonomy.key_for_label(t) for t in scigen["image_type"]} == set(taxonomy.PARTITION_KEYS)
    assert (seephys["reference_image"] != "").all() and (seephys["subject_hint"] == "Physics").all()
    # ids are stable across loads
    again, _ = load_corpus(_sources(SourceSpec(name="scigenbench", kind="scigenbench", path=str(dev_data)))).frames()
    assert again["problem_id"].tolist() == rows["problem_id"].tolist()


def _write_jsonl(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_with_mapping_quarantines_bad_rows_and_keeps_good_ones(tmp_path):
    good = {"uid": "7", "problem": "A block of mass m = 2 kg rests on an incline at θ = 30°.", "solution": "9.8 N"}
    path = _write_jsonl(tmp_path / "mega.jsonl", [
        json.dumps(good),
        "{not json",
        json.dumps({"uid": "8", "problem": "", "solution": "x"}),
        json.dumps({"uid": "7", "problem": "duplicate id", "solution": "x"}),
        json.dumps({"uid": "9", "problem": "Two charges q1 = 2 μC and q2 = -3 μC sit 0.5 m apart.",
                    "solution": "0.216 N"}),
    ])
    spec = SourceSpec(name="mega", kind="jsonl", path=str(path), fields={"id": "uid", "question": "problem", "answer": "solution"})
    rows, quarantine = load_corpus(_sources(spec)).frames()
    assert rows["problem_id"].tolist() == ["mega:7", "mega:9"]
    assert quarantine["line"].tolist() == [2, 3, 4]
    assert all(quarantine["file"] == str(path))
    reasons = " | ".join(quarantine["reason"])
    assert "invalid JSON" in reasons and "empty or missing `question`" in reasons and "duplicate id" in reasons


def test_parquet_source_and_hash_ids(tmp_path):
    path = tmp_path / "web.parquet"
    pd.DataFrame({"q": ["A lens of focal length f = 10 cm forms an image.", "Vectors A and B"], "a": ["20 cm", "x"]}).to_parquet(path)
    rows, _ = load_corpus(_sources(SourceSpec(name="web", kind="parquet", path=str(path), fields={"question": "q", "answer": "a"}))).frames()
    assert len(rows) == 2 and all(rows["problem_id"].str.match(r"web:[0-9a-f]{12}$"))


def test_mapping_to_missing_field_names_it_and_the_fix(tmp_path):
    path = _write_jsonl(tmp_path / "x.jsonl", [json.dumps({"problem": "p"})])
    spec = SourceSpec(name="x", kind="jsonl", path=str(path), fields={"question": "prompt"})
    with pytest.raises(CorpusError, match=r"'prompt' \(mapped to 'question'\).*problem.*Fix `fields:`"):
        load_corpus(_sources(spec))


def test_unreadable_file_is_a_clear_error(tmp_path):
    spec = SourceSpec(name="gone", kind="jsonl", path=str(tmp_path / "missing.jsonl"))
    with pytest.raises(CorpusError, match="missing.jsonl"):
        load_corpus(_sources(spec))
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(CorpusError, match="cannot read Parquet corpus file"):
        load_corpus(_sources(SourceSpec(name="bad", kind="parquet", path=str(bad))))


def test_sources_file_resolves_relative_paths(tmp_path):
    _write_jsonl(tmp_path / "p.jsonl", [json.dumps({"question": "A circuit with R1 = 4 Ω and R2 = 6 Ω in series."})])
    cfg_path = tmp_path / "sources.yaml"
    cfg_path.write_text("sources:\n  - {name: local, kind: jsonl, path: p.jsonl}\n")
    rows, _ = load_corpus(load_sources_file(cfg_path)).frames()
    assert len(rows) == 1
    cfg_path.write_text("sources:\n  - {name: Bad Name, kind: jsonl, path: p.jsonl}\n")
    with pytest.raises(CorpusError, match="invalid"):
        load_sources_file(cfg_path)
