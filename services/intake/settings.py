"""Intake's settings, from the environment (prefix-free, one service per process)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr

from loketkit.settings import ServiceSettings

DEVELOPMENT_KEY = "local-development-key-change-me-please"  # refused outside DEVELOPMENT_MODE
MIN_KEY_BYTES = 32


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    http_port: int = Field(default=8001, validation_alias=AliasChoices("INTAKE_PORT", "http_port"))
    service_area: str = "kempen-gml"
    # Municipalities (NIS codes) the loket serves: Geel, Laakdal, Meerhout.
    service_area_municipalities: str = "13008,13053,13021"
    # Key of the HMAC that turns a child into a pseudonymous reference; never leaves intake.
    child_ref_key: SecretStr = SecretStr(DEVELOPMENT_KEY)
    # Key that signs families' personal links (services.intake.personal_links).
    personal_link_key: SecretStr = SecretStr(DEVELOPMENT_KEY)
    personal_link_days: int = 180
    # Where families open their personal link (the link is <url>/mijn-aanvraag#<token>).
    intake_public_url: str = "http://127.0.0.1:8001"
    # Registering without an account is open: this many per minute per client address
    # (per process; several instances each count their own).
    anonymous_registrations_per_minute: int = 10

    def insecure_settings(self) -> list[str]:
        problems = super().insecure_settings()
        for name, secret in (("CHILD_REF_KEY", self.child_ref_key),
                             ("PERSONAL_LINK_KEY", self.personal_link_key)):
            key = secret.get_secret_value()
            if key == DEVELOPMENT_KEY or len(key.encode()) < MIN_KEY_BYTES:
                problems.append(f"{name}: the development key or shorter than "
                                f"{MIN_KEY_BYTES} bytes")
        return problems

    @property
    def municipalities(self) -> frozenset[str]:
        return frozenset(code.strip() for code in self.service_area_municipalities.split(","))
