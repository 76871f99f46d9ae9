"""The Inception-v3 feature extractor of FID / KID, written out in plain torch.

FID is only comparable across papers when it uses the TensorFlow Inception graph of
2015-12-05 ported to PyTorch (the weight file that FID tools distribute as
``pt_inception-2015-12-05-*.pth``). Its layer names follow torchvision's Inception3, so
this module names its layers the same way and loads that file with ``strict`` key
matching; the classifier head in the file (``fc.*``, 1008 classes) is not needed for the
2048-d pool features and is ignored.

The input path is torch-fidelity's ``FeatureExtractorInceptionV3`` (the network behind
torchmetrics' ``FrechetInceptionDistance``, which the study uses): uint8 RGB at 299 x 299,
scaled as ``(x - 128) / 128``. The study resizes each figure to 299 x 299 first with
torchvision's ``T.Resize((299, 299))`` on a PIL image, that is PIL bilinear; so does
:func:`inception_input` here.

Nothing here downloads anything: the weights come from a local file named by the
configuration (``SCIGEN_INCEPTION_WEIGHTS``). Without that file FID and KID are reported
as "not computed", never estimated with other weights.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

FEATURES = 2048
INPUT_SIZE = 299


class InceptionWeightsError(ValueError):
    pass


class Conv(nn.Module):
    """Convolution without bias, batch norm (eps 1e-3), ReLU."""

    def __init__(self, cin: int, cout: int, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def _avg3(x):
    # The TF graph averages over the valid pixels only at the border.
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class BlockA(nn.Module):
    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = Conv(cin, 64, 1)
        self.branch5x5_1 = Conv(cin, 48, 1)
        self.branch5x5_2 = Conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = Conv(cin, 64, 1)
        self.branch3x3dbl_2 = Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = Conv(96, 96, 3, padding=1)
        self.branch_pool = Conv(cin, pool_features, 1)

    def forward(self, x):
        return torch.cat([
            self.branch1x1(x),
            self.branch5x5_2(self.branch5x5_1(x)),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            self.branch_pool(_avg3(x)),
        ], 1)


class BlockB(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = Conv(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = Conv(cin, 64, 1)
        self.branch3x3dbl_2 = Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = Conv(96, 96, 3, stride=2)

    def forward(self, x):
        return torch.cat([
            self.branch3x3(x),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            F.max_pool2d(x, 3, stride=2),
        ], 1)


class BlockC(nn.Module):
    def __init__(self, cin: int, c7: int):
        super().__init__()
        self.branch1x1 = Conv(cin, 192, 1)
        self.branch7x7_1 = Conv(cin, c7, 1)
        self.branch7x7_2 = Conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = Conv(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = Conv(cin, c7, 1)
        self.branch7x7dbl_2 = Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = Conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = Conv(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = Conv(cin, 192, 1)

    def forward(self, x):
        dbl = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3,
                      self.branch7x7dbl_4, self.branch7x7dbl_5):
            dbl = layer(dbl)
        return torch.cat([
            self.branch1x1(x),
            self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x))),
            dbl,
            self.branch_pool(_avg3(x)),
        ], 1)


class BlockD(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1 = Conv(cin, 192, 1)
        self.branch3x3_2 = Conv(192, 320, 3, stride=2)
        self.branch7x7x3_1 = Conv(cin, 192, 1)
        self.branch7x7x3_2 = Conv(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = Conv(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = Conv(192, 192, 3, stride=2)

    def forward(self, x):
        b = x
        for layer in (self.branch7x7x3_1, self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b = layer(b)
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b, F.max_pool2d(x, 3, stride=2)], 1)


class BlockE(nn.Module):
    """The last two blocks; the TF graph pools with an average in the first and a max in
    the second."""

    def __init__(self, cin: int, pool: str):
        super().__init__()
        self.pool = pool
        self.branch1x1 = Conv(cin, 320, 1)
        self.branch3x3_1 = Conv(cin, 384, 1)
        self.branch3x3_2a = Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = Conv(cin, 448, 1)
        self.branch3x3dbl_2 = Conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = Conv(cin, 192, 1)

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = _avg3(x) if self.pool == "avg" else F.max_pool2d(x, 3, stride=1, padding=1)
        return torch.cat([
            self.branch1x1(x),
            self.branch3x3_2a(b3), self.branch3x3_2b(b3),
            self.branch3x3dbl_3a(dbl), self.branch3x3dbl_3b(dbl),
            self.branch_pool(pooled),
        ], 1)


def scale_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 0..255 -> the graph's input range, exactly as torch-fidelity does it:
    ``x = (x - 128) / 128`` in FeatureExtractorInceptionV3.forward
    (toshas/torch-fidelity, torch_fidelity/feature_extractor_inceptionv3.py, v0.4.0; its
    comment: the TF graph computes ``(x - 128) * 0.0078125``, and this is bit-exact with
    it). ``x / 255 * 2 - 1`` is not the same map (128 -> 0.0039, not 0) and gives other
    features."""
    return (images.float() - 128) / 128


def inception_input(images: Sequence[np.ndarray]) -> torch.Tensor:
    """RGB arrays (H, W, 3) of any size -> a uint8 (N, 3, 299, 299) batch, each resized
    with PIL bilinear, which is what the study's ``T.Resize((299, 299))`` does to a PIL
    image (a square stretch, no crop)."""
    tensors = []
    for rgb in images:
        img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
        img = img.resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR)
        tensors.append(torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1))
    return torch.stack(tensors)


class InceptionFeatures(nn.Module):
    """uint8 RGB images (N, 3, H, W) -> 2048-d pool features, no classifier. Input other
    than 299 x 299 is resized bilinearly inside (as pytorch-fid does); the pipeline hands
    it 299 x 299 batches from :func:`inception_input`, so the study's resize is the one
    that counts."""

    num_features = FEATURES

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = Conv(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = Conv(32, 32, 3)
        self.Conv2d_2b_3x3 = Conv(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = Conv(64, 80, 1)
        self.Conv2d_4a_3x3 = Conv(80, 192, 3)
        self.Mixed_5b = BlockA(192, 32)
        self.Mixed_5c = BlockA(256, 64)
        self.Mixed_5d = BlockA(288, 64)
        self.Mixed_6a = BlockB(288)
        self.Mixed_6b = BlockC(768, 128)
        self.Mixed_6c = BlockC(768, 160)
        self.Mixed_6d = BlockC(768, 160)
        self.Mixed_6e = BlockC(768, 192)
        self.Mixed_7a = BlockD(768)
        self.Mixed_7b = BlockE(1280, "avg")
        self.Mixed_7c = BlockE(2048, "max")

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images
        if tuple(x.shape[-2:]) != (INPUT_SIZE, INPUT_SIZE):
            x = F.interpolate(x.float(), size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        x = scale_input(x)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c,
                      self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c):
            x = block(x)
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_inception(path: str | Path) -> InceptionFeatures:
    """The feature extractor with the weights of a local file (a state dict with
    torchvision Inception3 layer names). A file that is not such a state dict stops with
    an error naming the file and what was expected."""
    path = Path(path)
    if not path.is_file():
        raise InceptionWeightsError(
            f"Inception weights {path}: no such file. Set SCIGEN_INCEPTION_WEIGHTS to the FID "
            "Inception state dict (pt_inception-2015-12-05-*.pth), or unset it to skip FID/KID.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same advice
        raise InceptionWeightsError(f"Inception weights {path}: not a torch state dict ({exc})") from exc
    if not isinstance(state, dict):
        raise InceptionWeightsError(f"Inception weights {path}: expected a state dict, found {type(state).__name__}")
    state = {k: v for k, v in state.items() if not k.startswith(("fc.", "AuxLogits."))}
    model = InceptionFeatures()
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # same names, other shapes
        raise InceptionWeightsError(f"Inception weights {path}: tensor shapes do not match the FID "
                                    f"Inception graph ({str(exc).splitlines()[-1].strip()})") from exc
    if missing or unexpected:
        raise InceptionWeightsError(
            f"Inception weights {path}: layer names do not match the FID Inception graph "
            f"(missing {sorted(missing)[:3]}..., unexpected {sorted(unexpected)[:3]}...). Expected the "
            "torchvision Inception3 naming used by pt_inception-2015-12-05-*.pth.")
    return model.eval().requires_grad_(False)
