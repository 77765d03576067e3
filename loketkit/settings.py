"""Settings shared by every service, read from the environment."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Each service subclasses this and sets its own defaults (name, port)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    service_name: str = "service"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Namespace for topics and consumer groups, so several systems can share one cluster.
    kafka_topic_prefix: str = ""
    database_url: str = "postgresql+asyncpg://loket@127.0.0.1:55432/loket"
    run_migrations: bool = True
    # Bounded retries before a failing message goes to the dead-letter topic.
    handler_max_attempts: int = 3
    handler_backoff_seconds: float = 0.2
    # A transient failure (database or broker away) pauses the partition and delivers
    # the message again after a delay that doubles from the first to the max.
    redelivery_first_seconds: float = 0.5
    redelivery_max_seconds: float = 30.0
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

    @property
    def consumer_group(self) -> str:
        return f"{self.kafka_topic_prefix}loket-{self.service_name}"
