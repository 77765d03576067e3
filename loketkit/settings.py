"""Settings shared by every service, read from the environment."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Signs session cookies in development only (refused outside DEVELOPMENT_MODE).
DEVELOPMENT_SESSION_SECRET = "local-development-session-secret-change-me"


class InsecureSettings(RuntimeError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("refusing to start outside DEVELOPMENT_MODE: " + "; ".join(problems))
        self.problems = problems


class ServiceSettings(BaseSettings):
    """Each service subclasses this and sets its own defaults (name, port)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    service_name: str = "service"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Namespace for topics and consumer groups, so several systems can share one cluster.
    kafka_topic_prefix: str = ""
    # How this service signs in to the broker (see loketkit.kafka_security): each service
    # has its own principal, and the broker's ACLs let it write only its own topics.
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-256"
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    # A pattern subscription (organisers' inbound topics) sees a new topic only after the
    # consumer's next metadata refresh: this bounds how long onboarding an organiser takes.
    kafka_metadata_max_age_ms: int = 30_000
    database_url: str = "postgresql+asyncpg://loket@127.0.0.1:55432/loket"
    run_migrations: bool = True
    # Bounded retries before a failing message goes to the dead-letter topic.
    handler_max_attempts: int = 3
    handler_backoff_seconds: float = 0.2
    # A transient failure (database or broker away) pauses the partition and delivers
    # the message again after a delay that doubles from the first to the max.
    redelivery_first_seconds: float = 0.5
    redelivery_max_seconds: float = 30.0
    # Consumers take up to this many records per fetch and apply them per partition in
    # one transaction with one offset commit; an idle fetch waits this long for more.
    consumer_batch_max_records: int = 500
    consumer_batch_timeout_ms: int = 20
    # Publishing to the dead-letter topic is retried this often before moving on.
    dead_letter_attempts: int = 5
    # How often loket_consumer_lag is read from the broker.
    consumer_lag_interval_seconds: float = 10.0
    outbox_poll_seconds: float = 0.2
    outbox_batch_size: int = 500
    log_level: str = "INFO"
    # Periodic jobs (deadlines, the mail sender...) run this often in every process.
    jobs_interval_seconds: float = 5.0
    run_jobs: bool = True
    # Outgoing mail (the notices outbox, see loketkit.mail).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Lokaal Loket Kinderopvang <loket@example.be>"
    # Sign-in (see loketkit.auth): the OpenID Connect issuer whose tokens this service
    # accepts, the audience they must carry, and where to read its keys when the issuer's
    # own URL is not reachable from here (a container network, say).
    oidc_issuer: str | None = None
    oidc_audience: str = "loket"
    oidc_discovery_url: str | None = None
    # Pages for people (see loketkit.web): the public client browsers sign in with
    # (authorization code + PKCE), the key that signs this service's session cookie, how
    # long a sign-in lasts, and whether the cookie is sent over HTTPS only (browsers treat
    # http://127.0.0.1 and localhost as secure, so the demo keeps it on).
    oidc_web_client_id: str = "loket-web"
    session_secret: SecretStr = SecretStr(DEVELOPMENT_SESSION_SECRET)
    session_hours: int = 8
    session_cookie_secure: bool = True
    # Where a person's browser finds each service's pages (the menu links across them).
    service_urls: str = ("intake=http://127.0.0.1:8001,capacity=http://127.0.0.1:8002,"
                         "matching=http://127.0.0.1:8003,reporting=http://127.0.0.1:8004")
    # Development mode allows the development keys and running without an issuer.
    development_mode: bool = False

    def insecure_settings(self) -> list[str]:
        """What makes this configuration unfit outside development mode (each names the
        setting). Services add their own checks (keys) by extending this."""
        problems = []
        if not self.oidc_issuer:
            problems.append("OIDC_ISSUER: no identity provider configured")
        secret = self.session_secret.get_secret_value()
        if secret == DEVELOPMENT_SESSION_SECRET or len(secret.encode()) < 32:
            problems.append("SESSION_SECRET: the development key or shorter than 32 bytes")
        return problems

    def require_secure(self) -> None:
        """Refuse to run with development defaults unless DEVELOPMENT_MODE is on."""
        problems = [] if self.development_mode else self.insecure_settings()
        if problems:
            raise InsecureSettings(problems)

    @property
    def service_links(self) -> dict[str, str]:
        """service name -> base URL of its pages."""
        pairs = (item.split("=", 1) for item in self.service_urls.split(",") if "=" in item)
        return {name.strip(): url.strip().rstrip("/") for name, url in pairs}

    @property
    def consumer_group(self) -> str:
        return f"{self.kafka_topic_prefix}loket-{self.service_name}"
