"""Profiles: the shipped YAML files, validation errors, overrides and BENCH_* env vars."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from benchsuite.core.config import (
    sweep_blocks,
    ENV_VAR_DOCS,
    ENV_VARS,
    TOP_LEVEL_KEYS,
    HarnessSettings,
    Profile,
    available_profiles,
    find_profile,
    load_profile,
    parse_override,
)
from benchsuite.core.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
QUICK = CONFIGS / "quick.yaml"
DEFAULT = CONFIGS / "default.yaml"


def write_profile(tmp_path: Path, body: dict | str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body if isinstance(body, str) else yaml.safe_dump(body), encoding="utf-8")
    return path


def minimal(**extra) -> dict:
    body = {"name": "mine", "harness": {"min_samples": 2},
            "sweeps": {"softmax": {"rows": [8], "cols": [16], "dtype": ["float32"]}}}
    body.update(extra)
    return body


def assert_names(err: pytest.ExceptionInfo, *parts: str) -> None:
    msg = str(err.value)
    for part in parts:
        assert part in msg, f"{part!r} not in {msg!r}"


# --------------------------------------------------------------------------- shipped profiles

def test_quick_profile_loads():
    p = load_profile(QUICK, env={})
    assert isinstance(p, Profile)
    assert p.name == "quick"
    assert p.path == str(QUICK)
    assert p.devices == ["cpu", "cuda"]
    h = p.harness
    assert (h.warmup, h.min_samples, h.max_samples) == (2, 5, 500)
    assert h.min_time == pytest.approx(0.05) and h.max_noise == pytest.approx(0.1)
    assert h.timeout == 5.0 and isinstance(h.timeout, float)
    assert h.mode == "hot" and h.launches_per_sample == 10
    assert h.min_sample_time == pytest.approx(1e-3)
    assert h.keep_samples is True and h.check is True and h.smoke is False
    assert {"fill", "randn", "add", "softmax", "matmul", "copy", "spin", "busy_wait", "layernorm",
            "rmsnorm", "sum", "gelu"} <= set(p.sweeps)
    assert sweep_blocks(p.sweeps["softmax"])[0] == {"rows": [256, 1024], "cols": [1000, 1024], "dtype": ["float32"]}
    # one shape of each CPU target (configs/targets.yaml), on the CPU only
    assert sweep_blocks(p.sweeps["softmax"])[1] == {"rows": [4096], "cols": [4096], "dtype": ["float32"],
                                                   "device": ["cpu"]}
    assert [(b["m"], b.get("device")) for b in sweep_blocks(p.sweeps["matmul"])] == [([256], None), ([1024], ["cpu"])]
    assert p.sweeps["spin"] == {"cycles": [1000000]}
    assert p.sweeps["attention"]["batch"] == [1] and p.sweeps["attention"]["seq_len"] == [256]
    assert not hasattr(p, "axes") and "axes" not in p.to_dict()
    assert p.overrides == {}


def test_default_profile_loads():
    p = load_profile(DEFAULT, env={})
    assert p.name == "default"
    h = p.harness
    assert (h.min_samples, h.max_samples, h.min_time, h.max_noise, h.timeout) == (
        10, 1000, 0.5, 0.02, 30.0)
    assert {"fill", "randn", "add", "softmax", "matmul", "copy", "spin", "layernorm", "rmsnorm",
            "sum", "gelu"} <= set(p.sweeps)
    softmax_f32 = sweep_blocks(p.sweeps["softmax"])[0]  # then a block of 16-bit points
    assert softmax_f32["rows"] == [1024, 4096] and softmax_f32["cols"] == [1024, 4096]
    # matmul lists explicit square points instead of a cartesian product
    assert [(b["m"], b["n"], b["k"]) for b in p.sweeps["matmul"]] == [
        ([s], [s], [s]) for s in (512, 1024, 4096, 4096, 8192)]
    # the 16-bit blocks (and the bf16/fp16 GEMM target shapes) are limited to CUDA
    assert all(b.get("device") == ["cuda"] for fam in ("add", "gelu", "sum", "softmax", "layernorm", "rmsnorm",
                                                       "matmul") for b in sweep_blocks(p.sweeps[fam])
               if set(b.get("dtype", [])) & {"float16", "bfloat16"})
    for fam in ("add", "fill", "randn", "copy"):
        assert all(b["n"] == [16777216] for b in sweep_blocks(p.sweeps[fam]))
    dtypes = {d for sweep in p.sweeps.values() for params in sweep_blocks(sweep)
              for d in params.get("dtype", [])}
    assert dtypes == {"float32", "float16", "bfloat16"}  # 16-bit sweeps of the memory-bound ops


def test_shipped_profiles_use_only_known_top_level_keys():
    for path in (QUICK, DEFAULT):
        raw = yaml.safe_load(path.read_text())
        assert set(raw) <= {"name", "description", "harness", "devices", "sweeps"}
        assert raw["name"] == path.stem


def test_profile_to_dict_is_json_ready():
    p = load_profile(QUICK, env={"BENCH_BATCH": "2"})
    d = json.loads(json.dumps(p.to_dict()))
    assert set(d) == {"name", "path", "description", "harness", "devices", "sweeps", "overrides"}
    assert d["name"] == "quick"
    assert d["harness"]["min_samples"] == 5
    assert d["sweeps"]["attention"]["batch"] == [2]
    assert d["overrides"] == {"BENCH_BATCH": [2]}
    assert d["sweeps"]["matmul"][0]["m"] == [256]


def test_load_profile_none_means_default(monkeypatch):
    monkeypatch.chdir(CONFIGS.parent)
    assert load_profile(None, env={}).name == "default"
    assert load_profile(env={}).name == "default"


# --------------------------------------------------------------------------- find_profile

def test_find_profile_by_name_from_cwd_configs(tmp_path, monkeypatch):
    (tmp_path / "configs").mkdir()
    write_profile(tmp_path / "configs", minimal(name="alpha"), "alpha.yaml")
    monkeypatch.chdir(tmp_path)
    assert find_profile("alpha") == (tmp_path / "configs" / "alpha.yaml").resolve()
    assert "alpha" in available_profiles()
    assert load_profile("alpha", env={}).name == "alpha"


def test_find_profile_by_name_in_repo(monkeypatch):
    monkeypatch.chdir(CONFIGS.parent)
    assert find_profile("quick") == QUICK.resolve()
    assert {"quick", "default"} <= set(available_profiles())


def test_find_profile_unknown_lists_available(tmp_path, monkeypatch):
    (tmp_path / "configs").mkdir()
    write_profile(tmp_path / "configs", minimal(), "alpha.yaml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        find_profile("nope")
    assert err.value.key == "profile" and err.value.value == "nope"
    assert_names(err, "profile", "'nope'", "not found", "available", "alpha")
    with pytest.raises(ConfigError) as err:
        load_profile("nope", env={})
    assert_names(err, "'nope'", "alpha")


def test_find_profile_missing_path(tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ConfigError) as err:
        find_profile(str(missing))
    assert_names(err, str(missing), "not found")


def test_find_profile_rejects_non_yaml_file(tmp_path):
    path = tmp_path / "profile.json"
    path.write_text("{}")
    with pytest.raises(ConfigError) as err:
        find_profile(str(path))
    assert_names(err, "profile.json", ".yaml")


def test_profile_written_to_tmp_loads_by_path(tmp_path):
    path = write_profile(tmp_path, minimal(devices=["cpu"]))
    for arg in (path, str(path)):
        p = load_profile(arg, env={})
        assert p.name == "mine"
        assert p.path == str(path.resolve())
        assert p.devices == ["cpu"]
        assert p.harness.min_samples == 2
        assert p.harness.max_samples == HarnessSettings().max_samples
        assert p.sweeps == {"softmax": {"rows": [8], "cols": [16], "dtype": ["float32"]}}


def test_missing_name_uses_file_stem_and_scalars_are_wrapped(tmp_path):
    path = write_profile(tmp_path, {"sweeps": {"matmul": {"m": 64, "dtype": "float16"},
                                               "spin": None}}, "stem.yml")
    p = load_profile(path, env={})
    assert p.name == "stem"
    assert p.sweeps["matmul"] == {"m": [64], "dtype": ["float16"]}
    assert p.sweeps["spin"] == {}


def test_exponent_floats_without_dot_are_numbers(tmp_path):
    path = write_profile(tmp_path, "harness: {min_sample_time: 1e-4, timeout: 2E1}\n")
    h = load_profile(path, env={}).harness
    assert h.min_sample_time == pytest.approx(1e-4)
    assert h.timeout == pytest.approx(20.0)


# --------------------------------------------------------------------------- file validation

def test_unknown_top_level_key_names_key_and_file(tmp_path):
    path = write_profile(tmp_path, minimal(sweep={"x": [1]}))
    with pytest.raises(ConfigError) as err:
        load_profile(path, env={})
    assert err.value.key == "sweep"
    assert_names(err, "sweep", str(path), "unknown top-level key")


def test_unknown_harness_key(tmp_path):
    path = write_profile(tmp_path, minimal(harness={"min_sample": 3}))
    with pytest.raises(ConfigError) as err:
        load_profile(path, env={})
    assert err.value.key == "harness.min_sample"
    assert_names(err, "harness.min_sample", "3", "unknown key", "min_samples", str(path))


@pytest.mark.parametrize("key, value, why", [
    ("min_samples", "5", "integer"),
    ("min_samples", True, "boolean"),
    ("warmup", 1.5, "integer"),
    ("timeout", "fast", "number"),
    ("max_noise", True, "number"),
    ("keep_samples", "yes please", "true or false"),
    ("check", 1, "true or false"),
    ("mode", 3, "cold, hot, graph"),
])
def test_wrong_type_names_key_and_value(tmp_path, key, value, why):
    path = write_profile(tmp_path, minimal(harness={key: value}))
    with pytest.raises(ConfigError) as err:
        load_profile(path, env={})
    assert err.value.key == f"harness.{key}"
    assert err.value.value == value
    assert_names(err, f"harness.{key}", repr(value), why)


@pytest.mark.parametrize("key", ["min_time", "timeout", "max_noise", "min_sample_time"])
@pytest.mark.parametrize("literal", [".nan", ".inf", "-.inf"])
def test_non_finite_rejected(tmp_path, key, literal):
    path = write_profile(tmp_path, f"harness:\n  {key}: {literal}\n")
    with pytest.raises(ConfigError) as err:
        load_profile(path, env={})
    assert err.value.key == f"harness.{key}"
    assert_names(err, f"harness.{key}", "finite" if "nan" in literal else "")
    assert isinstance(err.value.value, float) and not math.isfinite(err.value.value)


@pytest.mark.parametrize("key, value", [
    ("warmup", -1), ("min_samples", 0), ("max_samples", -5), ("min_time", -0.5),
    ("timeout", 0), ("timeout", -1.0), ("launches_per_sample", 0), ("min_sample_time", 0),
    ("min_sample_time", -1e-3), ("max_noise", 0), ("max_noise", 1.0), ("max_noise", -0.1),
])
def test_out_of_range_rejected(tmp_path, key, value):
    path = write_profile(tmp_path, minimal(harness={key: value}))
    with pytest.raises(ConfigError) as err:
        load_profile(path, env={})
    assert err.value.key == f"harness.{key}"
    assert_names(err, f"harness.{key}={value!r}")


def test_max_samples_below_min_samples(tmp_path):
    path = write_profile(tmp_path, minimal(harness={"min_samples": 50, "max_samples": 10}))
    with pytest.raises(ConfigError) as err:
        load_profile(path, env={})
    assert_names(err, "harness.max_samples=10", "min_samples", "50")


def test_mode_typo(tmp_path):
    path = write_profile(tmp_path, minimal(harness={"mode": "grpah"}))
    with pytest.raises(ConfigError) as err:
        load_profile(path, env={})
    assert_names(err, "harness.mode", "'grpah'", "cold", "hot", "graph")


def test_max_noise_null_disables_noise_rule(tmp_path):
    path = write_profile(tmp_path, "harness: {max_noise: null}\n")
    assert load_profile(path, env={}).harness.max_noise is None


@pytest.mark.parametrize("body, key", [
    (minimal(devices=["cpu", "tpu"]), "devices"),
    (minimal(devices=[]), "devices"),
    (minimal(devices=["cpu", "cpu"]), "devices"),
    (minimal(sweeps={"softmax": {"rows": []}}), "sweeps.softmax.rows"),
    (minimal(sweeps={"softmax": {"rows": [[1, 2]]}}), "sweeps.softmax.rows"),
    (minimal(sweeps={"softmax": {"rows": [{"a": 1}]}}), "sweeps.softmax.rows"),
    (minimal(sweeps={"softmax": {"rows": [8, 8]}}), "sweeps.softmax.rows"),
    (minimal(sweeps={"softmax": [8]}), "sweeps.softmax[0]"),  # a list must hold mappings
    (minimal(sweeps=[1]), "sweeps"),
    (minimal(name=""), "name"),
    (minimal(description=5), "description"),
    (minimal(harness=[1, 2]), "harness"),
])
def test_structural_errors_name_the_key(tmp_path, body, key):
    path = write_profile(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_profile(path, env={})
    assert err.value.key == key
    assert_names(err, f"{key}=", str(path))


AXES_WHY = ("not read by any case yet (the model suites will read batch, seq_len, embed, layers); "
            "remove it — BENCH_BATCH / BENCH_SEQ_LEN set the 'batch' / 'seq_len' sweep parameters")


@pytest.mark.parametrize("axes", [
    {"batch": [1, 8], "seq_len": [128], "embed": [256], "layers": [2]},  # the old shipped block
    {"batch": [4]}, {"depth": [2]}, {"batch": [0]}, {}, None, [1, 2],
])
def test_axes_key_rejected_with_one_clear_message(tmp_path, axes):
    path = write_profile(tmp_path, minimal(axes=axes))
    with pytest.raises(ConfigError) as err:
        load_profile(path, env={})
    assert err.value.key == "axes" and err.value.value == axes
    assert err.value.source == str(path.resolve())
    assert err.value.why == AXES_WHY
    assert str(err.value) == f"{path.resolve()}: axes={err.value.value!r}: {AXES_WHY}"


def test_axes_is_not_a_top_level_key():
    assert "axes" not in TOP_LEVEL_KEYS
    assert TOP_LEVEL_KEYS == ("name", "description", "harness", "devices", "sweeps")


def test_nan_in_sweep_rejected(tmp_path):
    path = write_profile(tmp_path, "sweeps:\n  softmax: {scale: [1.0, .nan]}\n")
    with pytest.raises(ConfigError) as err:
        load_profile(path, env={})
    assert_names(err, "sweeps.softmax.scale", "nan", "finite")


def test_duplicate_yaml_key_rejected(tmp_path):
    path = write_profile(tmp_path, "harness:\n  warmup: 1\n  warmup: 2\n")
    with pytest.raises(ConfigError) as err:
        load_profile(path, env={})
    assert_names(err, "warmup", "duplicate", str(path))


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "harness: [unclosed\n"])
def test_empty_non_mapping_or_broken_yaml(tmp_path, text):
    path = write_profile(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_profile(path, env={})
    assert str(path) in str(err.value)


# --------------------------------------------------------------------------- HarnessSettings

def test_harness_defaults_and_round_trip():
    h = HarnessSettings()
    assert h.to_dict() == {
        "warmup": 3, "min_samples": 10, "max_samples": 1000, "min_time": 0.5,
        "max_noise": 0.02, "timeout": 30.0, "mode": "hot", "launches_per_sample": 10,
        "min_sample_time": 1e-4, "keep_samples": True, "check": True, "smoke": False,
        "energy": False, "energy_min_updates": 10, "energy_min_window": 1.0, "energy_max_window": 30.0,
        "energy_warmup": 1.0, "throttle_clock_fraction": 0.8, "max_throttled_fraction": 0.1,
        "throttle_policy": "discard"}
    assert HarnessSettings.from_dict(h.to_dict()) == h
    assert h.validate() is h


def test_harness_constructor_validates():
    with pytest.raises(ConfigError) as err:
        HarnessSettings(mode="warm")
    assert_names(err, "harness.mode", "'warm'")
    h = HarnessSettings()
    h.warmup = -2
    with pytest.raises(ConfigError) as err:
        h.validate(source="cli")
    assert err.value.source == "cli"
    assert_names(err, "cli", "harness.warmup=-2")


def test_harness_from_dict_unknown_key_and_source():
    with pytest.raises(ConfigError) as err:
        HarnessSettings.from_dict({"iters": 4}, source="x.yaml")
    assert err.value.key == "harness.iters"
    assert_names(err, "x.yaml", "harness.iters=4", "unknown key; known:", "warmup", "smoke")
    with pytest.raises(ConfigError) as err:
        HarnessSettings.from_dict({"timeout": -1}, source="x.yaml")
    assert err.value.source == "x.yaml"


def test_harness_replace_is_validated_copy():
    h = HarnessSettings()
    h2 = h.replace(min_samples=20, mode="graph")
    assert (h2.min_samples, h2.mode) == (20, "graph")
    assert (h.min_samples, h.mode) == (10, "hot")
    with pytest.raises(ConfigError) as err:
        h.replace(min_samples=5000)
    assert_names(err, "harness.max_samples", "5000")
    with pytest.raises(ConfigError) as err:
        h.replace(bogus=1)
    assert_names(err, "harness.bogus")


def test_smoke_settings():
    s = HarnessSettings.smoke_settings()
    assert s.smoke is True and s.check is True
    assert (s.warmup, s.min_samples, s.max_samples, s.launches_per_sample) == (0, 1, 1, 1)
    assert s.min_time == 0 and s.max_noise is None and s.min_sample_time == 0
    assert s.timeout == 30
    # min_sample_time 0 is allowed only for smoke runs
    with pytest.raises(ConfigError) as err:
        s.replace(smoke=False)
    assert_names(err, "harness.min_sample_time=0.0")


# --------------------------------------------------------------------------- overrides dict

def test_overrides_dict_applied_and_recorded():
    # (families that are one mapping in quick.yaml; softmax and matmul are lists of blocks)
    p = load_profile(QUICK, env={}, overrides={
        "harness.min_samples": 7, "harness.mode": "graph", "harness.max_noise": None,
        "sweeps.log_softmax.rows": [64], "sweeps.contiguous.rows": 128,
        "devices": ["cpu"], "sweeps.layernorm": {"rows": [32]}})
    assert p.harness.min_samples == 7 and p.harness.mode == "graph"
    assert p.harness.max_noise is None
    assert p.sweeps["log_softmax"]["rows"] == [64]
    assert p.sweeps["log_softmax"]["cols"] == [1024]  # untouched
    assert p.sweeps["contiguous"]["rows"] == [128]  # scalar wrapped
    assert p.sweeps["layernorm"] == {"rows": [32]}
    assert p.devices == ["cpu"]
    assert p.overrides == {
        "harness.min_samples": 7, "harness.mode": "graph", "harness.max_noise": None,
        "sweeps.log_softmax.rows": [64], "sweeps.contiguous.rows": [128],
        "devices": ["cpu"], "sweeps.layernorm": {"rows": [32]}}
    # the file itself is unchanged on the next load
    assert load_profile(QUICK, env={}).harness.min_samples == 5


@pytest.mark.parametrize("key, value, expect", [
    ("harness.min_samples", -3, "harness.min_samples=-3"),
    ("harness.nope", 1, "harness.nope=1"),
    ("sweeps.log_softmax.rows", [], "sweeps.log_softmax.rows=[]"),
    ("sweeps.nofamily.rows", [1], "sweeps.nofamily.rows=[1]"),
    ("axes.depth", [1], "axes.depth=[1]"),
    ("bogus", 1, "bogus=1"),
    ("harness.mode", "fast", "harness.mode='fast'"),
])
def test_bad_overrides_rejected(key, value, expect):
    with pytest.raises(ConfigError) as err:
        load_profile(QUICK, env={}, overrides={key: value})
    assert_names(err, expect)


@pytest.mark.parametrize("key, value", [
    ("axes.embed", [512, 1024]), ("axes.batch", [2]), ("axes.depth", [1]), ("axes", {"batch": [2]}),
])
def test_axes_overrides_rejected_with_one_clear_message(key, value):
    with pytest.raises(ConfigError) as err:
        load_profile(QUICK, env={}, overrides={key: value})
    assert err.value.key == key and err.value.source == "overrides"
    assert str(err.value) == f"overrides: {key}={value!r}: {AXES_WHY}"
    # `--set axes.batch=[2]` on the command line takes the same path
    k, v = parse_override(f"{key}={value}")
    with pytest.raises(ConfigError, match="not read by any case yet"):
        load_profile(QUICK, env={}, overrides={k: v})


def test_unknown_override_key_lists_valid_forms_without_axes():
    with pytest.raises(ConfigError) as err:
        load_profile(QUICK, env={}, overrides={"bogus": 1})
    assert "sweeps.<family>.<param>" in str(err.value) and "axes" not in str(err.value)


def test_parse_override():
    assert parse_override("harness.min_samples=5") == ("harness.min_samples", 5)
    assert parse_override("sweeps.softmax.rows=[64, 128]") == ("sweeps.softmax.rows", [64, 128])
    assert parse_override("harness.max_noise=null") == ("harness.max_noise", None)
    assert parse_override("harness.min_sample_time=1e-3") == ("harness.min_sample_time", 1e-3)
    with pytest.raises(ConfigError):
        parse_override("no-equals-sign")


# --------------------------------------------------------------------------- env vars

def test_env_var_mapping_documented():
    assert ENV_VARS == {
        "BENCH_ITERS": "harness.min_samples", "BENCH_TIME": "harness.min_time",
        "BENCH_WARMUP": "harness.warmup", "BENCH_BATCH": "sweeps.*.batch",
        "BENCH_SEQ_LEN": "sweeps.*.seq_len", "BENCH_ENERGY": "harness.energy"}
    assert set(ENV_VAR_DOCS) == set(ENV_VARS)
    assert ENV_VAR_DOCS["BENCH_BATCH"] == (
        "batch sizes, comma-separated positive integers: every sweep parameter named 'batch'")
    assert ENV_VAR_DOCS["BENCH_SEQ_LEN"] == (
        "sequence lengths, comma-separated positive integers: every sweep parameter named 'seq_len'")


def test_env_iters():
    p = load_profile(QUICK, env={"BENCH_ITERS": "20"})
    assert p.harness.min_samples == 20 and p.harness.max_samples == 500
    assert p.overrides == {"BENCH_ITERS": 20}


def test_env_iters_raises_max_samples():
    p = load_profile(QUICK, env={"BENCH_ITERS": "800"})
    assert p.harness.min_samples == 800 and p.harness.max_samples == 800


def test_env_time_and_warmup():
    p = load_profile(QUICK, env={"BENCH_TIME": "1.5", "BENCH_WARMUP": "0"})
    assert p.harness.min_time == 1.5 and p.harness.warmup == 0
    assert p.overrides == {"BENCH_TIME": 1.5, "BENCH_WARMUP": 0}


@pytest.mark.parametrize("var, param, other", [("BENCH_BATCH", "batch", "seq_len"),
                                               ("BENCH_SEQ_LEN", "seq_len", "batch")])
def test_env_batch_and_seq_len_set_every_sweep_param_of_that_name(tmp_path, var, param, other):
    sweeps = {"softmax": {"rows": [8]},
              "attention": {"batch": [1], "seq_len": [64], "dtype": ["float32"]},
              "selective_scan": [{"batch": [2], "seq_len": [16]}, {"dim": [8]}],  # only block 0 has both
              "rope": {param: [4]}}
    p = load_profile(write_profile(tmp_path, {"sweeps": sweeps}), env={var: " 1, 8,32 "})
    assert p.sweeps["attention"][param] == [1, 8, 32]
    assert p.sweeps["attention"]["dtype"] == ["float32"]
    assert p.sweeps["attention"][other] == sweeps["attention"][other]  # the other one untouched
    assert p.sweeps["selective_scan"][0][param] == [1, 8, 32]
    assert p.sweeps["selective_scan"][1] == {"dim": [8]}  # a block without the param gets none
    assert p.sweeps["rope"] == {param: [1, 8, 32]}
    assert p.sweeps["softmax"] == {"rows": [8]}
    assert p.overrides == {var: [1, 8, 32]}


def test_env_batch_and_seq_len_on_the_shipped_profile():
    p = load_profile(QUICK, env={"BENCH_BATCH": "4", "BENCH_SEQ_LEN": "64,128"})
    for family in ("attention", "attention_backward", "selective_scan", "rope", "rope_backward"):
        assert p.sweeps[family]["batch"] == [4] and p.sweeps[family]["seq_len"] == [64, 128]
    assert p.sweeps["transpose"]["batch"] == [4]
    assert p.overrides == {"BENCH_BATCH": [4], "BENCH_SEQ_LEN": [64, 128]}


@pytest.mark.parametrize("var", ["BENCH_EMBED", "BENCH_LAYERS", "BENCH_DEPTH"])
@pytest.mark.parametrize("value", ["512", "two"])
def test_env_embed_and_layers_are_not_read_like_any_unknown_bench_var(var, value):
    # BENCH_EMBED / BENCH_LAYERS went with `axes`: like any BENCH_* name the harness does not
    # know, they change nothing and are not recorded (and a bad value is no error).
    assert var not in ENV_VARS
    p = load_profile(QUICK, env={var: value})
    plain = load_profile(QUICK, env={})
    assert p.overrides == {}
    assert p.to_dict() == plain.to_dict()


def test_env_wins_over_explicit_overrides():
    p = load_profile(QUICK, env={"BENCH_ITERS": "9", "BENCH_BATCH": "3"},
                     overrides={"harness.min_samples": 4, "sweeps.attention.batch": [2]})
    assert p.harness.min_samples == 9
    assert p.sweeps["attention"]["batch"] == [3]
    assert p.overrides["BENCH_ITERS"] == 9 and p.overrides["harness.min_samples"] == 4
    assert p.overrides["sweeps.attention.batch"] == [2] and p.overrides["BENCH_BATCH"] == [3]


def test_empty_env_vars_ignored():
    env = {var: "" for var in ENV_VARS}
    p = load_profile(QUICK, env=env)
    assert p.overrides == {}
    assert p.harness == load_profile(QUICK, env={}).harness


def test_env_defaults_to_os_environ(monkeypatch):
    monkeypatch.setenv("BENCH_WARMUP", "7")
    assert load_profile(QUICK).harness.warmup == 7
    monkeypatch.delenv("BENCH_WARMUP")
    assert load_profile(QUICK).harness.warmup == 2


@pytest.mark.parametrize("var, value", [
    ("BENCH_ITERS", "abc"), ("BENCH_ITERS", "0"), ("BENCH_ITERS", "-3"), ("BENCH_ITERS", "2.5"),
    ("BENCH_TIME", "soon"), ("BENCH_TIME", "-1"), ("BENCH_TIME", "nan"), ("BENCH_TIME", "inf"),
    ("BENCH_WARMUP", "-1"), ("BENCH_WARMUP", "x"),
    ("BENCH_BATCH", "1,,8"), ("BENCH_BATCH", "0"), ("BENCH_BATCH", "two"), ("BENCH_BATCH", "2,2"),
    ("BENCH_SEQ_LEN", "128;256"), ("BENCH_SEQ_LEN", "1.5"),
])
def test_bad_env_values_rejected(var, value):
    with pytest.raises(ConfigError) as err:
        load_profile(QUICK, env={var: value})
    assert err.value.key == var
    assert_names(err, f"{var}={value!r}")


def test_bad_env_message_shape():
    with pytest.raises(ConfigError) as err:
        load_profile(QUICK, env={"BENCH_ITERS": "abc"})
    assert str(err.value) == "BENCH_ITERS='abc': expected a positive integer"


def test_sweep_as_list_of_points(tmp_path):
    path = tmp_path / "points.yaml"
    path.write_text("sweeps:\n  matmul:\n    - {m: 64, n: 64, k: 64}\n    - {m: [128, 256], n: 32, k: 16}\n")
    p = load_profile(path, env={"BENCH_BATCH": "4"})
    assert p.sweeps["matmul"] == [{"m": [64], "n": [64], "k": [64]},
                                  {"m": [128, 256], "n": [32], "k": [16]}]
    p = load_profile(path, env={}, overrides={"sweeps.matmul.k": [8]})
    assert all(block["k"] == [8] for block in p.sweeps["matmul"])
    with pytest.raises(ConfigError, match=r"sweeps.matmul\[1\]"):
        path.write_text("sweeps:\n  matmul:\n    - {m: 64}\n    - 3\n")
        load_profile(path, env={})


def test_sweep_block_device_limits_the_block(tmp_path):
    import benchsuite as bs
    from benchsuite.harness.runner import expand_cases
    path = tmp_path / "p.yaml"
    path.write_text("devices: [cpu, cuda]\nsweeps:\n  softmax:\n"
                    "    - {rows: [8], cols: [8], dtype: [float32]}\n"
                    "    - {rows: [16], cols: [16], dtype: [float32], device: cuda}\n")
    specs = expand_cases(bs.load_profile(str(path)))
    rows_by_device = {(s.device, s.params["rows"]) for s in specs}
    assert ("cpu", 8) in rows_by_device and ("cuda", 8) in rows_by_device
    assert ("cuda", 16) in rows_by_device and ("cpu", 16) not in rows_by_device
    path.write_text("sweeps:\n  softmax:\n    - {rows: [8], device: tpu}\n")
    with pytest.raises(bs.ConfigError, match="device"):
        expand_cases(bs.load_profile(str(path)))
