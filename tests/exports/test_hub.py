"""push_to_hub, held against a loopback stand-in of the Hub's upload endpoints that serves
the requests huggingface_hub 1.33 really sends (tests/exports/hub_standin.py)."""

import io
import json
import logging
import secrets

import numpy as np
import pandas as pd
import pytest
from hub_standin import HubStandIn
from huggingface_hub import constants as hub_constants
from huggingface_hub.utils import logging as hub_logging
from PIL import Image

from scigen_dagster import taxonomy
from scigen_dagster.assets.exports import FinetuneConfig
from scigen_dagster.exports import hub, writer
from scigen_dagster.resources.storage import StorageResource

A, B = taxonomy.LABELS[:2]
REPO = "scigen/verified-figures"


def _chosen(storage, n: int, model: str) -> pd.DataFrame:
    rows = []
    for i in range(n):
        buf = io.BytesIO()
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(buf, "PNG")
        sha, rel = storage.put_png(buf.getvalue())
        rows.append({"problem_id": f"{model}-{i}", "image_type": A if i % 2 else B, "model": model,
                     "image_sha256": sha, "image_path": rel, "question": "Q?", "multimodal_question": "",
                     "answer": "42", "subject": "Math", "elements_json": "[]", "verified_by": "judge stub/judge"})
    return pd.DataFrame(rows, columns=["problem_id", "image_type", "model", "image_sha256", "image_path", "question",
                                       "multimodal_question", "answer", "subject", "elements_json", "verified_by"])


def _export(storage, settings: dict, previous: dict) -> dict:
    """Two sets (one with subsets) and one model with nothing verified, with manifest and card."""
    before = previous.get("exports", {})
    exports = {"code": writer.export_set(storage, "code", _chosen(storage, 20, "code"), settings, before.get("code")),
               "pixel": writer.export_set(storage, "pixel", _chosen(storage, 0, "pixel"), settings, before.get("pixel"))}
    manifest = {"code": {"package": "scigen-dagster 0.1.0", "git_commit": "abc123", "source_sha256": "f00d"},
                "thresholds": settings, "models": {"code": "imgcoder", "pixel": "diffusers"},
                "judge": ["stub/judge"], "answerer": ["stub/answerer"], "verified_by": ["judge stub/judge"],
                "prompts": {}, "candidates": {"code": 20, "pixel": 3}, "hybrid": [], "exports": exports}
    return writer.write_manifest(storage, manifest, previous)


@pytest.fixture
def hub_env(monkeypatch):
    """A token only the environment holds, the endpoint of the stand-in, and huggingface_hub's
    import-time switches set as this test needs them (the suite runs offline)."""
    token = "hf_" + secrets.token_hex(16)
    with HubStandIn(token) as standin:
        monkeypatch.setenv("SCIGEN_TEST_HF_TOKEN", token)
        monkeypatch.setenv("HF_ENDPOINT", standin.url)
        monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(hub_constants, "HF_HUB_DISABLE_XET", True)  # the LFS path, which it serves
        yield standin, token


def test_push_to_hub_commits_every_export_file_and_keeps_the_token_out_of_everything(tmp_path, hub_env, capfd):
    standin, token = hub_env
    storage = StorageResource(root=str(tmp_path / "store"))
    settings = FinetuneConfig(subset_count=3, subset_min=5).model_dump()
    manifest = _export(storage, settings, {})
    records: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: records.append(handler.format(record))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    hub_logging.set_verbosity_debug()
    try:
        pushed = hub.push_exports(storage, manifest, REPO, token_env="SCIGEN_TEST_HF_TOKEN")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        hub_logging.set_verbosity_warning()

    expected = hub.export_files(manifest)
    assert "pixel/hf.parquet" not in expected, "a set with nothing verified has no file to push"
    assert {"code/verl.parquet", "code/hf.parquet", "README.md", "manifest.json"} <= set(expected)
    assert any("/subsets/" in p for p in expected)
    remote = standin.files(REPO)
    assert set(remote) == set(expected) | {".gitattributes"}
    for rel in expected:
        assert remote[rel] == storage.read_bytes(f"{writer.EXPORTS_DIR}/{rel}"), f"{rel} arrived with other bytes"
    assert standin.repos[REPO]["type"] == "dataset" and standin.repos[REPO]["private"]
    paths = [r["path"] for r in standin.requests]
    assert "/api/repos/create" in paths and "/api/validate-yaml" in paths
    assert any(p.endswith("/info/lfs/objects/batch") for p in paths), "parquet files go through the LFS batch API"
    assert pushed["commit"] == standin.repos[REPO]["commits"][-1]
    signed = [r for r in standin.requests if not r["path"].startswith("/_lfs/") or r["path"] == "/_lfs/verify"]
    assert signed and all(r["authorization"] == f"Bearer {token}" for r in signed), "every API call carried the token"

    out, err = capfd.readouterr()
    stored = b"".join(p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file())
    for where, text in {"logs": "\n".join(records), "stdout/stderr": out + err, "the push's result": json.dumps(pushed),
                        "manifest": json.dumps(manifest), "card": storage.read_bytes(writer.CARD).decode(),
                        "the store": stored.decode("latin-1")}.items():
        assert token not in text, f"the token leaked into {where}"
    assert records, "the debug logs were captured (else the check above proves nothing)"

    # Pushed again unchanged: every file is skipped and no commit is made.
    commits = len(standin.repos[REPO]["commits"])
    again = hub.push_exports(storage, manifest, REPO, token_env="SCIGEN_TEST_HF_TOKEN")
    assert len(standin.repos[REPO]["commits"]) == commits and again["commit"] == pushed["commit"]

    # Fewer rows, other subset sizes: the subsets the export no longer has leave the Hub too.
    smaller = _export(storage, FinetuneConfig(subset_count=2, subset_min=7).model_dump(), manifest)
    third = hub.push_exports(storage, smaller, REPO, token_env="SCIGEN_TEST_HF_TOKEN")
    assert set(standin.files(REPO)) == set(hub.export_files(smaller)) | {".gitattributes"}
    assert third["deleted"] and all("/subsets/" in p for p in third["deleted"])


def test_push_to_hub_without_a_token_or_offline_says_what_to_set(tmp_path, monkeypatch):
    storage = StorageResource(root=str(tmp_path))
    manifest = {"exports": {}, "code": {"git_commit": "x"}}
    monkeypatch.delenv("SCIGEN_TEST_HF_TOKEN", raising=False)
    with pytest.raises(ValueError, match="environment variable SCIGEN_TEST_HF_TOKEN"):
        hub.push_exports(storage, manifest, REPO, token_env="SCIGEN_TEST_HF_TOKEN")
    with pytest.raises(ValueError, match="'namespace/name'"):
        hub.push_exports(storage, manifest, "just-a-name", token_env="SCIGEN_TEST_HF_TOKEN")
    monkeypatch.setenv("SCIGEN_TEST_HF_TOKEN", "hf_x")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(RuntimeError, match="HF_HUB_OFFLINE"):
        hub.push_exports(storage, manifest, REPO, token_env="SCIGEN_TEST_HF_TOKEN")


def test_the_asset_pushes_when_configured_and_its_metadata_holds_the_commit_not_the_token(tmp_path, hub_env):
    import dagster as dg

    from scigen_dagster.assets.exports import hub_metadata

    standin, token = hub_env
    storage = StorageResource(root=str(tmp_path))
    config = FinetuneConfig(push_to_hub=REPO, hub_token_env="SCIGEN_TEST_HF_TOKEN")
    assert config.export_settings() == FinetuneConfig().model_dump(exclude={"push_to_hub", "hub_token_env",
                                                                            "hub_private"}), \
        "where the exports go does not change their files, their fingerprints or the manifest"
    manifest = _export(storage, config.export_settings(), {})
    meta = hub_metadata(dg.build_asset_context(), storage, manifest, config)
    assert meta["hub"].value == f"{standin.url}/datasets/{REPO}"
    assert meta["hub_commit"].value.endswith(standin.repos[REPO]["commits"][-1])
    assert token not in json.dumps({k: str(v.value) for k, v in meta.items()})
    assert "not pushed" in hub_metadata(dg.build_asset_context(), storage, manifest, FinetuneConfig())["hub"].value
