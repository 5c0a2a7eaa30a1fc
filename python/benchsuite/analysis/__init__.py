"""benchsuite.analysis: what is done with results files, on top of core.

compare (two runs, case by case), history (every run in SQLite, trends), report (Markdown/HTML
with plots), summary (a run's Markdown summary), targets (performance targets), baseline
(named baselines), followup (what a run does after it finishes: history, baseline, compare).
"""
