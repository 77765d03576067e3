"""A local single-node Kafka (KRaft) broker from Maven Central jars: no Docker needed.

Clients sign in with SASL/SCRAM-SHA-256 (one principal each, see
tools.infra.kafka_principals) on 127.0.0.1:9092, and StandardAuthorizer enforces the
ACLs of tools.infra.kafka_acls (applied by `ensure_namespace`): none, none allowed.
The SCRAM users are created when the storage is formatted; a data dir formatted
before (without them: an old PLAINTEXT checkout) is formatted again, and a running
broker started with other settings is restarted. The controller listener stays
PLAINTEXT on loopback; its principal (ANONYMOUS) is a super user for that reason only.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools.infra.kafka_principals import BROKER, SUPER_USERS, local_password, scram_arguments
from tools.infra.pids import live_pid, stop_started

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
POM = REPO_ROOT / "deploy/local/kafka/pom.xml"
KAFKA_DIR = REPO_ROOT / ".cache/kafka"
JARS_DIR = KAFKA_DIR / "jars"
DATA_DIR = KAFKA_DIR / "data"
SERVER_PROPERTIES = KAFKA_DIR / "server.properties"
LOG4J_CONFIG = KAFKA_DIR / "log4j2.properties"
SERVER_LOG = KAFKA_DIR / "logs/server.log"  # log4j INFO output
SERVER_OUT = KAFKA_DIR / "server.out"  # stdout/stderr: JVM crashes, WARN+ lines
MARKER = b"kafka.Kafka"  # in our process's command line
PID_FILE = KAFKA_DIR / "kafka.pid"
# Written after a format with the SCRAM users; its absence means an older data dir.
FORMAT_MARKER = DATA_DIR / "loket-format"
FORMAT_VERSION = "sasl-scram-1"
LOCAL_BOOTSTRAP = "127.0.0.1:9092"
CLUSTER_ID = "bG9rZXQtbG9jYWwtMDAwMQ"  # base64url("loket-local-0001"): fixed, so reruns agree
STORAGE_TOOL = "kafka.tools.StorageTool"  # lives in kafka_2.13-4.1.1.jar
READY_TIMEOUT_S = 90.0
STACK_FRAME = re.compile(r"\s+(at |\.\.\. \d+ more)")

SERVER_SETTINGS = f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
listeners=SASL_PLAINTEXT://{LOCAL_BOOTSTRAP},CONTROLLER://127.0.0.1:9093
controller.listener.names=CONTROLLER
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
advertised.listeners=SASL_PLAINTEXT://{LOCAL_BOOTSTRAP}
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required \
username="{BROKER}" password="{local_password(BROKER)}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users={";".join(f"User:{name}" for name in (*SUPER_USERS, "ANONYMOUS"))}
allow.everyone.if.no.acl.found=false
log.dirs={DATA_DIR}
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
"""

# INFO goes to a file for post-mortems; only WARN+ reaches server.out.
LOG4J_SETTINGS = f"""\
appender.file.type=File
appender.file.name=file
appender.file.fileName={SERVER_LOG}
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
appender.out.type=Console
appender.out.name=out
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
rootLogger.appenderRef.out.ref=out
rootLogger.appenderRef.out.level=WARN
"""


def require_executable(name: str, install_hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"'{name}' not found on PATH: install {install_hint}")
    return path


def tail(path: Path, lines: int = 25) -> str:
    """The last lines of a log, minus Java stack frames (the 'Caused by' lines say it all)."""
    if not path.exists():
        return f"({path} does not exist)"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join([t for t in text if not STACK_FRAME.match(t)][-lines:])


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Serialise concurrent `up`s (e.g. parallel test sessions) on one machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def broker_answers(bootstrap: str, timeout: float = 2.0) -> bool:
    """True if any bootstrap address answers a Kafka ApiVersions (v0) request."""
    request = struct.pack(">hhih", 18, 0, 1, 5) + b"probe"  # api key, version, corr. id, client
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout) as sock:
                sock.sendall(struct.pack(">i", len(request)) + request)
                header = sock.recv(10)  # size, correlation id, error code
        except (OSError, ValueError):
            continue
        if len(header) == 10 and struct.unpack(">iih", header)[1:] == (1, 0):
            return True
    return False


def running_broker_pid() -> int | None:
    """The pid of a broker we started that is still alive, if any."""
    return live_pid(PID_FILE, MARKER)


def _fetch_jars() -> None:
    if any(JARS_DIR.glob("kafka_2.13-*.jar")):
        return
    mvn = require_executable("mvn", "Maven (apt-get install -y maven)")
    # An absolute outputDirectory: Maven resolves relative ones against the pom's folder.
    subprocess.run(
        [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
         f"-DoutputDirectory={JARS_DIR}", "-DincludeScope=runtime"],
        check=True,
    )


def _start_broker(java: str) -> None:
    KAFKA_DIR.mkdir(parents=True, exist_ok=True)
    SERVER_PROPERTIES.write_text(SERVER_SETTINGS)
    LOG4J_CONFIG.write_text(LOG4J_SETTINGS)
    classpath = f"{JARS_DIR}/*"
    if (DATA_DIR / "meta.properties").exists() and not _formatted_with_users():
        log.warning("Kafka data in %s was formatted without SCRAM users (an older, "
                    "PLAINTEXT setup): formatting it again; its topics start empty", DATA_DIR)
        shutil.rmtree(DATA_DIR)
    if not (DATA_DIR / "meta.properties").exists():
        # Static controller.quorum.voters: 4.1 rejects --standalone/--initial-controllers here.
        formatted = subprocess.run(
            [java, "-cp", classpath, STORAGE_TOOL, "format",
             "-t", CLUSTER_ID, "-c", str(SERVER_PROPERTIES), *scram_arguments()],
            capture_output=True, text=True,
        )
        if formatted.returncode != 0:
            output = formatted.stdout + formatted.stderr
            raise RuntimeError(f"formatting Kafka storage in {DATA_DIR} failed:\n{output}")
        FORMAT_MARKER.write_text(FORMAT_VERSION)
    with SERVER_OUT.open("wb") as out:  # fresh per start, so its tail is about this run
        process = subprocess.Popen(
            [java, "-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
             f"-Dlog4j2.configurationFile={LOG4J_CONFIG}", f"-Dkafka.logs.dir={SERVER_LOG.parent}",
             "-cp", classpath, "kafka.Kafka", str(SERVER_PROPERTIES)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # survives our exit and Ctrl-C in the caller's terminal
        )
    PID_FILE.write_text(str(process.pid))
    # Reap it if it dies while we run, and keep Popen from warning that it outlived us.
    threading.Thread(target=process.wait, daemon=True).start()


def _formatted_with_users() -> bool:
    try:
        return FORMAT_MARKER.read_text().strip() == FORMAT_VERSION
    except OSError:
        return False


def _outdated_broker_running() -> bool:
    """Our broker runs, but was started with other settings (say, still PLAINTEXT)."""
    if running_broker_pid() is None:
        return False
    try:
        return SERVER_PROPERTIES.read_text() != SERVER_SETTINGS or not _formatted_with_users()
    except OSError:
        return True


def wait_for_broker(bootstrap: str, timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not broker_answers(bootstrap):
        ours = bootstrap == LOCAL_BOOTSTRAP and PID_FILE.exists()
        if ours and running_broker_pid() is None:
            raise RuntimeError(f"Kafka exited on startup; see {SERVER_OUT}:\n{tail(SERVER_OUT)}")
        if time.monotonic() > deadline:
            logs = f"; see {SERVER_LOG} and {SERVER_OUT}:\n{tail(SERVER_LOG)}" if ours else ""
            raise RuntimeError(f"Kafka at {bootstrap} not reachable after {timeout:.0f}s{logs}")
        time.sleep(0.5)


def ensure_kafka() -> str:
    """Return a reachable bootstrap string, starting a local broker if there is none."""
    if external := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        wait_for_broker(external)
        return external
    with file_lock(KAFKA_DIR / ".lock"):
        if _outdated_broker_running():
            log.warning("restarting the local Kafka broker: it runs with older settings "
                        "(before SASL/SCRAM and ACLs)")
            stop_kafka()
        if not broker_answers(LOCAL_BOOTSTRAP) and running_broker_pid() is None:
            java = require_executable("java", "a Java 17+ runtime (openjdk-17-jre-headless)")
            _fetch_jars()
            _start_broker(java)
        wait_for_broker(LOCAL_BOOTSTRAP)
    return LOCAL_BOOTSTRAP


def stop_kafka(timeout: float = 30.0) -> bool:
    """Stop the broker this tooling started; False if there was none."""
    return stop_started(PID_FILE, MARKER, timeout)
