"""The committed *_pb2.py files match Proto/*.proto."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import REPO_ROOT


def test_generated_code_is_current() -> None:
    missing = [tool for tool in ("protoc", "protoc-c") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed: cannot check the generated code")
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "generate-proto"), "--check"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "generated code is current" in result.stdout
