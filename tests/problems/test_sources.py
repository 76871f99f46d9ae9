import json
import re
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


def _quiz(options, correct, question="Which value is marked on the figure?"):
    return {"question": question, "options": options, "correct_option": correct, "evidence_snippet": ""}


def _item(item_id, quizzes, image_type="Physics - Mechanical"):
    return {"id": item_id, "question": f"Problem {item_id}: a block on an incline, m = 2 kg.", "answer": "x",
            "image_type": image_type, "elements": ["block"], "quizzes": quizzes}


def _scigenbench_folder(tmp_path, scigen, seephys=()):
    (tmp_path / "scigen.json").write_text(json.dumps(list(scigen)), encoding="utf-8")
    (tmp_path / "seephys.json").write_text(json.dumps(list(seephys)), encoding="utf-8")
    return load_corpus(_sources(SourceSpec(name="sgb", kind="scigenbench", path=str(tmp_path))))


def _options(rows, source_id, quiz=0):
    row = rows[rows["source_id"] == source_id].iloc[0]
    return json.loads(row["quizzes_json"])[quiz]


def test_swapped_option_keys_are_swapped_back_not_read_as_letters(tmp_path):
    # The two swaps of the full release that the dev split does not hold, stored as the
    # release stores them: webinstruct-1960823 (scigen) and seephys-1857.
    scigen = [_item("webinstruct-1960823", [_quiz({"A": "334 g", "B": "690 g", "C": "2100 g", "4186.8 g": "D"}, "B")])]
    seephys = [_item("1857", [_quiz({"A": "2.67 cm", "B": "10 mm", "10 cm": "C", "D": "Infinity"}, "C")], "")]
    result = _scigenbench_folder(tmp_path, scigen, seephys)
    rows, quarantine = result.frames()
    assert len(quarantine) == 0, quarantine.to_dict("records")
    water = _options(rows, "scigen-webinstruct-1960823")
    # before the fix the key '4186.8 g' was read as the letter G (its one letter) and the item quarantined
    assert water["options"] == {"A": "334 g", "B": "690 g", "C": "2100 g", "D": "4186.8 g"}
    lens = _options(rows, "seephys-1857")
    # before the fix the correct option read "C" (the stray value filled the missing letter)
    assert lens["options"] == {"A": "2.67 cm", "B": "10 mm", "C": "10 cm", "D": "Infinity"}
    assert lens["options"][lens["correct_option"]] == "10 cm"
    assert [r["repair"] for r in result.repairs] == [
        "quiz 0: '4186.8 g': 'D' swapped back to D = '4186.8 g'", "quiz 0: '10 cm': 'C' swapped back to C = '10 cm'"]


def test_stray_keys_five_options_and_stored_order(tmp_path):
    scigen = [
        _item("five", [_quiz({"A": "80 cm", "B": "50 cm", "C": "30 cm", "D": "10 m", "E": "0.2 m"}, "E")]),
        _item("marks", [_quiz({"A": "10", "B": "15", "|C": "20", "&D": "5"}, "C"),
                        _quiz({"A": "Fast equilibrium", "B": "Fast", "0": "Slow", "D": "Instantaneous"}, "C"),
                        _quiz({"A": "X(g)", "Y": "Y(g)", "C": "Z(g)", "D": "E(g)"}, "B")]),
        _item("order", [_quiz({"A": "11%", "C": "40%", "B": "60%", "D": "5%"}, "A")]),
        # lone-letter option texts under letter keys are symbols (carbon, a point), kept as they are
        _item("symbols", [_quiz({"A": "O", "B": "C", "C": "S", "D": "H"}, "B")]),
    ]
    rows, quarantine = _scigenbench_folder(tmp_path, scigen).frames()
    assert len(quarantine) == 0, quarantine.to_dict("records")
    five = _options(rows, "scigen-five")
    assert list(five["options"]) == list("ABCDE") and five["options"][five["correct_option"]] == "0.2 m"
    marks = json.loads(rows[rows["source_id"] == "scigen-marks"].iloc[0]["quizzes_json"])
    assert marks[0]["options"] == {"A": "10", "B": "15", "C": "20", "D": "5"}
    assert marks[1]["options"]["C"] == "Slow"
    assert marks[2]["options"]["B"] == "Y(g)"
    assert list(_options(rows, "scigen-order")["options"]) == ["A", "C", "B", "D"]  # as stored, as the study shows
    assert _options(rows, "scigen-symbols")["options"] == {"A": "O", "B": "C", "C": "S", "D": "H"}


def test_option_keys_that_cannot_be_read_quarantine_the_item_with_the_reason(tmp_path):
    scigen = [
        _item("taken", [_quiz({"A": "x", "B": "y", "C": "z", "10 cm": "C"}, "A")]),  # C is both 'z' and '10 cm'
        _item("gap", [_quiz({"A": "1", "B": "2", "E": "3", "D": "4"}, "A")]),
        _item("fine", [_quiz({"A": "1", "B": "2"}, "A")]),
    ]
    rows, quarantine = _scigenbench_folder(tmp_path, scigen).frames()
    assert rows["source_id"].tolist() == ["scigen-fine"]
    reasons = dict(zip(quarantine["raw"].map(lambda r: json.loads(r)["id"]), quarantine["reason"]))
    assert "'10 cm': 'C' looks like a key and letter stored the wrong way round" in reasons["taken"]
    assert "C is already the option 'z'" in reasons["taken"]
    assert "are not letters A, B, C" in reasons["gap"]


def test_dev_split_has_no_option_text_that_was_a_letter(dev_data):
    """Every option text that is a lone letter is one the release stores under that very
    letter (a symbol such as 'x' or carbon's 'C'), never a letter read from a swapped or
    stray key; and the two swaps of the dev split read as their option texts."""
    rows, quarantine = load_corpus(_sources(SourceSpec(name="sgb", kind="scigenbench", path=str(dev_data)))).frames()
    assert len(quarantine) == 0
    raw = {f"{subset}-{item['id']}": item["quizzes"] for subset in ("scigen", "seephys")
           for item in json.loads((dev_data / f"{subset}.json").read_text(encoding="utf-8"))}
    checked = 0
    for r in rows.itertuples():
        for loaded, stored in zip(json.loads(r.quizzes_json), raw[r.source_id], strict=True):
            assert sorted(loaded["options"]) == list("ABCDE"[: len(loaded["options"])]), (r.source_id, loaded)
            assert loaded["correct_option"] in loaded["options"]
            for letter, text in loaded["options"].items():
                if re.fullmatch(r"[A-Za-z]", text.strip()):  # a Latin letter, as option letters are
                    checked += 1
                    assert stored["options"].get(letter) == text, (r.source_id, letter, text, stored["options"])
    assert checked > 50  # the split has many one-letter symbols; each is checked above
    assert _options(rows, "scigen-webinstruct-283714")["options"]["C"] == "0.50"
    assert _options(rows, "seephys-1904")["options"]["C"] == "0.8 m"
