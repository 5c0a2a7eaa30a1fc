"""benchsuite.harness: measuring, on top of core and the native harness.

measure (one case or callable into a Result), runner (profile sweeps into a results file),
profiler (a block of code), energy (energy records and the estimate model), memory (the caching pool).
"""
