"""benchsuite.core: what everything else builds on, knowing only the native `_core`.

config (profiles), settings (HarnessSettings), values (shared value checks), results (the run
document, its schema in schema/, loading and the incremental writer), environment (the machine
fingerprint), errors (the exception family the native core raises too), fields (metric lookup),
interop (pytest-benchmark files).
"""
