"""The report as one self-contained HTML page (no outside resources): the summary, the targets
table, the plots embedded as PNG, a sortable table per group (escaped; case names wrap only
between parameters) and each run's environment; and write_report, which writes the report
as JSON, Markdown and/or that page.
"""
from __future__ import annotations

import base64
import os
from html import escape
from pathlib import Path
from typing import Any

from ...core.results import write_json_atomic, write_text_atomic
from .markdown import render_markdown
from .model import (MODEL_COLUMNS, Report, model_cell, run_environment, status_cells, table_cell, table_columns,
                    target_cells)
from .plots import Plot, make_plots

__all__ = ["render_html", "write_report"]


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.8rem;margin:.5rem 0;width:100%}
th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:right;vertical-align:top}
th{background:#f3f3f3;cursor:pointer;user-select:none;white-space:nowrap}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td.text,th.text{text-align:left}
td.name{font-family:ui-monospace,monospace;overflow-wrap:normal;word-break:normal;hyphens:none;min-width:14ch}
td.wrap{overflow-wrap:normal;word-break:normal}td.status{min-width:7ch}td.status[title]{cursor:help;text-decoration:underline dotted #aaa}
.table-wrap{overflow-x:auto}
tr.status-failed td{background:#fff0f0}tr.status-invalid td{background:#fff8e6}tr.status-skipped td{color:#888}
.pass{color:#2b8a3e;font-weight:600}.fail{color:#c92a2a;font-weight:600}.not_measured{color:#888}
ul.notes{font-size:.8rem;color:#555;margin:.3rem 0}ul.notes code{font-size:.75rem}
figure.plot{margin:1rem 0;border:1px solid #eee;padding:.5rem}figure.plot img{max-width:100%;height:auto;display:block}
figcaption{font-size:.8rem;color:#555}.summary li{margin:.15rem 0}
"""

_JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var asc = !th.classList.contains('sorted-asc');
      table.querySelectorAll('th').forEach(function (h) { h.classList.remove('sorted-asc', 'sorted-desc'); });
      th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-sort'), y = b.cells[col].getAttribute('data-sort');
        var nx = parseFloat(x), ny = parseFloat(y);
        var cmp;
        if (x === '' && y === '') cmp = 0;
        else if (x === '') return 1;            // missing values last, whatever the order
        else if (y === '') return -1;
        else if (!isNaN(nx) && !isNaN(ny)) cmp = nx - ny;
        else cmp = x.localeCompare(y);
        return asc ? cmp : -cmp;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def _e(text: Any) -> str:
    return escape(str(text), quote=True)


def _sort_attr(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    return _e(repr(value) if isinstance(value, float) else value)


def _name_html(text: str) -> str:
    """A case name that may wrap only after `[` or a comma (a <wbr> there), never inside a
    token such as `seq_len=256` (the name column's CSS forbids breaking anywhere else)."""
    return "<wbr>".join(_e(part) for part in text.replace("[", "[\0").replace(",", ",\0").split("\0"))


def _table(headers: list[tuple[str, bool]], rows: list[list[tuple[Any, ...]]], row_classes: list[str],
           table_id: str) -> str:
    """A sortable table; each cell is (text, sort value, css class[, tooltip]). Cells of class
    `name` (case names) or `wrap` (parameter lists) may wrap only after `[` or a comma."""
    out = [f'<div class="table-wrap"><table class="sortable" id="{_e(table_id)}"><thead><tr>']
    out += [f'<th class="{"text" if is_text else "num"}">{_e(h)}</th>' for h, is_text in headers]
    out.append("</tr></thead><tbody>")
    for cells, cls in zip(rows, row_classes):
        tds = []
        for text, sort, css, *rest in cells:
            title = f' title="{_e(rest[0])}"' if rest and rest[0] else ""
            content = _name_html(str(text)) if {"name", "wrap"} & set(css.split()) else _e(text)
            tds.append(f'<td class="{_e(css)}" data-sort="{_sort_attr(sort)}"{title}>{content}</td>')
        out.append(f'<tr class="{_e(cls)}">' + "".join(tds) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def render_html(report: Report, plots: list[Plot] | None = None) -> str:
    """The page; `plots` default to make_plots(report) (an empty list: a page without plots)."""
    plots = make_plots(report) if plots is None else plots
    s = report.summary()
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>benchsuite report ({s['runs']} runs, {s['cases']} results)</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>benchsuite report</h1><p>Generated {_e(report.generated_utc)}.</p>",
             "<h2 id='summary'>Summary</h2><ul class='summary'>",
             f"<li>{s['runs']} run(s): "
             + _e(", ".join(f"{rid} (@{report.short_ids()[rid]})" if s["runs"] > 1 else rid for rid in s["run_ids"]))
             + "</li>",
             "<li>results by status: " + ", ".join(f"{v} {_e(k)}" for k, v in s["statuses"].items()) + "</li>",
             f"<li>groups: {_e(', '.join(s['groups']) or '-')}; backends: {_e(', '.join(s['backends']) or '-')}; "
             f"devices: {_e(', '.join(s['devices']) or '-')}</li>",
             f"<li>profiles: {_e(', '.join(s['profiles']))}; suites: {_e(', '.join(s['suites']))}</li>",
             f"<li>machines (fingerprints): {_e(', '.join(s['fingerprints']))}"
             + (" <strong>(different machines or builds)</strong>" if len(s["fingerprints"]) > 1 else "")
             + "</li></ul>"]
    if report.targets:
        headers = [("target", True), ("scope", True), ("bound", True), ("current", False), ("result", True),
                   ("best record", True)]
        rows, classes = [], []
        for t in report.targets:
            cells = target_cells(t, report.run_tag(t.run_id or ""))
            rows.append([(cells[0], cells[0], "text"), (cells[1], cells[1], "text wrap"), (cells[2], cells[2], "text"),
                         (cells[3], t.current, "num"), (cells[4], t.status, f"text result {t.status}"),
                         (cells[5], cells[5], "text name")])
            classes.append(f"target-{t.status}")
        parts.append(f"<h2 id='targets'>Targets</h2><p>From {_e(report.targets_source or '-')}: "
                     + ", ".join(f"{sum(t.status == st for t in report.targets)} {st.replace('_', ' ')}"
                                 for st in ("pass", "fail", "not_measured")) + ".</p>")
        parts.append(_table(headers, rows, classes, "targets-table"))
    tables = report.model_tables()
    if tables:
        parts.append("<h2 id='models'>Models</h2><p>Per family. <em>full model ms (extrapolated)</em> is computed "
                     "from the per-layer time when fewer layers were built than the model has, never measured; "
                     "<em>vs peers</em>: peer time / ours (above 1: ours is faster).</p>")
        for fi, (family, mrows) in enumerate(tables.items()):
            headers = [(h, k in ("name", "status", "layers", "shape", "peers")) for k, h in MODEL_COLUMNS]
            cells = [[(*model_cell(r, k), "text name" if k == "name" else
                       "text" if k in ("status", "layers", "shape", "peers") else "num") for k, _ in MODEL_COLUMNS]
                     for r in mrows]
            parts.append(f"<h3>{_e(family)}</h3>")
            parts.append(_table(headers, cells, [f"status-{r['status']}" for r in mrows], f"models-table-{fi}"))
    if plots:
        parts.append("<h2 id='plots'>Plots</h2>")
        for p in plots:
            data = base64.b64encode(p.png).decode("ascii")
            parts.append(f"<figure class='plot' id='plot-{_e(p.id)}'><img class='plot-image' alt='{_e(p.title)}' "
                         f"src='data:image/png;base64,{data}'><figcaption>{_e(p.caption)}</figcaption></figure>")
    cols = table_columns(report)
    short = report.short_ids()
    for gi, (group, rows_) in enumerate(report.groups().items()):
        parts.append(f"<h2 id='group-{gi}'>Group: {_e(group)}</h2>")
        row_statuses, notes = status_cells(rows_)
        if notes:   # each long or repeated reason once, not on every row
            parts.append(f"<ul class='notes' id='group-notes-{gi}'>" + "".join(
                f"<li><strong>{_e(n.status)} ({_e(n.code)})</strong>, "
                + (f"{len(n.names)} rows" if len(n.names) > 1 else f"<code>{_e(n.names[0])}</code>")
                + f": {_e(n.text)}</li>" for n in notes) + "</ul>")
        headers = [(h, k in ("name", "status", "run_id")) for k, h in cols]
        rows, classes = [], []
        for row, (status_text, tooltip) in zip(rows_, row_statuses):
            cells = []
            for k, _ in cols:
                if k == "status":
                    cells.append((status_text, row["status"], "text status", tooltip))
                    continue
                text, sort = table_cell(row, k, short)
                css = "text name" if k == "name" else "text" if k == "run_id" else "num"
                cells.append((text, sort, css))
            rows.append(cells)
            classes.append(f"status-{row['status']}")
        parts.append(_table(headers, rows, classes, f"group-table-{gi}"))
    parts.append("<h2 id='environments'>Environments</h2>")
    env_headers = [("run", True), ("time (UTC)", True), ("host", True), ("CPU", True), ("GPUs", True),
                   ("build", True), ("git", True), ("fingerprint", True), ("warnings", True)]
    env_rows = []
    for env in (run_environment(r) for r in report.runs):
        values = [env["run_id"], env["timestamp_utc"], f"{env['host']} ({env['os']})", env["cpu"],
                  "; ".join(env["gpus"]) or "none", f"{env['build']}, Python {env['python']}", env["git"] or "-",
                  env["fingerprint"], "; ".join(env["warnings"]) or "-"]
        env_rows.append([(v, v, "text") for v in values])
    parts.append(_table(env_headers, env_rows, ["env"] * len(env_rows), "environments-table"))
    parts.append(f"<script>{_JS}</script></body></html>")
    return "".join(parts)


def write_report(report: Report, json_path: str | os.PathLike | None = None, md_path: str | os.PathLike | None = None,
                 html_path: str | os.PathLike | None = None) -> list[Path]:
    """Write the report model as JSON, Markdown and/or the HTML page, each atomically, to the
    paths given; the paths written, in that order."""
    written = []
    if json_path:
        write_json_atomic(json_path, report.to_dict())
        written.append(Path(json_path))
    if md_path:
        write_text_atomic(md_path, render_markdown(report))
        written.append(Path(md_path))
    if html_path:
        write_text_atomic(html_path, render_html(report))
        written.append(Path(html_path))
    return written
