"""CLIP score: held against torchmetrics' CLIPScore (the study's metric) on a tiny CLIP
with random weights saved like a Hub snapshot, and against CLIP's preprocessing written
out by hand."""

import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from scigen_dagster.engines.clip import CLIP_ENV, MAX_TOKENS, NOT_CONFIGURED, ClipScorer, clip_weights

OPENAI_CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073])
OPENAI_CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711])


def _figures() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    lines = np.full((120, 400, 3), 255.0)
    lines[40:44, 20:380] = 0
    lines[10:110, 200:203] = [200, 30, 30]
    return [rng.uniform(0, 255, (300, 200, 3)).round(), lines, np.zeros((50, 50, 3)),
            rng.uniform(0, 255, (224, 224, 3)).round(), np.full((90, 90, 3), 255.0),
            rng.uniform(0, 255, (64, 500, 3)).round()]


TEXTS = ["a block on an incline", "a circuit with R = 4 ohm", "lens f = 10 cm", "x" * 300, "two charges",
         "a wave of 2 Hz"]


@pytest.fixture(scope="module")
def scorer(tiny_clip_folder):
    return ClipScorer(tiny_clip_folder)


class _FeaturesAsTensors(torch.nn.Module):
    """torchmetrics 1.9 expects get_*_features to return tensors, as transformers 4 did;
    transformers 5 wraps them. This adapter only unwraps: the processor, truncation,
    normalisation and 100 * max(cos, 0) are torchmetrics' own."""

    def __init__(self, model):
        super().__init__()
        self.model, self.config = model, model.config

    def get_image_features(self, *args, **kwargs):
        out = self.model.get_image_features(*args, **kwargs)
        return out if torch.is_tensor(out) else out.pooler_output

    def get_text_features(self, *args, **kwargs):
        out = self.model.get_text_features(*args, **kwargs)
        return out if torch.is_tensor(out) else out.pooler_output


def test_clip_score_equals_torchmetrics_clipscore(scorer, tiny_clip_folder):
    from torchmetrics.multimodal import CLIPScore
    from transformers import CLIPModel, CLIPProcessor

    def load():
        model = CLIPModel.from_pretrained(tiny_clip_folder, local_files_only=True)
        return _FeaturesAsTensors(model), CLIPProcessor.from_pretrained(tiny_clip_folder, local_files_only=True)

    metric = CLIPScore(model_name_or_path=load)
    images, texts = _figures()[:5], TEXTS[:3] + TEXTS[4:6]  # under 77 tokens: torchmetrics cuts no text here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # one pair per call, as the study calls it: forward returns max(100 cos, 0) of that pair
        reference = np.array([float(metric(torch.from_numpy(img.astype(np.uint8)).permute(2, 0, 1), [text]))
                              for img, text in zip(images, texts)])
    ours = scorer.scores(images, texts)
    assert (reference > 1).any() and (reference == 0).any(), f"the pairs should give both signs of cos: {reference}"
    np.testing.assert_allclose(ours, reference, atol=1e-3)


def test_preprocessing_is_clips_shortest_side_bicubic_centre_crop_mean_std(scorer):
    """The 300 x 200 figure, by hand: shortest side to 224 (so 336 x 224), bicubic; the
    middle 224 rows; /255 once; CLIP's mean and std."""
    figure = _figures()[0]
    resized = np.asarray(Image.fromarray(figure.astype(np.uint8)).resize((224, 336), Image.BICUBIC), dtype=np.float64)
    crop = resized[56:280]
    expected = ((crop / 255 - OPENAI_CLIP_MEAN) / OPENAI_CLIP_STD).transpose(2, 0, 1)
    got = scorer.pixel_values([figure])[0].double().numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_the_studys_float_input_reaches_clip_almost_constant(scorer):
    """Why the study's CLIP column hardly moves (see engines/clip.py): floats already in
    0..1 are rescaled by 1/255 a second time, so a black-on-white figure and a white page
    reach the network nearly alike; uint8 input keeps them apart."""
    lines, blank = _figures()[1], _figures()[4]
    study_like = [scorer.processor(images=[(rgb / 255).transpose(2, 0, 1)], return_tensors="pt",
                                   input_data_format="channels_first")["pixel_values"][0] for rgb in (lines, blank)]
    ours = scorer.pixel_values([lines, blank])
    assert float((study_like[0] - study_like[1]).abs().max()) < 0.02
    assert float((ours[0] - ours[1]).abs().max()) > 3


def test_text_is_cut_at_77_tokens_with_the_end_token_kept(scorer):
    full = scorer.tokenizer([TEXTS[3]])["input_ids"][0]
    assert len(full) > MAX_TOKENS
    cut = scorer.text_inputs([TEXTS[3]])["input_ids"][0].tolist()
    assert len(cut) == MAX_TOKENS and cut[-1] == scorer.tokenizer.eos_token_id
    assert cut[:-1] == list(full[: MAX_TOKENS - 1])
    assert np.isfinite(scorer.scores(_figures()[3:4], TEXTS[3:4])).all()


def test_without_a_folder_the_clip_score_is_not_computed(tmp_path, monkeypatch, tiny_clip_folder):
    monkeypatch.delenv(CLIP_ENV, raising=False)
    assert clip_weights() == (None, NOT_CONFIGURED)
    assert NOT_CONFIGURED.startswith("not computed: set SCIGEN_CLIP_WEIGHTS=<folder>")
    monkeypatch.setenv(CLIP_ENV, str(tmp_path / "nowhere"))
    path, why = clip_weights()
    assert path is None and why.startswith("not computed") and "nowhere" in why
    monkeypatch.setenv(CLIP_ENV, str(tiny_clip_folder))
    path, sha = clip_weights()
    assert path == tiny_clip_folder and len(sha) == 64
    assert ClipScorer(tiny_clip_folder).architecture.startswith("not ViT-B/16")  # said, not hidden
