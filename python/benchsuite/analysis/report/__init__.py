"""Reports over one or many runs: a summary, a table per group, the targets table and each
run's environment, written as JSON, Markdown or one self-contained HTML page whose plots
(matplotlib, embedded as PNG) show latency against each case's swept parameter, throughput
as a fraction of the roofline, speedup over the peers and, given a history, each case's trend.

One module per job, each importing only those before it:

- `model`: collecting runs from files and folders, the report model (`Report`, `build_report`)
  and the table cells the renderings share;
- `plots`: the plots (`Plot`, `make_plots`);
- `markdown`: the Markdown rendering (`render_markdown`);
- `html`: the HTML page (`render_html`) and `write_report` (JSON, Markdown, HTML).
"""
from __future__ import annotations

from .html import render_html, write_report
from .markdown import render_markdown
from .model import Report, build_report, collect_runs
from .plots import Plot, make_plots

__all__ = ["collect_runs", "Report", "build_report", "render_markdown", "render_html", "make_plots", "write_report",
           "Plot"]
