"""production.ini refuses to start without its secrets, with one clear line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dragonhoard.settings import DEVELOPMENT_SECRET

ROOT = Path(__file__).resolve().parent.parent
PSERVE = Path(sys.executable).parent / "pserve"


def pserve(env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAGONHOARD_")}
    env.update(env_extra)
    return subprocess.run(
        [str(PSERVE), str(ROOT / "production.ini")],
        env=env, capture_output=True, text=True, timeout=60, cwd=ROOT,
    )


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DRAGONHOARD_SECRET": "s" * 40}, "no database: set DRAGONHOARD_DATABASE_URL"),
        ({"DRAGONHOARD_DATABASE_URL": "sqlite:///:memory:"}, "DRAGONHOARD_SECRET is not set"),
        (
            {"DRAGONHOARD_DATABASE_URL": "sqlite:///:memory:", "DRAGONHOARD_SECRET": DEVELOPMENT_SECRET},
            "is the development secret",
        ),
        (
            {"DRAGONHOARD_DATABASE_URL": "sqlite:///:memory:", "DRAGONHOARD_SECRET": "short"},
            "at least 32 characters",
        ),
    ],
)
def test_production_refuses_to_start_without_its_secrets(env, message):
    result = pserve(env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_development_ini_uses_the_known_development_secret():
    text = (ROOT / "development.ini").read_text()
    assert f"dragonhoard.secret = {DEVELOPMENT_SECRET}" in text
