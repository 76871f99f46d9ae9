"""Reference metrics (MS-SSIM, spectra, FID / KID from a local Inception file) and the
"real figures" ceiling row, end to end on SeePhys items of the dev split."""

import io
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


def test_inception_input_is_scaled_as_torch_fidelitys_fid_network(inception_file):
    """torch-fidelity's FeatureExtractorInceptionV3 (the network of torchmetrics' FID, which
    the study uses) feeds the first convolution ``(x - 128) / 128`` of the uint8 image; so
    must ours, to the bit. ``x / 255 * 2 - 1`` is another map with other features."""
    model = load_inception(inception_file)
    seen = {}
    hook = model.Conv2d_1a_3x3.register_forward_pre_hook(lambda module, args: seen.update(x=args[0].clone()))
    torch.manual_seed(0)
    x = torch.randint(0, 256, (1, 3, 299, 299), dtype=torch.uint8)
    x[0, 0, 0, :3] = torch.tensor([0, 128, 255], dtype=torch.uint8)
    with torch.no_grad():
        ours = model(x)
    hook.remove()
    assert torch.equal(seen["x"], (x.to(torch.float32) - 128) / 128)
    assert seen["x"][0, 0, 0, :3].tolist() == [-1.0, 0.0, 127 / 128]
    other = x.to(torch.float32) / 255 * 2 - 1
    assert float((seen["x"] - other).abs().max()) > 3e-3
    hook = model.Conv2d_1a_3x3.register_forward_pre_hook(lambda module, args: (other,))
    with torch.no_grad():
        with_other = model(x)
    hook.remove()
    assert not torch.allclose(ours, with_other, atol=1e-4)


def test_inception_input_is_the_studys_bilinear_resize_to_299():
    from PIL import Image

    from scigen_dagster.engines.inception import inception_input

    figure = _textured(3, 150)
    batch = inception_input([figure])
    assert batch.dtype == torch.uint8 and tuple(batch.shape) == (1, 3, 299, 299)
    # T.Resize((299, 299)) on a PIL image, as t2i_metric.py does it, is PIL's bilinear resize
    expected = np.asarray(Image.fromarray(figure.astype(np.uint8)).resize((299, 299), Image.BILINEAR))
    assert np.array_equal(batch[0].permute(1, 2, 0).numpy(), expected)


class _CheapFeatures(torch.nn.Module):
    """64 fixed random projections of a 16 x 16 thumbnail: which figures go into FID is
    under test here, not the network (the real one and 2048-d FID are slow on a CPU)."""

    num_features = 64

    def __init__(self):
        super().__init__()
        self.register_buffer("w", torch.randn(3 * 16 * 16, 64, generator=torch.Generator().manual_seed(0)))

    def forward(self, x):
        small = torch.nn.functional.adaptive_avg_pool2d(x.float() / 255, 16).flatten(1)
        return small @ self.w


def test_fid_compares_each_model_with_the_real_figures_of_its_own_pairs(tmp_path, monkeypatch):
    """Four items with real figures; the model drew two. Its FID is that of its two
    figures against those two items' real figures, not against all four."""
    import pandas as pd
    from PIL import Image

    from scigen_dagster.resources.storage import StorageResource

    cheap = _CheapFeatures()
    monkeypatch.setattr(fid, "_inception_model", lambda path, sha: cheap)
    storage = StorageResource(root=str(tmp_path / "store"))
    real, refs = [_textured(100 + i) for i in range(4)], []
    real[2:] = [np.random.default_rng(i).uniform(0, 255, (96, 96, 3)).round() for i in (2, 3)]  # unlike the rest
    for i, rgb in enumerate(real):
        refs.append(str(tmp_path / f"real{i}.png"))
        Image.fromarray(rgb.astype(np.uint8)).save(refs[-1])
    items = pd.DataFrame({"problem_id": [f"p{i}" for i in range(4)], "reference_image": refs,
                          "question": [f"problem {i}" for i in range(4)], "image_type": "Physics - Optical Ray"})
    generated, rows = [_textured(0), _textured(1)], []
    for i, rgb in enumerate(generated):
        buf = io.BytesIO()
        Image.fromarray(rgb.astype(np.uint8)).save(buf, format="PNG")
        storage.write_bytes(f"images/m/p{i}.png", buf.getvalue())
        rows.append({"problem_id": f"p{i}", "status": "ok", "image_sha256": f"sha{i}", "image_path": f"images/m/p{i}.png"})
    rows += [{"problem_id": f"p{i}", "status": "failed", "image_sha256": "", "image_path": ""} for i in (2, 3)]
    images = pd.DataFrame(rows)
    frame = image_metrics.reference_metrics_table(items, images, "m", storage)
    summary = fid.reference_summary(frame, items, images, "m", storage, tmp_path / "weights.pth", "w" * 64).iloc[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gen = fid.inception_features(generated, cheap)
        own = fid.fid_kid(fid.inception_features(real[:2], cheap), gen)["fid"]
        everyone = fid.fid_kid(fid.inception_features(real, cheap), gen)["fid"]
    assert summary["fid"] == pytest.approx(own, rel=1e-6)
    assert abs(own - everyone) > 0.05 * max(own, everyone), (own, everyone)
    assert summary["fid_status"].startswith("computed: 2 generated vs the 2 real figures of the same pairs")
    # without a CLIP folder the CLIP score is not computed, and says so
    assert summary["clip_score"] is None or np.isnan(summary["clip_score"])
    assert summary["clip_status"].startswith("not computed: set SCIGEN_CLIP_WEIGHTS=<folder>")


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
def seephys_run(tmp_path_factory, inception_file, dev_data_module, tiny_clip_folder):
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
    mp.setenv("SCIGEN_CLIP_WEIGHTS", str(tiny_clip_folder))
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
    # the model's own real set: the real figures of the pairs it drew, one each
    assert summary["fid_status"].startswith(f"computed: {len(ok)} generated vs the {len(ok)} real figures of the same pairs")
    # each figure is embedded once and cached by (weights, feature code, image content)
    cached = list((Path(storage.path("cache/inception"))).rglob("*.npy"))
    assert len(cached) == 2 * len(ok)
    board = storage.read_table("leaderboard")
    row = board[(board["scope"] == "overall") & (board["model"] == "imgcoder_rules")].iloc[0]
    assert row["fid"] == pytest.approx(summary["fid"], rel=1e-3)
    # CLIP score from the local folder, over the same pairs, in the summary, the metadata and the board
    assert summary["clip_status"].startswith("computed: not ViT-B/16") and f"over {len(ok)} " in summary["clip_status"]
    assert 0 <= summary["clip_score"] <= 100
    assert row["clip_score"] == pytest.approx(summary["clip_score"], abs=1e-3)
    meta = next(e.materialization.metadata for e in seephys_run["result"].get_asset_materialization_events()
                if e.materialization.asset_key == dg.AssetKey("imgcoder_rules_reference_metrics"))
    assert meta["clip_score"].value == pytest.approx(summary["clip_score"])
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
