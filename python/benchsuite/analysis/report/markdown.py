"""The report as Markdown: the summary, a table per group (each long or repeated reason once,
as a note above its table), the targets table, each case's trend and each run's environment.
"""
from __future__ import annotations

from .model import MODEL_COLUMNS, Report, model_cell, run_environment, significant_text, status_cells, table_cell, table_columns, target_cells

__all__ = ["render_markdown"]


def render_markdown(report: Report) -> str:
    s = report.summary()
    md = ["# benchsuite report", "",
          f"{s['runs']} run(s), {s['cases']} results: " + ", ".join(f"{v} {k}" for k, v in s["statuses"].items())
          + f". Groups: {', '.join(s['groups']) or '-'}; backends: {', '.join(s['backends']) or '-'}; "
          f"devices: {', '.join(s['devices']) or '-'}; profiles: {', '.join(s['profiles'])}; "
          f"machines (fingerprints): {', '.join(s['fingerprints'])}"
          + (" (the runs come from different machines or builds: compare their figures with care)."
             if len(s["fingerprints"]) > 1 else "."), ""]
    md += _models_section(report)
    cols = table_columns(report)
    short = report.short_ids()
    for group, rows in report.groups().items():
        row_statuses, notes = status_cells(rows)
        md += [f"## {group}", ""]
        if notes:
            md += [f"- {n.line()}" for n in notes] + [""]
        md += ["| " + " | ".join(h for _, h in cols) + " |",
               "|" + "|".join("---" if k in ("name", "status", "run_id") else "---:" for k, _ in cols) + "|"]
        for row, (status_text, _) in zip(rows, row_statuses):
            cells = [status_text if k == "status" else table_cell(row, k, short)[0] for k, _ in cols]
            md.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        md.append("")
    if report.targets:
        md += [f"## Targets ({report.targets_source or 'targets'})", "",
               "| target | scope | bound | current | result | best record |", "|---|---|---|---:|---|---|"]
        md += ["| " + " | ".join(c.replace("|", "\\|") for c in target_cells(t, report.run_tag(t.run_id or "")))
               + " |" for t in report.targets]
        md.append("")
    if report.trends:
        md += ["## Trends", ""]
        for name, trend in report.trends.items():
            values = [p["value"] for p in trend["points"]]
            cps = ", ".join(trend["points"][i]["run_id"] for i in trend["change_points"]) or "none"
            md.append(f"- `{name}` {trend['metric']}: {len(values)} runs, first {significant_text(values[0])}, "
                      f"last {significant_text(values[-1])}; change points at {cps}")
        md.append("")
    md += ["## Environments", ""]
    for env in (run_environment(r) for r in report.runs):
        md.append(f"- `{env['run_id']}` ({env['timestamp_utc']}, {env['suite']}, profile {env['profile']}, "
                  f"{env['status']}): {env['host']}, {env['os']}, {env['cpu']}; "
                  f"GPUs: {'; '.join(env['gpus']) or 'none'}; {env['build']}; Python {env['python']}; "
                  f"git {env['git'] or '-'}; fingerprint `{env['fingerprint']}`"
                  + (f"; warnings: {'; '.join(env['warnings'])}" if env["warnings"] else ""))
    return "\n".join(md) + "\n"


def _models_section(report: Report) -> list[str]:
    tables = report.model_tables()
    if not tables:
        return []
    md = ["## Models", "",
          "Per family; `full model ms (extrapolated)` is computed from the per-layer time when fewer layers "
          "were built than the model has, never measured. `vs peers`: peer time / ours (above 1: ours is "
          "faster).", ""]
    for family, rows in tables.items():
        md += [f"### {family}", "", "| " + " | ".join(h for _, h in MODEL_COLUMNS) + " |",
               "|" + "|".join("---" if k in ("name", "status", "layers", "shape", "peers") else "---:"
                              for k, _ in MODEL_COLUMNS) + "|"]
        md += ["| " + " | ".join(model_cell(r, k)[0].replace("|", "\\|") for k, _ in MODEL_COLUMNS) + " |"
               for r in rows]
        md.append("")
    return md
