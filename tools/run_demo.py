"""The main job: the whole system with demo data, on this machine.

Starts Kafka, PostgreSQL and the identity provider (Keycloak; or uses
KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL / OIDC_ISSUER),
creates the topics and databases, starts the four services as separate
processes, seeds the demo service area, prints the URLs and the mail the system
sent (to a local SMTP sink; saved as .eml files), and on Ctrl-C stops the services
(they drain and commit) and the infrastructure it started.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path

import httpx

from tools.demo.accounts import SIGN_IN
from tools.demo.seed import seed
from tools.infra import SERVICES, Infra, create_database, provision, stop_kafka, stop_postgres
from tools.infra.kafka import broker_answers
from tools.infra.keycloak import ensure_keycloak, keycloak_answers, stop_keycloak
from tools.infra.postgres import port, server_ready
from tools.infra.secrets import local_secrets
from tools.infra.tokens import TokenSource
from tools.infra.topics import ensure_namespace, namespace_topics, recreate_topics
from tools.mailsink import DEFAULT_PORT, MailSink
from tools.processes import DEFAULT_PORTS, service_processes, start_all, stop_all

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / ".cache" / "logs"


def ports_from_env() -> dict[str, int]:
    return {name: int(os.environ.get(f"{name.upper()}_PORT", port))
            for name, port in DEFAULT_PORTS.items()}


def start_mail_sink(directory: Path) -> MailSink:
    """The demo's outgoing mail goes to a local sink: SMTP_PORT, or the first free port
    from 2525 (a sink from another terminal may hold it)."""
    for candidate in ([int(os.environ["SMTP_PORT"])] if os.environ.get("SMTP_PORT")
                      else range(DEFAULT_PORT, DEFAULT_PORT + 50)):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", candidate)) != 0:
                return MailSink().start(candidate, directory)
    raise RuntimeError("no free port for the demo's SMTP sink; set SMTP_PORT")


def settled(
    sink: MailSink, quiet_seconds: float = 6.0, at_most: float = 45.0
) -> list[EmailMessage]:
    """The mail once none has come for a while (services send it every few seconds)."""
    deadline, quiet_since, count = time.monotonic() + at_most, time.monotonic(), 0
    while time.monotonic() < deadline and time.monotonic() - quiet_since < quiet_seconds:
        if len(sink.messages()) != count:
            count, quiet_since = len(sink.messages()), time.monotonic()
        time.sleep(0.25)
    return sink.messages()


def show_mail(sink: MailSink, directory: Path) -> None:
    """What the system told families, organisers and staff while it was seeded."""
    messages = settled(sink)
    subjects = Counter(str(message["Subject"]).strip() for message in messages)
    print(f"Sent mail: {len(messages)} messages, saved in {directory}", flush=True)
    for subject, count in subjects.most_common(8):
        print(f"  {count:>4} x {subject}")
    if messages:
        body = messages[0].get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        print(f"  First message, to {messages[0]['To']}:")
        print("\n".join(f"    | {line}" for line in text.strip().splitlines()[:12]))
    print("  New mail is printed below as it is sent.", flush=True)
    sink.echo = True


def show_sign_in(issuer: str, intake: str) -> None:
    """Every route asks who you are: the demo's accounts, and how to use one."""
    print(f"Sign in (identity provider {issuer}; password 'demo' for people):")
    for account, role in SIGN_IN:
        print(f"  {account:<18} {role}")
    print("  Systems (client credentials): organiser-zonneke, organiser-bolleboos, "
          "partner-ocmw-geel")
    print("  For example: curl -H \"Authorization: Bearer $(uv run python -m "
          f"tools.infra.tokens balie.els)\" {intake}/requests", flush=True)


def wait_for_stop_signal() -> None:
    """Ctrl-C (SIGINT) or SIGTERM; the services run in their own sessions, so the
    signal reaches only this launcher, which then stops them in order."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


async def reset_demo_state(infra: Infra, topic_prefix: str, database_suffix: str) -> None:
    """A fresh demo each run: empty service databases and topics. On an external
    cluster only namespaced topics (KAFKA_TOPIC_PREFIX) are ever emptied."""
    if topic_prefix or not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        await recreate_topics(infra.bootstrap_servers, namespace_topics(topic_prefix))
    await ensure_namespace(infra.bootstrap_servers, topic_prefix)  # topics and ACLs
    for name in SERVICES:
        await create_database(infra.admin_database_url, f"{name}{database_suffix}",
                              drop_existing=True)


def main() -> None:
    # Leave running what was running before (another terminal's broker, say).
    kafka_was_up = broker_answers(os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    postgres_was_up = server_ready("127.0.0.1", port())
    keycloak_was_up = bool(os.environ.get("OIDC_ISSUER")) or keycloak_answers()
    print("Starting Kafka and PostgreSQL ...", flush=True)
    # Namespaces, so a demo can run beside another on the same servers (the tests do).
    topic_prefix = os.environ.get("KAFKA_TOPIC_PREFIX", "")
    database_suffix = os.environ.get("DEMO_DATABASE_SUFFIX", "")
    identity = ThreadPoolExecutor(1).submit(ensure_keycloak)  # starts beside the others
    infra = asyncio.run(provision(database_suffix))
    if "--keep" not in sys.argv:
        print("Resetting the demo data (run with --keep to keep it) ...", flush=True)
        asyncio.run(reset_demo_state(infra, topic_prefix, database_suffix))
    mail_dir = ROOT / ".cache" / "mail" / f"demo{database_suffix}"
    if "--keep" not in sys.argv:
        for old in mail_dir.glob("*.eml"):
            old.unlink()
    sink = start_mail_sink(mail_dir)
    print("Starting the identity provider (Keycloak) ...", flush=True)
    issuer = identity.result()
    services = service_processes(infra, LOG_DIR / f"demo{database_suffix}", ports_from_env(),
                                 extra_env={"SMTP_PORT": str(sink.port), "OIDC_ISSUER": issuer,
                                            **local_secrets()})
    print("Starting intake, capacity, matching and reporting ...", flush=True)
    start_all(services)
    try:
        counts = asyncio.run(
            seed(services["intake"].url, services["capacity"].url, infra.bootstrap_servers,
                 TokenSource(issuer), topic_prefix=topic_prefix)
        )
        print(f"Seeded the demo area Geel-Laakdal-Meerhout: {counts}", flush=True)
        for name, service in services.items():
            health = httpx.get(f"{service.url}/healthz", timeout=5).json()["status"]
            print(f"  {name:<10} {service.url}  (health: {health}, API docs: {service.url}/docs)")
        intake, capacity = services["intake"].url, services["capacity"].url
        print("  Pages (Dutch; sign in with an account below):")
        for label, url in (
                ("Opvang aanvragen (no account needed)", f"{intake}/aanvraag"),
                ("Mijn aanvraag (ouder.an, or a family's personal link)",
                 f"{intake}/mijn-aanvraag"),
                ("Werklijst loket (balie.els)", f"{intake}/balie"),
                ("Mijn locaties (organisator.lies)", f"{capacity}/organisator"),
                ("Sluitingen (coordinator.jan)", f"{capacity}/crisis"),
                ("Registratiecijfers (gemeente.geel, opgroeien.kim)",
                 f"{services['reporting'].url}/")):
            print(f"    {label:<55} {url}")
        print(f"  Kafka: {infra.bootstrap_servers}   logs: {services['intake'].log_path.parent}")
        print(f"  Mail (SMTP sink): 127.0.0.1:{sink.port}")
        show_sign_in(issuer, services["intake"].url)
        show_mail(sink, mail_dir)
        print("Press Ctrl-C to stop.", flush=True)
        wait_for_stop_signal()
    finally:
        print("\nStopping services ...", flush=True)
        stop_all(services)
        sink.stop()
        if not kafka_was_up:
            stop_kafka()
        if not postgres_was_up:
            stop_postgres()
        if not keycloak_was_up:
            stop_keycloak()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    main()
