"""The two engines `uplift rollup` runs the rollups' definitions on: DuckDB (one machine) and Spark
(local[N], a cluster's master URL, or Spark Connect `sc://host:15002`).

An engine registers raw files and SQL as named views, writes a query as Parquet (partitioned by `month`
when asked) and fetches small results. Both pin the session time zone to UTC, so a timestamp read from
Parquet falls on the same day in either. pyspark is imported only inside SparkEngine: the app never
imports it, and it is an optional extra (`pip install -e ".[spark]"`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Literal, Protocol

import duckdb

FileFormat = Literal["parquet", "csv"]
# What a column holds, in words both engines' type names map to: the typing SQL skips work for columns the
# files already type (a boolean `correct` is not cast to text and back).
Columns = dict[str, str]  # column name -> boolean, date, timestamp, text or other


def column_kind(type_name: str) -> str:
    """boolean, date, timestamp, text or other, from a DuckDB or Spark type name."""
    name = type_name.strip().lower()
    if name in ("boolean", "bool"):
        return "boolean"
    if name == "date":
        return "date"
    if name.startswith("timestamp"):
        return "timestamp"
    if name in ("varchar", "string", "text") or name.startswith("varchar("):
        return "text"
    return "other"


class EngineError(Exception):
    """An engine that cannot start or cannot run a query; the message says why and what to do."""


class Engine(Protocol):
    name: str
    version: str

    def read(self, view: str, paths: list[str], fmt: FileFormat) -> Columns:
        """Register files as a view; returns its columns and their kinds (CSV: every column is text)."""
        ...

    def read_output(self, view: str, folder: Path, *, by_month: bool) -> None:
        """Register Parquet this engine wrote under `folder` as a view (with `month` when by_month)."""
        ...

    def view(self, name: str, sql: str, *, materialise: bool = False) -> None:
        """Register a query as a view; `materialise` computes it once for several later reads."""
        ...

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a query with a small result."""
        ...

    def write(self, sql: str, target: Path, *, by_month: bool) -> None:
        """Write a query's rows as Parquet files under `target` (a new folder); by_month: one folder per
        value of the query's `month` column (`month=2026-03`), which the files then leave out."""
        ...

    def close(self) -> None: ...


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class DuckDBEngine:
    """DuckDB on one machine. What it computes once for several reads (the typed raw rows) goes into a
    scratch database file, where DuckDB compresses it: as in-memory tables, 20M decisions outgrew a 4 GB
    memory limit and every later step spilled. The file is deleted on close."""

    name = "duckdb"

    def __init__(self, *, memory_limit: str = "4GB", threads: int | None = None, scratch: Path | None = None):
        self.version = duckdb.__version__
        self._scratch = Path(tempfile.mkdtemp(prefix="uplift-rollup-", dir=scratch))
        self.con = duckdb.connect(str(self._scratch / "scratch.duckdb"))
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute(f"SET memory_limit = '{_checked_size(memory_limit)}'")
        self.con.execute("SET temp_directory = ?", [str(self._scratch / "spill")])
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def read(self, view: str, paths: list[str], fmt: FileFormat) -> Columns:
        assert view.isidentifier()
        # union_by_name: files written at different times may add columns (Spark: mergeSchema).
        reader = ("read_parquet(?, union_by_name = true)" if fmt == "parquet"
                  else "read_csv(?, header = true, all_varchar = true)")
        try:
            rel = self.con.sql(f"SELECT * FROM {reader}", params=[paths])
        except duckdb.Error as exc:
            raise EngineError(f"the files could not be read as {fmt} ({_first_line(exc)})") from exc
        rel.create_view(view, replace=True)
        return {name: column_kind(str(kind)) for name, kind in zip(rel.columns, rel.types, strict=True)}

    def read_output(self, view: str, folder: Path, *, by_month: bool) -> None:
        assert view.isidentifier()
        if by_month:
            rel = self.con.sql("SELECT * FROM read_parquet(?, hive_partitioning = true, hive_types = {'month': 'VARCHAR'})",
                               params=[str(folder / "*" / "*.parquet")])
        else:
            rel = self.con.sql("SELECT * FROM read_parquet(?)", params=[str(folder / "*.parquet")])
        rel.create_view(view, replace=True)

    def view(self, name: str, sql: str, *, materialise: bool = False) -> None:
        assert name.isidentifier()
        kind = "TABLE" if materialise else "TEMP VIEW"
        self.con.execute(f"CREATE OR REPLACE {kind} {name} AS {sql}")

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def write(self, sql: str, target: Path, *, by_month: bool) -> None:
        rel = self.con.sql(sql)
        if by_month:
            rel.write_parquet(str(target), partition_by=["month"])
        else:
            target.mkdir(parents=True, exist_ok=True)
            rel.write_parquet(str(target / "data_0.parquet"))

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self._scratch, ignore_errors=True)


def _checked_size(text: str) -> str:
    """A memory size such as 4GB or 512MB (it is spliced into a SET, which takes no parameters)."""
    cleaned = text.strip().upper().replace(" ", "")
    number = cleaned.rstrip("KMGTIB")
    if not number.replace(".", "", 1).isdigit() or cleaned[len(number):] not in ("", "KB", "MB", "GB", "TB", "KIB", "MIB", "GIB", "TIB"):
        raise EngineError(f"memory limit {text!r} is not a size such as 4GB or 512MB")
    return cleaned


def local_shuffle_partitions(master: str) -> int | None:
    """Shuffle partitions for `local[N]`: a few per core. Spark's default of 200 writes up to 200 small
    files per month on one machine; on a cluster the default (and adaptive execution) stay."""
    if not master.startswith("local"):
        return None
    inside = master.removeprefix("local").strip("[]")
    cores = (os.cpu_count() or 2) if inside == "*" else (int(inside) if inside.isdigit() else 1)
    return max(4, 2 * cores)


class SparkEngine:
    """A SparkSession: `local[N]` by default, a cluster master URL, or Spark Connect (`sc://...`).

    `session` reuses a running SparkSession (tests start one per test run: it takes 5-7 s); the engine then
    leaves it running on close."""

    name = "spark"

    def __init__(self, master: str = "local[2]", *, session: Any = None, conf: dict[str, str] | None = None) -> None:
        self._own = session is None
        self._kept: list[Any] = []
        self.spark = session if session is not None else start_spark(master, conf)
        self.version = str(self.spark.version)

    def read(self, view: str, paths: list[str], fmt: FileFormat) -> Columns:
        assert view.isidentifier()
        try:
            if fmt == "parquet":
                df = self.spark.read.option("mergeSchema", "true").parquet(*paths)
            else:
                # Every column as text, as DuckDB's all_varchar: the typing SQL casts them the same way.
                # Quotes doubled inside quoted cells, as DuckDB and Excel write them (Spark's default is \").
                df = (self.spark.read.option("header", "true").option("inferSchema", "false")
                      .option("escape", '"').csv(paths))
        except Exception as exc:  # pyspark raises AnalysisException and Py4J errors for unreadable paths
            raise EngineError(f"the files could not be read as {fmt} ({_first_line(exc)})") from exc
        df.createOrReplaceTempView(view)
        return {name: column_kind(kind) for name, kind in df.dtypes}

    def read_output(self, view: str, folder: Path, *, by_month: bool) -> None:
        assert view.isidentifier()
        # A folder: Spark finds the month=... partitions itself (and skips _SUCCESS and .crc files).
        self.spark.read.parquet(str(folder)).createOrReplaceTempView(view)

    def view(self, name: str, sql: str, *, materialise: bool = False) -> None:
        assert name.isidentifier()
        df = self.spark.sql(sql)
        if materialise:
            from pyspark import StorageLevel

            df = df.persist(StorageLevel.MEMORY_AND_DISK)
            df.count()  # compute it now, once
            self._kept.append(df)
        df.createOrReplaceTempView(name)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.spark.sql(sql).collect()]

    def write(self, sql: str, target: Path, *, by_month: bool) -> None:
        df = self.spark.sql(sql)
        if by_month:
            # One writer per month: a month of rollup rows is small next to its raw decisions.
            df.repartition("month").write.mode("overwrite").partitionBy("month").parquet(str(target))
        else:
            df.coalesce(1).write.mode("overwrite").parquet(str(target))

    def close(self) -> None:
        for df in self._kept:
            df.unpersist()
        if self._own:
            self.spark.stop()


def start_spark(master: str = "local[2]", conf: dict[str, str] | None = None) -> Any:
    """A SparkSession with the settings the rollups need (UTC; on one machine: no UI, few shuffle
    partitions, the loopback address) and quiet logs, plus `conf` (e.g. spark.driver.memory; it cannot
    change the time zone). EngineError when Spark or Java is missing."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineError(
            'Spark is not installed here: `pip install -e ".[spark]"` (and a Java 17+ runtime), or use '
            "--engine duckdb on one machine"
        ) from exc
    local, connect = master.startswith("local"), master.startswith("sc://")
    builder = SparkSession.builder.appName("uplift-rollup")
    builder = builder.remote(master) if connect else builder.master(master)
    settings = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false",
                # month=2026-03 stays text, as DuckDB reads it.
                "spark.sql.sources.partitionColumnTypeInference.enabled": "false"}
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no lookup of the machine's name
        settings["spark.ui.enabled"] = "false"
        settings["spark.sql.shuffle.partitions"] = str(local_shuffle_partitions(master))
    for key, value in {**(conf or {}), **settings}.items():
        builder = builder.config(key, value)
    if not connect and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineError("Spark needs a Java runtime (17 or later) and none was found (no `java` on PATH, no "
                          "JAVA_HOME). Install one (Debian: apt-get install default-jre-headless), or use "
                          "--engine duckdb on one machine")
    try:
        with warnings.catch_warnings():
            # pyspark 4.3 warns that it does not fully support pandas 3; the rollups never use pandas.
            warnings.simplefilter("ignore", FutureWarning)
            spark = builder.getOrCreate()
    except Exception as exc:  # Py4J and pyspark raise their own types; one sentence for people
        raise EngineError(f"Spark could not start with master {master!r} ({_first_line(exc)})") from exc
    if not connect:
        spark.sparkContext.setLogLevel("ERROR")
    return spark
