"""Reference metrics (MS-SSIM, spectra, FID / KID from a local Inception file) and the
"real figures" ceiling row, end to end on SeePhys items of the dev split."""

import json
import warnings
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
import torch

from scigen_dagster import taxonomy
from scigen_dagster.assets.partitions import FULL_RANGE_TAGS
from scigen_dagster.definitions import build_definitions
from scigen_dagster.engines.inception import InceptionFeatures, InceptionWeightsError, load_inception
from scigen_dagster.evaluation import fid, image_metrics, inverse
from scigen_dagster.registry import ModelSpec


def _textured(seed: int, side: int = 96) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((side, side, 3), 255.0)
    for _ in range(12):  # black strokes on white, like a line drawing
        r, c = rng.integers(0, side - 20, 2)
        img[r:r + 2, c:c + 20] = 0
        img[r:r + 20, c:c + 2] = 0
    return img


def test_ms_ssim_is_one_for_identical_and_falls_with_noise():
    a = _textured(0, 128)
    rng = np.random.default_rng(1)
    scores = [image_metrics.ms_ssim(a, np.clip(a + rng.normal(0, s, a.shape), 0, 255)) for s in (0, 10, 40, 90)]
    assert scores[0] == pytest.approx(1.0)
    assert all(x > y for x, y in zip(scores, scores[1:])), scores
    assert image_metrics.ms_ssim_scales((128, 128, 3)) == 3  # 128 -> 64 -> 32 (each >= 22 px)
    assert image_metrics.ms_ssim_scales((400, 500, 3)) == 5
    assert image_metrics.ms_ssim(np.zeros((16, 16, 3)), np.zeros((16, 16, 3))) is None  # too small: not measured


def calibrated_inception_file(path) -> str:
    """A weight file with the FID graph's layer names and a 1008-class head, as the real
    pt_inception file has; its weights are random with batch-norm statistics measured on
    noise, so features are well scaled (FID numbers from it are not comparable to papers)."""
    torch.manual_seed(0)
    model = InceptionFeatures().train()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # cumulative statistics
    with torch.no_grad():
        for _ in range(2):
            model(torch.randint(0, 255, (6, 3, 64, 64), dtype=torch.uint8))
    state = model.state_dict() | {"fc.weight": torch.zeros(1008, 2048), "fc.bias": torch.zeros(1008)}
    torch.save(state, path)
    return str(path)


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory):
    return calibrated_inception_file(tmp_path_factory.mktemp("inception") / "pt_inception-test.pth")


def test_inception_file_loads_and_fid_kid_separate_distributions(inception_file):
    model = load_inception(inception_file)
    assert model.num_features == 2048
    same_a = [_textured(s) for s in range(6)]
    same_b = [_textured(s) for s in range(6, 12)]
    other = [np.full((96, 96, 3), 255.0) * 0 + np.random.default_rng(s).uniform(0, 255, (96, 96, 3)) for s in range(6)]
    fa, fb, fo = (fid.inception_features(x, model) for x in (same_a, same_b, other))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        near, far = fid.fid_kid(fa, fb), fid.fid_kid(fa, fo)
    assert 0 <= near["fid"] < far["fid"]
    assert near["kid_mean"] < far["kid_mean"]
    assert fid.fid_kid(fa[:1], fo)["fid"].startswith("not computed")


def test_bad_inception_files_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(InceptionWeightsError, match="no such file.*SCIGEN_INCEPTION_WEIGHTS"):
        load_inception(tmp_path / "missing.pth")
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(3)}, wrong)
    with pytest.raises(InceptionWeightsError, match="wrong.pth.*layer names"):
        load_inception(wrong)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(InceptionWeightsError, match="garbage.pth"):
        load_inception(garbage)


SEEPHYS_ITEMS = 6


@pytest.fixture(scope="module")
def seephys_run(tmp_path_factory, inception_file, dev_data_module):
    # A folder that holds only the seephys half of the dev split (links, not copies).
    data = tmp_path_factory.mktemp("seephys")
    (data / "seephys.json").symlink_to(dev_data_module / "seephys.json")
    (data / "seephys_images").symlink_to(dev_data_module / "seephys_images")
    sources = data / "sources.yaml"
    sources.write_text(json.dumps({"sources": [
        {"name": "seephys", "kind": "scigenbench", "path": str(data), "limit": SEEPHYS_ITEMS}]}))
    mp = pytest.MonkeyPatch()
    mp.setenv("SCIGEN_SOURCES", str(sources))
    mp.setenv("SCIGEN_INCEPTION_WEIGHTS", inception_file)
    models = [ModelSpec(name="imgcoder_rules", kind="imgcoder"), ModelSpec(name="real_figures", kind="reference")]
    root = tmp_path_factory.mktemp("store")
    defs = build_definitions(models=models, store_root=str(root))
    try:
        result = defs.resolve_job_def("scigen_all").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), tags=FULL_RANGE_TAGS)
    finally:
        mp.undo()
    assert result.success
    return {"storage": defs.resources["storage"], "result": result}


@pytest.fixture(scope="module")
def dev_data_module():
    from conftest import DEV_DATA

    if not (DEV_DATA / "seephys.json").exists():
        pytest.skip(f"SciGenBench dev split not found at {DEV_DATA}")
    return DEV_DATA


def test_real_figures_row_is_the_ceiling_over_items_with_a_real_figure(seephys_run):
    storage = seephys_run["storage"]
    items = storage.read_partitions("benchmark_items", taxonomy.PARTITION_KEYS)
    with_ref = items[items["reference_image"] != ""]
    assert len(with_ref) > 0
    real = storage.read_partitions("images/real_figures", taxonomy.PARTITION_KEYS)
    assert set(real["problem_id"]) == set(with_ref["problem_id"])
    assert (real["status"] == "ok").all()
    iv = storage.read_partitions("iv_results/real_figures", taxonomy.PARTITION_KEYS)
    assert set(iv["problem_id"]) == set(with_ref["problem_id"])
    board = storage.read_table("leaderboard")
    row = board[(board["scope"] == "overall") & (board["model"] == "real_figures")].iloc[0]
    assert row["images"] == len(with_ref)
    assert row["R_inv"] == pytest.approx(inverse.r_inv(iv))
    assert row["R_inv_ref_items"] == pytest.approx(row["R_inv"])  # its whole set is the reference set
    code = board[(board["scope"] == "overall") & (board["model"] == "imgcoder_rules")].iloc[0]
    code_iv = storage.read_partitions("iv_results/imgcoder_rules", taxonomy.PARTITION_KEYS)
    assert code["R_inv_ref_items"] == pytest.approx(
        inverse.r_inv(code_iv[code_iv["problem_id"].isin(with_ref["problem_id"])]))
    assert row["psnr"] is None or np.isnan(row["psnr"])  # a real figure is not compared with itself
    # never exported as training data
    assert not storage.exists(storage.table_rel("exports/real_figures/verl"))


def test_reference_metrics_carry_ms_ssim_spectra_and_fid_from_the_local_file(seephys_run, inception_file):
    from scigen_dagster.engines.inception import file_sha256

    storage = seephys_run["storage"]
    ref = storage.read_table("reference_metrics/imgcoder_rules")
    ok = ref[ref["status"] == "ok"]
    assert len(ok) >= 2
    assert ok["ms_ssim"].between(0, 1).all() and (ok["ms_ssim_scales"] >= 1).all()
    assert all(len(c) == 48 for c in ok["spectrum_generated"])
    summary = storage.read_table("reference_summary/imgcoder_rules").iloc[0]
    assert summary["inception_weights_sha256"] == file_sha256(inception_file)
    assert np.isfinite(summary["fid"]) and summary["fid"] >= 0
    items = storage.read_partitions("benchmark_items", taxonomy.PARTITION_KEYS)
    n_real = (items["reference_image"] != "").sum()
    assert summary["fid_status"].startswith(f"computed: {len(ok)} generated vs {n_real} real figures")
    # the real set is embedded once and cached by (weights, image content) for every model
    cached = list((Path(storage.path("cache/inception"))).rglob("*.npy"))
    assert len(cached) == len(ok) + n_real
    board = storage.read_table("leaderboard")
    row = board[(board["scope"] == "overall") & (board["model"] == "imgcoder_rules")].iloc[0]
    assert row["fid"] == pytest.approx(summary["fid"], rel=1e-3)
    assert 0 < row["ms_ssim"] <= 1
    # spectral curves of generated against real figures are plotted and in the report
    from PIL import Image

    Image.open(storage.path("reports/spectra.png")).verify()
    assert "spectra" in storage.read_json("reports/.leaderboard_version.json")["plots"]


def test_fid_says_not_computed_without_weights(tmp_path, monkeypatch):
    from scigen_dagster.evaluation.fid import inception_weights

    monkeypatch.delenv("SCIGEN_INCEPTION_WEIGHTS", raising=False)
    assert inception_weights() == (None, "not computed: no Inception weights configured "
                                         "(set SCIGEN_INCEPTION_WEIGHTS to a local file)")
    monkeypatch.setenv("SCIGEN_INCEPTION_WEIGHTS", str(tmp_path / "nope.pth"))
    path, why = inception_weights()
    assert path is None and why.startswith("not computed") and "nope.pth" in why
