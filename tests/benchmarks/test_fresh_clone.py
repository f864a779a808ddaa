"""What a fresh clone needs to run `make bench` and `make load`: the benchmarks' data folder is made by them,
never brought by git (a symlink to one machine's folder was once committed, and dangles everywhere else)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_git_tracks_no_symlink_and_no_benchmark_data() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    links = [line.split("\t", 1)[1] for line in listed.splitlines() if line.startswith("120000 ")]
    data = [line.split("\t", 1)[1] for line in listed.splitlines() if line.split("\t", 1)[1].startswith("benchmarks/data")]
    assert links == [] and data == []
