"""The client package and its examples type-check with mypy --strict (pyproject.toml's [tool.mypy]),
against the protoc-generated stubs (proto/*_pb2.pyi) and types-protobuf."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def test_mypy_strict_finds_no_errors() -> None:
    assert importlib.util.find_spec("mypy") is not None, (
        "mypy is not installed: run scripts/install-deps or pip install './Clients/python[test]'")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--config-file", str(PROJECT / "pyproject.toml")],
        cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_package_ships_its_types() -> None:
    package = PROJECT / "src" / "imagegen_client"
    assert (package / "py.typed").is_file()
    stubs = {path.stem for path in (package / "proto").glob("*_pb2.pyi")}
    modules = {path.stem for path in (package / "proto").glob("*_pb2.py")}
    assert modules and stubs == modules
    pyproject = (PROJECT / "pyproject.toml").read_text()
    assert '"py.typed"' in pyproject and '"proto/*.pyi"' in pyproject
