"""docker-compose.yml runs as written: it validates, every service says when it is ready or done, no secret is
empty, Temporal is the production server on PostgreSQL, and every command it runs exists in nurture's CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from nurture import search_attributes
from nurture.temporal import search_attribute_flags
from workers.journey_worker import LIVENESS_FILE

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
REQUIRED = {
    "POSTGRES_PASSWORD": "pg-password",
    "NURTURE_TRACKING_SECRET": "a-long-random-tracking-secret-for-the-test",
    "NURTURE_PUBLIC_BASE_URL": "https://go.example.com",
}
PASSED_THROUGH = {
    "NURTURE_SENDGRID_API_KEY",
    "NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY",
    "NURTURE_API_TOKEN",
    "NURTURE_FROM_EMAIL",
    "NURTURE_CRM_WEBHOOK_URL",
    "NURTURE_CRM_WEBHOOK_SECRET",
    "NURTURE_METRICS_TOKEN",
}
SECRET_WORDS = ("SECRET", "PASSWORD", "PWD", "TOKEN", "KEY")


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE.read_text())["services"]
    return found


def compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("docker-compose")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is missing in CI (.ci/run installs Debian's docker-compose)")
        pytest.skip("docker-compose not installed (apt-get install -y docker-compose)")
    clean = {k: v for k, v in os.environ.items() if k not in REQUIRED and not k.startswith("NURTURE_")}
    return subprocess.run(
        [tool, "-f", str(COMPOSE), *args], env={**clean, **env}, capture_output=True, text=True, timeout=60, check=False
    )


def test_compose_config_validates_with_the_required_variables_set() -> None:
    done = compose("config", "-q", env=REQUIRED)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_required_variable_stops_start_up_with_a_message(missing: str) -> None:
    done = compose("config", "-q", env={k: v for k, v in REQUIRED.items() if k != missing})
    assert done.returncode != 0
    assert f"set {missing}" in done.stderr


def test_the_resolved_file_passes_no_empty_value_and_no_default_for_a_secret() -> None:
    done = compose("config", env=REQUIRED)
    assert done.returncode == 0, done.stderr
    for name, service in yaml.safe_load(done.stdout)["services"].items():
        for var, value in (service.get("environment") or {}).items():
            assert value != "", f"{name} passes {var} empty"
            # null = pass through from the shell only when set there (an unset key means "no provider")
            assert value is not None or var in PASSED_THROUGH, f"{name}: {var} has no value"
    text = COMPOSE.read_text()
    for var, default in re.findall(r"\$\{(\w+):?-([^}]*)\}", text):
        assert not any(word in var for word in SECRET_WORDS), f"{var} has a default ({default!r}): require it"


def test_an_optional_key_reaches_the_containers_only_when_set() -> None:
    done = compose("config", env={**REQUIRED, "NURTURE_SENDGRID_API_KEY": "SG.real-key"})
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)["services"]
    assert {resolved[s]["environment"]["NURTURE_SENDGRID_API_KEY"] for s in ("worker", "api", "migrate")} == {
        "SG.real-key"
    }


def test_every_service_has_a_healthcheck_or_a_completion_condition() -> None:
    found = services()
    awaited_done = {
        dep
        for service in found.values()
        for dep, cond in (service.get("depends_on") or {}).items()
        if cond.get("condition") == "service_completed_successfully"
    }
    for name, service in found.items():
        assert "healthcheck" in service or name in awaited_done, f"{name}: no healthcheck and nobody awaits it"
        if name in awaited_done:
            assert str(service.get("restart", "no")).startswith("on-failure"), f"{name}: a one-shot that never retries"
        else:
            assert service.get("restart") == "unless-stopped", f"{name}: a long-running service without restart"


def test_temporal_is_the_production_server_on_postgresql_with_its_schema_set_up_first() -> None:
    found = services()
    temporal = found["temporal"]
    assert temporal["image"].startswith("temporalio/server:")
    assert temporal["environment"]["DB"] == "postgres12"
    assert "start-dev" not in COMPOSE.read_text()
    assert temporal["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"
    schema = (ROOT / "deploy/compose/temporal-schema.sh").read_text()
    assert "temporal-sql-tool --plugin postgres12" in schema
    assert all(db in schema for db in ("temporal", "temporal_visibility"))


def test_the_namespace_step_registers_exactly_nurtures_search_attributes() -> None:
    script = (ROOT / "deploy/compose/temporal-namespace.sh").read_text()
    registered = set(re.findall(r"^\s+(Nurture\w+=\w+)", script, re.MULTILINE))
    expected = set(search_attribute_flags()[1::2])
    assert registered == expected
    assert len(expected) == len(search_attributes.ALL_SEARCH_ATTRIBUTES)


def test_workers_scale_no_fixed_name_or_host_port_and_wait_for_migrate() -> None:
    found = services()
    for name in ("worker", "api", "migrate"):
        assert "container_name" not in found[name]
    assert "ports" not in found["worker"]
    for name in ("worker", "api"):
        assert found[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert LIVENESS_FILE in " ".join(found["worker"]["healthcheck"]["test"])
    assert "NURTURE_HOME=/var/lib/nurture" in (ROOT / "Dockerfile").read_text()


@pytest.mark.slow
def test_every_nurture_command_the_file_runs_exists_in_the_cli() -> None:
    commands = {
        tuple(service["command"]) for service in services().values() if service.get("command", [""])[0] == "nurture"
    }
    assert {c[1] for c in commands} >= {"migrate", "worker", "api"}
    for command in commands:
        done = subprocess.run(
            [sys.executable, "-c", "from nurture.cli import main; main()", *command[1:], "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=ROOT,
        )
        assert done.returncode == 0, f"nurture {' '.join(command[1:])}: {done.stderr}"
