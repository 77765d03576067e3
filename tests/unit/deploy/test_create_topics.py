"""tools.infra.create_topics: its command line, and a clear failure without a broker."""

from __future__ import annotations

import pytest

from contracts.topics import TOPICS, with_prefix
from tools.infra import create_topics


@pytest.fixture(autouse=True)
def no_bootstrap_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("KAFKA_TOPIC_PREFIX", raising=False)


def test_parses_the_bootstrap_and_defaults() -> None:
    args = create_topics.build_parser().parse_args(["--bootstrap", "kafka:9092"])
    assert args.bootstrap == "kafka:9092"
    assert args.replication_factor == 1
    assert args.min_insync_replicas is None
    assert args.topic_prefix == ""
    assert args.timeout == create_topics.DEFAULT_TIMEOUT_S


def test_parses_every_option() -> None:
    args = create_topics.build_parser().parse_args([
        "--bootstrap", "k1:9092,k2:9092", "--replication-factor", "3",
        "--min-insync-replicas", "2", "--timeout", "7.5", "--topic-prefix", "acc.",
    ])
    assert (args.bootstrap, args.replication_factor, args.min_insync_replicas, args.timeout,
            args.topic_prefix) == ("k1:9092,k2:9092", 3, 2, 7.5, "acc.")


def test_bootstrap_is_required_unless_the_environment_names_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SystemExit):
        create_topics.build_parser().parse_args([])
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    assert create_topics.build_parser().parse_args([]).bootstrap == "kafka:9092"


@pytest.mark.parametrize("option", ["--replication-factor", "--min-insync-replicas"])
def test_rejects_counts_below_one(option: str) -> None:
    with pytest.raises(SystemExit):
        create_topics.build_parser().parse_args(["--bootstrap", "kafka:9092", option, "0"])


def test_topic_prefix_defaults_to_the_services_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "shared.")
    args = create_topics.build_parser().parse_args(["--bootstrap", "kafka:9092"])
    assert args.topic_prefix == "shared."
    topics = create_topics.declared_topics(None, args.topic_prefix)
    assert topics == with_prefix("shared.")
    assert {t.name for t in topics} == {f"shared.{t.name}" for t in TOPICS}


def test_min_insync_replicas_is_added_to_every_topic_config() -> None:
    assert create_topics.declared_topics(None) == TOPICS
    topics = create_topics.declared_topics(2)
    assert [t.name for t in topics] == [t.name for t in TOPICS]
    for declared, adjusted in zip(TOPICS, topics, strict=True):
        assert adjusted.config == {**declared.config, "min.insync.replicas": "2"}
        assert adjusted.partitions == declared.partitions


def test_fails_with_a_message_when_no_broker_answers(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 1 refuses connections: the wait gives up after the timeout, exit code 1.
    assert create_topics.main(["--bootstrap", "127.0.0.1:1", "--timeout", "0.2"]) == 1
    assert "127.0.0.1:1 not reachable" in capsys.readouterr().err
