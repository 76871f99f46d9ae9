"""The dataset card (README.md) of the exports."""

from __future__ import annotations

import json

from scigen_dagster import taxonomy
from scigen_dagster.evaluation.inverse import OCR_LOOKUP_NOTE, is_ocr_lookup
from scigen_dagster.reporting.formatting import format_value

LICENSE = "apache-2.0"

PROTOCOL_NOTE = ("strict: ours, options shuffled, abstention allowed, a blind control, a failed figure is not "
                 "faithful; scigenbench: the SciGenBench study's prompts, option order, grading and denominators")


def front_matter(manifest: dict) -> list[str]:
    """The Hub's dataset-card header: one config per set in HF format (the VeRL files have
    another schema and stay out of the configs), the license and the task."""
    lines = ["---", f"license: {LICENSE}", "task_categories:", "- visual-question-answering",
             "- image-to-text", "configs:"]
    for name, e in manifest["exports"].items():
        if e["files"]:
            lines += [f"- config_name: {name}", "  data_files:", "  - split: train", f"    path: {e['files']['hf']['path']}"]
    if lines[-1] == "configs:":
        lines[-1] = "configs: []"
    return lines + ["---", ""]


OFFLINE_WARNING = ("**Not verified by any model.** These rows were checked only by offline proxies: no rubric "
                   "judge scored them and inverse validation was an OCR lookup. They are exported because "
                   "`export_offline_verified` is set, and each row says `verified_by: offline proxies`.")


def offline_rows(export: dict) -> int:
    return int(export.get("verified_by", {}).get("offline proxies", 0))


def dataset_card(manifest: dict) -> str:
    """The README.md of the exports: what is inside, how it was made, how to load it."""
    m = manifest
    lines = front_matter(m) + [
        "# SciGen verified figures: fine-tuning exports", "",
        "Scientific problems paired with figures that passed this pipeline's checks: the figure rendered, "
        "every inverse-validation quiz was answered right from the figure alone"
        + ("" if m["thresholds"]["require_faithful"] else " (not required in this export)")
        + f", the judge mean was at least {m['thresholds']['min_judge_mean']} (where measured), "
        "and no answer text is visible in the figure.", "",
        f"Verified by: {', '.join(m.get('verified_by', [])) or 'nothing'}. Each row's `verified_by` "
        "(VeRL `extra_info`, HF column) names what checked it. "
        + ("Rows that only offline proxies checked are exported, labelled." if m["thresholds"].get(
            "export_offline_verified") else "Rows that only offline proxies checked are not exported."), "",
        *([OFFLINE_WARNING, ""] if any(offline_rows(e) for e in m["exports"].values()) else []),
        "## Files", "",
        "| export | source models | rows | VeRL parquet | HF parquet | scaling subsets (rows) |",
        "|---|---|---|---|---|---|",
    ]
    for name, e in m["exports"].items():
        subsets = ", ".join(str(s["rows"]) for s in e["subsets"]) or "-"
        if not e["files"]:
            lines.append(f"| {name} | {', '.join(e['source_models']) or name} | 0 | no file (nothing verified) | - | - |")
            continue
        lines.append(f"| {name} | {', '.join(e['source_models'])} | {e['rows']} | `{e['files']['verl']['path']}` "
                     f"| `{e['files']['hf']['path']}` | {subsets} |")
    lines += [
        "", "VeRL rows: `data_source`, `prompt` (chat messages; `<image>` marks the figure), `images` "
        "(list of {bytes, path}), `ability` (subject), `reward_model` ({style: rule, ground_truth}), "
        "`extra_info` (problem id, image type, source model, image sha256, split). The HF files load with "
        "`datasets.load_dataset(\"parquet\", data_files=...)`; `image` decodes as an Image feature.", "",
        "Scaling subsets are nested (every smaller subset is inside every larger one) and balanced over "
        f"image types as far as the data allow; sizes are log-spaced; order seed {m['thresholds']['subset_seed']}.",
        "", "## How it was made", "",
        f"- code: {m['code']['package']}, git {m['code']['git_commit']}, source sha256 {m['code']['source_sha256']}",
        f"- evaluation protocol: {', '.join(m.get('protocol') or []) or 'none'} "
        f"({PROTOCOL_NOTE})",
        f"- judge: {', '.join(m['judge']) or 'none'}",
        f"- inverse-validation answerer: {', '.join(m['answerer']) or 'none'}"
        + (f" ({OCR_LOOKUP_NOTE})" if any(is_ocr_lookup(a) for a in m["answerer"]) else ""),
        f"- thresholds: `{json.dumps(m['thresholds'], sort_keys=True)}`",
        "- models:",
        *[f"  - {name}: {desc}" for name, desc in m["models"].items()],
        "- prompt hashes (sha256):",
        *[f"  - {name}: {sha}" for name, sha in m["prompts"].items()],
    ]
    if m.get("hybrid"):
        lines += ["", "## Hybrid set: best model per image type (by R_inv)", "",
                  "| image type | model | R_inv | runner-up | runner-up R_inv |", "|---|---|---|---|---|"]
        for r in m["hybrid"]:
            lines.append(f"| {r['image_type']} | {r['model'] or 'none measured'} | {format_value(r['R_inv'])} "
                         f"| {r['runner_up'] or '-'} | {format_value(r['runner_up_R_inv'])} |")
    lines += ["", "## Rows per image type", ""]
    names = list(m["exports"])
    lines += ["| image type | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label in taxonomy.LABELS:
        lines.append(f"| {label} | " + " | ".join(str(m["exports"][n]["per_type"].get(label, 0)) for n in names) + " |")
    lines += ["", f"Created {m['created_at']}. The full manifest is `manifest.json` beside this file.", ""]
    return "\n".join(lines)
