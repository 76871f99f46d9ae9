"""Real-world-style figure scripts (compat_corpus.py) must render in the sandbox exactly as in an
unisolated fresh interpreter: no refusals, byte-identical PNGs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from compat_corpus import TEMPLATES, scripts
from sandbox_helpers import render_unisolated

from scigen_dagster.resources.sandbox import SandboxResource

SCRIPTS = scripts()
pytestmark = pytest.mark.slow  # a fresh interpreter per script for the reference: minutes on two cores


@pytest.fixture(scope="module")
def rendered():
    codes = [code for _, code in SCRIPTS]
    with ThreadPoolExecutor(2) as pool:
        reference = list(pool.map(render_unisolated, codes))
    with SandboxResource(timeout_s=60, cpu_s=60, workers=2) as sb:
        boxed = sb.render_many(codes)
        layers = sb.active_layers()
    return {name: (ref, res) for (name, _), ref, res in zip(SCRIPTS, reference, boxed)} | {"__layers__": layers}


def test_corpus_is_large_and_varied():
    assert len(SCRIPTS) >= 100 and len(TEMPLATES) >= 40
    text = "\n".join(TEMPLATES.values())
    for feature in ("projection=\"3d\"", "\\frac", ".table(", "tz=", "zoneinfo", "pandas", "sklearn", "networkx", "imshow",
                    "subplots(2, 2", "savefig(\"revenue.png\")", "getpass", "threading", "truetype("):
        assert feature in text, feature


def test_sandbox_runs_with_its_layers(rendered):
    layers = rendered["__layers__"]
    assert all(layers[k] for k in ("mountns", "netns", "ipcns", "privdrop", "landlock", "seccomp")), layers


@pytest.mark.parametrize("name", [name for name, _ in SCRIPTS])
def test_script_renders_as_unisolated(rendered, name):
    reference, res = rendered[name]
    assert reference is not None, f"{name} does not render even unisolated: fix the corpus"
    assert res.status == "ok", (res.status, res.error, res.log[-1500:])
    assert res.png == reference, f"{name}: sandbox PNG differs from the unisolated one ({len(res.png)} vs {len(reference)} bytes)"
