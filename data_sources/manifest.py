"""What a rollup folder holds: `_manifest.json` beside the rollups' Parquet, written by `uplift rollup`
(data_sources/rollup_job.py) and checked by `uplift import DIR` (data_sources/rollup_import.py).

A folder:
    _manifest.json                       this file's contents (Manifest)
    decision_daily/month=2026-03/*.parquet       partitioned by the month of `date`
    decision_confusions/month=2026-03/*.parquet
    decision_tenure/*.parquet            tenure weeks and all-dates totals span months: one set of files
    decision_totals/*.parquet
    _rejected/*.parquet                  raw rows that could not be used, with the reason (when any)
"""

from __future__ import annotations

import glob
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_NAME = "_manifest.json"
FORMAT = "uplift-rollups"
# Bump when a rollup's columns or meaning change: a store refuses folders of another version.
SCHEMA_VERSION = 1


class ManifestError(Exception):
    """A rollup folder or manifest that cannot be used; the message says what, where and what to do."""


@dataclass(frozen=True)
class Figures:
    """Rows of a rollup (or of one month of it) and the sums of its measures."""

    rows: int
    sums: dict[str, int]


@dataclass(frozen=True)
class TableFigures:
    total: Figures
    months: dict[str, Figures] = field(default_factory=dict)  # "2026-03" -> figures, for monthly rollups


@dataclass(frozen=True)
class Source:
    """Files read by a run: what was asked for, and a fingerprint of what was found."""

    pattern: str
    format: str  # parquet or csv
    files: int
    bytes: int
    fingerprint: str  # sha256 over (path, size, modification time) of each local file, or of the pattern


@dataclass(frozen=True)
class Accounting:
    """Every raw decision the run scanned: read = used + duplicates + rejected."""

    read: int
    used: int
    duplicates: int
    rejected: dict[str, int]  # reason -> rows


@dataclass(frozen=True)
class Manifest:
    schema_version: int
    engine: str
    engine_version: str
    created_at: str
    input: Source
    roster: Source
    since: str | None  # months before this date's month were kept from the previous run
    decisions: Accounting
    tables: dict[str, TableFigures]
    format: str = FORMAT

    @property
    def reviewed(self) -> int:
        return self.tables["decision_daily"].total.sums["reviewed"]

    @property
    def correct(self) -> int:
        return self.tables["decision_daily"].total.sums["correct"]

    @property
    def months(self) -> list[str]:
        return sorted(self.tables["decision_daily"].months)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=True)

    def comparable(self) -> dict[str, Any]:
        """What two runs over the same files must agree on (not which engine ran, or when)."""
        out = asdict(self)
        for key in ("engine", "engine_version", "created_at"):
            out.pop(key)
        return out


def _figures(raw: dict[str, Any]) -> Figures:
    return Figures(int(raw["rows"]), {k: int(v) for k, v in raw["sums"].items()})


def parse(text: str, where: str) -> Manifest:
    """A manifest from its JSON; ManifestError naming `where` if it is not one this version can read."""
    try:
        raw = json.loads(text)
        if raw.get("format") != FORMAT:
            raise ManifestError(f"{where} is not an Uplift rollup manifest (no \"format\": \"{FORMAT}\")")
        if raw.get("schema_version") != SCHEMA_VERSION:
            raise ManifestError(
                f"{where} was written for rollup schema version {raw.get('schema_version')}; this Uplift "
                f"reads version {SCHEMA_VERSION}: run `uplift rollup` again with this version"
            )
        tables = {
            name: TableFigures(_figures(t["total"]), {m: _figures(f) for m, f in t.get("months", {}).items()})
            for name, t in raw["tables"].items()
        }
        return Manifest(
            schema_version=raw["schema_version"], engine=str(raw["engine"]),
            engine_version=str(raw["engine_version"]), created_at=str(raw["created_at"]),
            input=Source(**raw["input"]), roster=Source(**raw["roster"]), since=raw.get("since"),
            decisions=Accounting(**raw["decisions"]), tables=tables,
        )
    except ManifestError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ManifestError(f"{where} cannot be read as a rollup manifest ({type(exc).__name__}: {exc}); "
                            "run `uplift rollup` again to rewrite the folder") from exc


def read(folder: Path) -> tuple[Manifest, str]:
    """The folder's manifest and the sha256 of its bytes (the import log's content hash)."""
    path = folder / MANIFEST_NAME
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"{folder} has no readable {MANIFEST_NAME} ({exc.strerror}); a rollup folder is "
                            "written by `uplift rollup --output DIR`") from exc
    return parse(data.decode("utf-8", errors="replace"), str(path)), hashlib.sha256(data).hexdigest()


def write(folder: Path, manifest: Manifest) -> Path:
    """Write the manifest last and atomically: a folder whose manifest is there is complete."""
    path = folder / MANIFEST_NAME
    tmp = folder / f".{MANIFEST_NAME}.tmp"
    tmp.write_text(manifest.to_json(), encoding="utf-8")
    tmp.replace(path)
    return path


def is_remote(pattern: str) -> bool:
    """A URI such as s3://bucket/x or hdfs://... that only the engine can list (file:// is local)."""
    return "://" in pattern and not pattern.startswith("file://")


def local_files(pattern: str, suffixes: tuple[str, ...]) -> list[Path]:
    """The files a local path, folder or glob names: a folder means every file with one of `suffixes`
    below it (files and folders starting with `_` or `.` are left out, as Spark does)."""
    text = pattern.removeprefix("file://")
    base = Path(text).expanduser()
    if base.is_dir():
        found = [p for p in base.rglob("*") if p.is_file() and p.suffix.lower() in suffixes]
        return sorted(p for p in found if not any(part.startswith(("_", ".")) for part in p.relative_to(base).parts))
    # glob.glob, not Path.glob: the pattern may be absolute ('/lake/2026-*/decisions/*.parquet').
    return sorted(Path(p) for p in glob.glob(str(base), recursive=True) if Path(p).is_file())  # noqa: PTH207


def fingerprint(pattern: str, fmt: str, files: list[Path]) -> Source:
    """What was read, so a later reader can tell whether the files are still the same."""
    digest = hashlib.sha256(pattern.encode("utf-8"))
    size = 0
    for f in files:
        st = f.stat()
        size += st.st_size
        digest.update(f"\0{f.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    return Source(pattern, fmt, len(files), size, digest.hexdigest())
