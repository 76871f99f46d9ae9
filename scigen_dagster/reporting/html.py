"""The self-contained HTML report: CSS inline, images as data URLs, a Content-Security-
Policy that lets the page load nothing; every metric column shown, with its interval."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import pandas as pd

from scigen_dagster import taxonomy
from scigen_dagster.evaluation.judge import JUDGE_DIMENSIONS
from scigen_dagster.reporting.formatting import NM, as_number, data_url, escape_html, format_value, is_count, is_missing
from scigen_dagster.reporting.leaderboard import NOTE, NOTES
from scigen_dagster.reporting.plots import (
    DEFAULT_TITLE,
    GROUP_OF,
    IMAGE,
    METRIC_HELP,
    PLOT_CAPTIONS,
    ci_of,
    display_name_of,
    is_real_row,
    metric_columns,
    models_in_order,
    ordered_rows,
    overall_rows,
)

_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
       margin: 24px auto; max-width: 1400px; padding: 0 16px; color: #1d1d1f; background: #fff;
       line-height: 1.4; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 1.05em; margin-top: 1.2em; }
p.note { color: #555; font-size: 0.9em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.8em; margin: 8px 0 4px; }
th, td { border: 1px solid #d8d8d8; padding: 3px 5px; text-align: right; vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; text-align: center; }
td.name, th.name { text-align: left; white-space: nowrap; }
tr.real td { background: #f7f7f2; }
td.nm { color: #999; font-style: italic; text-align: center; }
span.ci { display: block; color: #666; font-size: 0.85em; white-space: nowrap; }
figure { margin: 18px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9em; margin-top: 4px; }
dl.help { font-size: 0.85em; color: #444; display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dl.help dt { font-weight: 600; }
dl.help dd { margin: 0; }
table.manifest td { text-align: left; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
"""


_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _cell(row: Mapping[str, Any], metric: str, ci: bool = True) -> str:
    v = row.get(metric)
    if is_missing(v) or (as_number(v) is None and not isinstance(v, str)):
        return f'<td class="nm">{NM}</td>'
    text = escape_html(format_value(v, count=is_count(metric)))
    if ci and (interval := ci_of(row, metric)):
        text += f'<span class="ci">[{interval[0]:.2f}, {interval[1]:.2f}]</span>'
    return f"<td>{text}</td>"


def _header(metric: str) -> str:
    # Judge dimensions read as words; other names stay identifiers but may break after "_".
    shown = escape_html(metric.replace("_", " ") if metric in JUDGE_DIMENSIONS else metric).replace("_", "_<wbr>")
    tip = METRIC_HELP.get(metric)
    return f'<th title="{escape_html(tip)}">{shown}</th>' if tip else f"<th>{shown}</th>"


def _overall_table(board: pd.DataFrame, ceiling: Collection[str]) -> str:
    overall = ordered_rows(overall_rows(board))
    metrics = metric_columns(overall.drop(columns=["_name", "_key"]))
    groups: list[tuple[str, int]] = []
    for m in metrics:
        g = GROUP_OF.get(m, IMAGE)
        if groups and groups[-1][0] == g:
            groups[-1] = (g, groups[-1][1] + 1)
        else:
            groups.append((g, 1))
    noted = NOTE in overall and overall[NOTE].notna().any()  # a model without items says why
    head1 = '<tr><th class="name" rowspan="2">Model</th>' + "".join(
        f'<th colspan="{n}">{escape_html(g)}</th>' for g, n in groups) + (
        '<th class="name" rowspan="2">note</th>' if noted else "") + "</tr>"
    head2 = "<tr>" + "".join(_header(m) for m in metrics) + "</tr>"
    body = []
    for r in overall.to_dict("records"):
        cls = ' class="real"' if is_real_row(r, ceiling) else ""
        model = r.get("model", "")
        tip = f' title="{escape_html(model)}"' if str(model) != display_name_of(r) else ""
        body.append(f'<tr{cls}><td class="name"{tip}>{escape_html(display_name_of(r))}</td>'
                    + "".join(_cell(r, m) for m in metrics)
                    + (f'<td class="name">{escape_html("" if is_missing(r[NOTE]) else r[NOTE])}</td>' if noted else "")
                    + "</tr>")
    if not body:
        body.append(f'<tr><td class="nm" colspan="{len(metrics) + 1}">no models</td></tr>')
    return (f'<div class="scroll"><table class="overall"><thead>{head1}{head2}</thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _evaluated_by(board: pd.DataFrame) -> str:
    """Who filled each model's columns: the rubric judge and the inverse-validation answerer."""
    overall = ordered_rows(overall_rows(board))
    if not {"rubric_judge", "iv_answerer"} <= set(overall.columns) or overall.empty:
        return ""
    columns = [c for c in ("protocol", "rubric_judge", "iv_answerer") if c in overall.columns]
    body = "".join(
        f'<tr><th class="name" scope="row">{escape_html(display_name_of(r))}</th>'
        + "".join(f'<td class="name">{escape_html(NM if is_missing(r[c]) or r[c] == "" else r[c])}</td>'
                  for c in columns) + "</tr>"
        for r in overall.to_dict("records"))
    heads = {"protocol": "protocol", "rubric_judge": "rubric judge", "iv_answerer": "inverse-validation answerer"}
    return ('<h3>Evaluated by</h3><div class="scroll"><table class="evaluated-by"><thead><tr>'
            '<th class="name">Model</th>' + "".join(f"<th>{heads[c]}</th>" for c in columns) + "</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def _group_table(board: pd.DataFrame, scope: str, groups: Iterable[str], metric: str = "R_inv") -> str:
    models = models_in_order(board, metric)
    part = board[board["scope"] == scope] if "scope" in board.columns else board.iloc[0:0]
    cells = {(r["group"], r["model"]): r for r in part.to_dict("records")}
    title = {"subject": "Subject", "split": "Subset"}.get(scope, "Image type")
    head = f'<tr><th class="name">{title}</th>' + "".join(f"<th>{escape_html(name)}</th>" for _, name in models) + "</tr>"
    body = []
    for g in groups:
        tds = "".join(_cell(cells.get((g, m), {}), metric) for m, _ in models)
        body.append(f'<tr><td class="name">{escape_html(g)}</td>{tds}</tr>')
    return (f'<div class="scroll"><table class="{escape_html(scope)}"><thead>{head}</thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _partition_heading(key: str) -> str:
    try:
        return taxonomy.label_for_key(key)
    except KeyError:
        return key


def _manifest_value(v: Any) -> str:
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    return str(v)


def html_report(board: pd.DataFrame, plots: Mapping[str, bytes],
                thumbnails: Mapping[str, bytes] | None = None, manifest: Mapping[str, Any] | None = None,
                title: str = DEFAULT_TITLE, ceiling: Collection[str] = ()) -> str:
    """One self-contained HTML page: tables, plots and thumbnails, loading nothing external.

    ``plots`` maps a caption (or a key of ``PLOT_CAPTIONS``) to PNG bytes; ``thumbnails``
    maps a partition key (or any heading) to a thumbnail grid PNG; ``manifest`` holds
    provenance (generation time, code version...) shown as a small key/value table; the
    models in ``ceiling`` (the real figures) are set apart in the overall table.
    """
    metrics_present = metric_columns(overall_rows(board))
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{escape_html(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<h1>{escape_html(title)}</h1>"]
    if title != DEFAULT_TITLE:
        out.append(f'<p class="note">{escape_html(DEFAULT_TITLE)}</p>')
    out += [(f'<p class="note"><b>{NM}</b> = not measured by the configured judge / answerer / metric '
             "(never counted as 0). Brackets give bootstrap 95% intervals. "
             "Models are sorted by R_inv, best first.</p>"),
            "<h2>Overall</h2>", _overall_table(board, ceiling), _evaluated_by(board),
            '<ul class="note">' + "".join(f"<li>{escape_html(n)}</li>" for n in NOTES[1:]) + "</ul>"]
    helps = [(m, METRIC_HELP[m]) for m in metrics_present if m in METRIC_HELP]
    if helps:
        out.append('<dl class="help">' + "".join(f"<dt>{escape_html(m)}</dt><dd>{escape_html(h)}</dd>" for m, h in helps) + "</dl>")
    out += ["<h2>R_inv by subject</h2>", _group_table(board, "subject", taxonomy.SUBJECTS),
            "<h2>R_inv by image type</h2>", _group_table(board, "type", taxonomy.LABELS)]
    splits = sorted(board.loc[board["scope"] == "split", "group"].unique()) if "scope" in board.columns else []
    if splits:  # the study reports scigen and seephys apart: so does every protocol here
        out += ["<h2>R_inv by subset</h2>", _group_table(board, "split", splits),
                "<h2>Question accuracy by subset</h2>", _group_table(board, "split", splits, "question_acc")]
    if plots:
        out.append("<h2>Plots</h2>")
        for key, png in plots.items():
            caption = PLOT_CAPTIONS.get(key, key)
            out.append(f'<figure><img src="{data_url(png)}" alt="{escape_html(caption)}">'
                       f"<figcaption>{escape_html(caption)}</figcaption></figure>")
    if thumbnails:
        out.append("<h2>Example figures</h2>")
        order = {k: i for i, k in enumerate(taxonomy.PARTITION_KEYS)}
        keys = sorted(thumbnails, key=lambda k: (order.get(k, len(order)), list(thumbnails).index(k)))
        for key in keys:
            heading = _partition_heading(key)
            out.append(f"<h3>{escape_html(heading)}</h3>"
                       f'<figure><img src="{data_url(thumbnails[key])}" alt="{escape_html("thumbnails: " + heading)}">'
                       "</figure>")
    if manifest:
        rows = "".join(f"<tr><th>{escape_html(k)}</th><td>{escape_html(_manifest_value(v))}</td></tr>" for k, v in manifest.items())
        out += ["<h2>Manifest</h2>", f'<table class="manifest"><tbody>{rows}</tbody></table>']
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
