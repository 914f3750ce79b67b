"""Settings: parsing, precedence (defaults < file < env < configure), and the JVM freeze."""

from __future__ import annotations

import json

import pytest

from bfbridge import config
from bfbridge.config import Settings, parse_size


def test_parse_size_accepts_jvm_spellings():
    assert parse_size("3g") == 3 << 30
    assert parse_size("768m") == 768 << 20
    assert parse_size("768MiB") == 768 << 20
    assert parse_size("1.5g") == int(1.5 * (1 << 30))
    assert parse_size(1 << 30) == 1 << 30
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")
    with pytest.raises(ValueError, match="below 16 MiB"):
        parse_size("1m")


def test_default_heap_is_not_the_256m_trap():
    heap = Settings().max_heap_bytes
    assert heap >= 1 << 30
    assert heap <= 31 << 30


def test_settings_normalise_values():
    settings = Settings(
        max_heap="3072m",
        jvm_args="-Xss4m -Dfoo=bar",
        jars="a.jar:b.jar",
        offline="yes",
        log_level="info",
        maven_repositories="local=file:///tmp/repo https://example.invalid/maven",
    )
    assert settings.max_heap == "3g"
    assert settings.jvm_args == ("-Xss4m", "-Dfoo=bar")
    assert settings.jars[-1].endswith("b.jar") and len(settings.jars) == 2
    assert settings.offline is True
    assert settings.log_level == "INFO"
    assert settings.maven_repositories == {"local": "file:///tmp/repo", "repo1": "https://example.invalid/maven"}
    with pytest.raises(ValueError, match="log_level"):
        Settings(log_level="loud")
    with pytest.raises(ValueError, match="max_workers"):
        Settings(max_workers=0)


def test_precedence_file_env_configure(python, tmp_path):
    config_file = tmp_path / "config.toml"
    config_file.write_text('max_heap = "2g"\nlog_level = "ERROR"\nmemoize_ms = 7\n')
    result = python(
        """
        import json, bfbridge
        from bfbridge import config
        before = config.resolve()
        after = bfbridge.configure(max_heap="5g")
        print(json.dumps([before.max_heap, before.log_level, before.memoize_ms, after.max_heap]))
        """,
        env={"BFBRIDGE_CONFIG": str(config_file), "BFBRIDGE_LOG_LEVEL": "INFO"},
    )
    # file gives 2g/ERROR/7, the environment overrides the level, configure() overrides the heap
    assert json.loads(result.stdout) == ["2g", "INFO", 7, "5g"]


def test_unknown_setting_is_a_clear_error(python, tmp_path):
    with pytest.raises(TypeError, match="unknown setting"):
        config.configure(heap="1g")
    bad = tmp_path / "config.toml"
    bad.write_text('heap = "1g"\n')
    result = python("import bfbridge; bfbridge.configure()", env={"BFBRIDGE_CONFIG": str(bad)}, check=False)
    assert result.returncode != 0 and "unknown setting" in result.stderr


def test_env_heap_reaches_the_jvm(python):
    result = python(
        "import bfbridge, json; print(json.dumps(bfbridge.jvm_info()))",
        env={"BFBRIDGE_MAX_HEAP": "3g"},
    )
    info = json.loads(result.stdout)
    assert info["max_heap"] == "3g"
    # Runtime.maxMemory() reports the heap minus a survivor space: within 5% of 3 GiB
    assert 0.95 * (3 << 30) <= info["max_heap_bytes"] <= 3 << 30
    assert info["bioformats_version"] == "7.3.1"
    assert any(p.endswith(".jar") for p in info["classpath"])


def test_configure_after_start_names_the_settings_in_force(python):
    result = python(
        """
        import bfbridge
        bfbridge.configure(max_heap="1g")
        bfbridge.jvm_info()                      # starts the JVM
        bfbridge.configure(max_heap="1g")        # same value: fine
        bfbridge.configure(log_level="DEBUG")    # runtime setting: fine
        try:
            bfbridge.configure(max_heap="2g")
        except bfbridge.JVMAlreadyStartedError as error:
            print("REFUSED", error)
        """
    )
    assert "REFUSED cannot change max_heap after the JVM started" in result.stdout
    assert "max_heap='1g'" in result.stdout
    assert "JVMAlreadyStartedError" not in result.stderr


def test_environment_set_in_a_notebook_before_the_first_read_reaches_the_jvm(python):
    result = python(
        """
        import json, os, bfbridge
        from bfbridge import config
        before = config.resolve().max_heap              # e.g. a library asked for the settings early
        os.environ["BFBRIDGE_MAX_HEAP"] = "1280m"       # then the notebook sets the heap
        info = bfbridge.jvm_info()
        config.resolve()                                # once the JVM runs, the environment is kept
        os.environ["BFBRIDGE_MAX_WORKERS"] = "7"        # (reads ask for the settings all the time)
        print(json.dumps([before, info["max_heap"], config.resolve().max_workers]))
        """,
        env={"BFBRIDGE_MAX_WORKERS": "3"},
    )
    before, started_with, workers = json.loads(result.stdout.strip().splitlines()[-1])
    assert before != "1280m" and started_with == "1280m"
    assert workers == 3


def test_a_worker_adopts_the_clients_latest_settings_but_keeps_its_own(python):
    """What a dask worker does with the settings that travel with each pickled file."""
    result = python(
        """
        import json
        from bfbridge import config, jvm
        seen = []
        config.adopt({"read_timeout": 42, "max_heap": "700m", "memoize_ms": 5})   # first task
        jvm.ensure_started()
        config.adopt({"read_timeout": 5, "log_level": "ERROR", "max_heap": "900m"})  # a later client
        s = config.resolve()
        seen.append([s.read_timeout, s.log_level, s.max_heap, s.memoize_ms])
        config.configure(read_timeout=9)                                 # the worker's own choice
        config.adopt({"read_timeout": 1, "memoize_ms": None})
        s = config.resolve()
        seen.append([s.read_timeout, s.memoize_ms])
        print(json.dumps(seen))
        """
    )
    later, own = json.loads(result.stdout.strip().splitlines()[-1])
    assert later == [5.0, "ERROR", "700m", 5]  # the JVM keeps the heap it started with
    assert own == [9.0, 100]
