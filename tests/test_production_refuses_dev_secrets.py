"""Outside `nurture dev`, the API and the worker refuse to start with the published tracking secret or with a
SendGrid key but no webhook key (issue 7: links could be forged with the secret in the source, and nothing said
so); `nurture dev` generates random secrets into its home and keeps them across restarts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from nurture.config import DEV_TRACKING_SECRET, Settings, UnsafeSettingsError
from nurture.dev_secrets import FILE, with_dev_secrets

ROOT = Path(__file__).resolve().parents[1]
NURTURE = str(Path(sys.executable).parent / "nurture")
GOOD_SECRET = "a-long-random-tracking-secret-for-this-test"


def run(command: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NURTURE_")}
    clean.update(
        NURTURE_HOME=str(tmp_path / "home"),
        NURTURE_TEMPORAL_ADDRESS="127.0.0.1:9",  # never reached: the check comes first
        NURTURE_DATABASE_URL=f"sqlite:///{tmp_path / 'never.db'}",
        PYTHONPATH=str(ROOT),
        **env,
    )
    return subprocess.run(command, cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize(
    "command", [[NURTURE, "api"], [NURTURE, "worker"], [sys.executable, "-m", "workers.journey_worker"]]
)
def test_the_api_and_the_worker_refuse_the_default_tracking_secret(command: list[str], tmp_path: Path) -> None:
    done = run(command, tmp_path)
    assert done.returncode != 0
    assert "NURTURE_TRACKING_SECRET" in done.stdout + done.stderr
    assert not (tmp_path / "never.db").exists()  # refused before touching anything


@pytest.mark.slow
@pytest.mark.parametrize("command", [[NURTURE, "api"], [NURTURE, "worker"]])
def test_the_api_and_the_worker_refuse_a_sendgrid_key_without_the_webhook_key(
    command: list[str], tmp_path: Path
) -> None:
    done = run(command, tmp_path, NURTURE_TRACKING_SECRET=GOOD_SECRET, NURTURE_SENDGRID_API_KEY="SG.real-key")
    assert done.returncode != 0
    assert "NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY" in done.stdout + done.stderr
    assert not (tmp_path / "never.db").exists() and not (tmp_path / "home").exists()


def test_every_process_refuses_through_one_start_up_function() -> None:
    """The checks cannot drift apart: product code calls `refuse_unsafe` in `nurture.startup` only, and the API
    and both worker entry points start through `start_process`."""
    callers = sorted(
        str(path.relative_to(ROOT))
        for package in ("nurture", "workers", "activities", "workflows", "definitions")
        for path in (ROOT / package).rglob("*.py")
        if ".refuse_unsafe()" in path.read_text()
    )
    assert callers == ["nurture/startup.py"]
    assert "start_process(" in (ROOT / "nurture/cli/api.py").read_text()
    assert "start_process(" in (ROOT / "workers/journey_worker.py").read_text()
    assert "run_worker(" in (ROOT / "nurture/cli/worker.py").read_text()  # nurture worker is the same start


def test_settings_say_what_is_unsafe() -> None:
    with pytest.raises(UnsafeSettingsError, match="TRACKING_SECRET"):
        Settings(_env_file=None).refuse_unsafe()  # type: ignore[call-arg]
    with pytest.raises(UnsafeSettingsError, match="TRACKING_SECRET"):
        Settings(_env_file=None, tracking_secret=SecretStr("short")).refuse_unsafe()  # type: ignore[call-arg]
    Settings(_env_file=None, tracking_secret=SecretStr(GOOD_SECRET)).refuse_unsafe()  # type: ignore[call-arg]
    Settings(  # type: ignore[call-arg]
        _env_file=None,
        tracking_secret=SecretStr(GOOD_SECRET),
        sendgrid_api_key=SecretStr("SG.key"),
        sendgrid_webhook_public_key="MFkw...",
    ).refuse_unsafe()


def test_nurture_dev_generates_random_secrets_once_and_keeps_them(tmp_path: Path) -> None:
    first = with_dev_secrets(Settings(_env_file=None, home=tmp_path))  # type: ignore[call-arg]
    again = with_dev_secrets(Settings(_env_file=None, home=tmp_path))  # type: ignore[call-arg]
    elsewhere = with_dev_secrets(Settings(_env_file=None, home=tmp_path / "other"))  # type: ignore[call-arg]
    configured = with_dev_secrets(
        Settings(_env_file=None, home=tmp_path, tracking_secret=SecretStr(GOOD_SECRET))  # type: ignore[call-arg]
    )

    secret = first.tracking_secret.get_secret_value()
    assert secret != DEV_TRACKING_SECRET and len(secret) >= 32
    first.refuse_unsafe()
    assert first.api_token is not None and again.api_token is not None
    assert again.tracking_secret.get_secret_value() == secret  # links stay valid across restarts
    assert again.api_token.get_secret_value() == first.api_token.get_secret_value()
    assert elsewhere.tracking_secret.get_secret_value() != secret  # random, not derived
    assert configured.tracking_secret.get_secret_value() == GOOD_SECRET  # a configured secret wins
    assert (tmp_path / FILE).stat().st_mode & 0o077 == 0  # readable by its owner only
