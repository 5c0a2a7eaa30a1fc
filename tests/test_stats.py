"""Statistics against NumPy on known and random samples."""
from __future__ import annotations

import math

import numpy as np
import pytest

import benchsuite as bs
from benchsuite import _core


def expected_median_ci(samples, level=0.95):
    """The documented rule: ranks floor(n/2 - z sqrt(n)/2) and ceil(n/2 + z sqrt(n)/2) + 1."""
    from statistics import NormalDist
    s = np.sort(samples)
    n = len(s)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    lo = min(max(math.floor(n / 2 - z * math.sqrt(n) / 2), 1), n)
    hi = min(max(math.ceil(n / 2 + z * math.sqrt(n) / 2) + 1, 1), n)
    return s[lo - 1], s[hi - 1]


@pytest.mark.parametrize("n", [1, 2, 5, 10, 101, 1000])
def test_stats_match_numpy(rng, n):
    samples = rng.lognormal(mean=-7, sigma=0.3, size=n)
    s = _core.compute_stats(samples.tolist())
    assert s["n"] == n
    assert s["mean"] == pytest.approx(np.mean(samples), rel=1e-12)
    assert s["stddev"] == pytest.approx(np.std(samples, ddof=1) if n > 1 else 0.0, rel=1e-9, abs=1e-18)
    assert s["min"] == samples.min() and s["max"] == samples.max()
    for key, q in [("median", 50), ("p5", 5), ("p95", 95), ("p99", 99), ("q1", 25), ("q3", 75)]:
        assert s[key] == pytest.approx(np.percentile(samples, q), rel=1e-12), key
    assert s["iqr"] == pytest.approx(s["q3"] - s["q1"], rel=1e-12)
    assert s["cv"] == pytest.approx(s["stddev"] / s["mean"], rel=1e-12)
    lo, hi = expected_median_ci(samples)
    assert (s["ci_low"], s["ci_high"]) == (lo, hi)
    assert s["ci_low"] <= s["median"] <= s["ci_high"]
    assert s["noise"] == pytest.approx((hi - lo) / 2 / s["median"], rel=1e-12)


def test_known_samples_and_outliers():
    samples = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 100.0]
    s = _core.compute_stats(samples)
    assert s["median"] == 5.5
    assert s["q1"] == 3.25 and s["q3"] == 7.75
    assert s["outliers_high"] == 1 and s["outliers_low"] == 0
    assert bs.Stats.from_dict(s).median == 5.5


def test_ci_narrows_with_more_samples(rng):
    small = _core.compute_stats(rng.normal(1.0, 0.05, 20).tolist())
    large = _core.compute_stats(rng.normal(1.0, 0.05, 2000).tolist())
    assert large["noise"] < small["noise"]


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [float("inf")]])
def test_bad_samples_rejected(bad):
    with pytest.raises(bs.InvalidArgumentError, match="samples"):
        _core.compute_stats(bad)


def test_bad_ci_level():
    with pytest.raises(bs.InvalidArgumentError, match="ci_level=1.5"):
        _core.compute_stats([1.0, 2.0], 1.5)
