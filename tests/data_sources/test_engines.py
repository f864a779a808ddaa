"""The engines the rollup job runs on: the app never imports pyspark, and a machine without Spark or Java
gets one sentence saying what to install."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from data_sources.engines import EngineError, _checked_size, local_shuffle_partitions

ROOT = Path(__file__).resolve().parents[2]


def python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def test_the_app_and_the_command_line_never_import_pyspark() -> None:
    done = python("""
        import importlib, pkgutil, sys
        for package in ("access", "cli", "data_sources", "metrics", "outgoing", "ui"):
            for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
                if not module.name.endswith("__main__"):  # runs the command
                    importlib.import_module(module.name)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("pyspark", "py4j")))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_pyspark_the_spark_engine_says_what_to_install() -> None:
    done = python("""
        import sys
        sys.modules["pyspark"] = None  # as if the [spark] extra were not installed
        from data_sources.engines import EngineError, SparkEngine
        try:
            SparkEngine("local[2]")
        except EngineError as exc:
            print(exc)
    """)
    assert 'pip install -e ".[spark]"' in done.stdout and "--engine duckdb" in done.stdout


@pytest.mark.spark
def test_without_java_the_spark_engine_says_what_to_install(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(Path(sys.executable).parent)  # python, and no java
    done = python("""
        from data_sources.engines import EngineError, start_spark
        try:
            start_spark("local[2]")
        except EngineError as exc:
            print(exc)
    """, env)
    assert "needs a Java runtime" in done.stdout and "apt-get install default-jre-headless" in done.stdout


def test_local_masters_get_a_few_shuffle_partitions_per_core() -> None:
    assert local_shuffle_partitions("local[2]") == 4
    assert local_shuffle_partitions("local[8]") == 16
    assert local_shuffle_partitions("local") == 4
    assert local_shuffle_partitions("spark://host:7077") is None
    assert local_shuffle_partitions("sc://host:15002") is None


def test_memory_limits_are_sizes() -> None:
    assert _checked_size("4GB") == "4GB" and _checked_size(" 512 mb ") == "512MB"
    with pytest.raises(EngineError, match="not a size"):
        _checked_size("4GB'; DROP TABLE x; --")
