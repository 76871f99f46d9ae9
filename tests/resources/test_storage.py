import pandas as pd

from scigen_dagster.resources.storage import StorageResource


def test_tables_round_trip_with_fingerprint_and_identical_bytes(tmp_path):
    store = StorageResource(root=str(tmp_path))
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    path, sha1 = store.write_table("x/y", df, "physics.circuit", fp="f1")
    _, sha2 = store.write_table("x/y", df, "physics.circuit", fp="f1")
    assert sha1 == sha2, "same frame must give the same bytes"
    assert path.endswith("tables/x/y/physics.circuit.parquet")
    assert store.table_fingerprint("x/y", "physics.circuit") == "f1"
    pd.testing.assert_frame_equal(store.read_table("x/y", "physics.circuit"), df)
    assert not [p for p in tmp_path.rglob(".tmp-*")], "no temporary file may remain"


def test_png_is_content_addressed_and_idempotent(tmp_path):
    store = StorageResource(root=str(tmp_path))
    sha, rel = store.put_png(b"\x89PNG fake")
    assert rel == f"images/{sha[:2]}/{sha}.png"
    assert store.put_png(b"\x89PNG fake") == (sha, rel)
    assert store.read_bytes(rel) == b"\x89PNG fake"


def test_fsspec_url_root_works():
    store = StorageResource(root="memory://scigen-test")
    store.write_table("t", pd.DataFrame({"a": [1]}))
    assert store.read_table("t")["a"].tolist() == [1]
    assert not store.is_local
