"""Loading the deployment material the way Docker Compose and Kubernetes read it."""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices

from loketkit.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = ROOT / "docker-compose.yml"
KUBERNETES_DIR = ROOT / "deploy/kubernetes"
SERVICES = ("intake", "capacity", "matching", "reporting")
SETTINGS_CLASSES = {
    "intake": "IntakeSettings",
    "capacity": "CapacitySettings",
    "matching": "MatchingSettings",
    "reporting": "ReportingSettings",
}
# ${VAR}, ${VAR:-default}, ${VAR-default}; $$ is a literal dollar.
VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?-)?(?P<default>[^}]*)\}")


def interpolate(value: Any, variables: dict[str, str] | None = None) -> Any:
    """Compose's variable substitution; with no variables set every default applies."""
    given = variables or {}

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, default = match.group("name", "op", "default")
        if name in given and (given[name] or op != ":-"):
            return given[name]
        return default if op else ""

    if isinstance(value, str):
        return VARIABLE.sub(substitute, value)
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    return value


@cache
def raw_compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


@cache
def compose() -> dict[str, Any]:
    """docker-compose.yml with YAML anchors merged and the default values substituted."""
    return interpolate(raw_compose())  # type: ignore[no-any-return]


def compose_env(service: str, variables: dict[str, str] | None = None) -> dict[str, str]:
    """A service's environment, with the given variables set (else the defaults)."""
    spec = interpolate(raw_compose(), variables) if variables else compose()
    env = spec["services"][service].get("environment", {})
    if isinstance(env, list):  # the KEY=value form
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


@cache
def kubernetes_documents() -> list[tuple[str, dict[str, Any]]]:
    """(file name, document) for every manifest under deploy/kubernetes/."""
    documents = []
    for path in sorted(KUBERNETES_DIR.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                documents.append((path.name, document))
    return documents


def kubernetes_objects(kind: str) -> dict[str, dict[str, Any]]:
    return {
        doc["metadata"]["name"]: doc for _, doc in kubernetes_documents() if doc["kind"] == kind
    }


def settings_class(service: str) -> type[ServiceSettings]:
    """Imported per test, so one service's settings in progress fail only its own tests."""
    module = importlib.import_module(f"services.{service}.settings")
    cls: type[ServiceSettings] = getattr(module, SETTINGS_CLASSES[service])
    assert issubclass(cls, ServiceSettings)
    return cls


def default_port(service: str) -> int:
    port = settings_class(service).model_fields["http_port"].default
    assert isinstance(port, int)
    return port


def environment_names(cls: type[ServiceSettings]) -> set[str]:
    """The environment variables a settings class reads (pydantic-settings ignores case)."""
    names = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(field_name.upper())
    return names
