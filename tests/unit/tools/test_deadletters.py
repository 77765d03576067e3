"""tools.deadletters without a broker: its command line, the list line, what a replay sends."""

from __future__ import annotations

import pytest

from tools.deadletters.__main__ import DEFAULT_BOOTSTRAP, build_parser, main
from tools.deadletters.letters import DeadLetter, Filters, Position, check_replayable

SECRET = b'{"first_name":"Secret-Name"}'


def letter(partition: int = 1, offset: int = 7, **headers: str) -> DeadLetter:
    base = {
        "ce_type": "be.loket.PlaceFreed.v1", "ce_id": "ev-1", "ce_source": "/org/1",
        "content-type": "application/json", "correlation_id": "added-by-faststream",
        "dlq_reason": "data.place_id: field required\n(second line)", "dlq_service": "capacity",
        "dlq_original_topic": "acc.loket.capacity.inbound.v1", "dlq_original_partition": "3",
        "dlq_original_offset": "1042", "dlq_attempts": "0", "dlq_reason_kind": "malformed",
    }
    base.update(headers)
    return DeadLetter(Position(partition, offset), 1_767_225_600_000, b"kempen-gml", SECRET,
                      tuple((name, value.encode()) for name, value in base.items()))


@pytest.fixture(autouse=True)
def no_kafka_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("KAFKA_TOPIC_PREFIX", raising=False)


def test_the_line_says_where_when_who_what_and_why_but_never_the_value() -> None:
    line = letter().line()
    assert line.startswith("1:7  2026-01-01T00:00:00Z  capacity  ")
    assert "acc.loket.capacity.inbound.v1[3]@1042" in line
    assert "be.loket.PlaceFreed.v1" in line
    assert "data.place_id: field required (second line)" in line
    assert line.endswith("attempts=0")
    assert "Secret-Name" not in line and "\n" not in line


def test_a_replay_sends_the_original_headers_only() -> None:
    names = [name for name, _ in letter().replay_headers()]
    assert names == ["ce_type", "ce_id", "ce_source", "content-type"]


def test_filters_match_service_reason_and_topic_with_or_without_the_prefix() -> None:
    one = letter()
    assert Filters().match(one)
    assert Filters(service="capacity").match(one)
    assert not Filters(service="intake").match(one)
    assert Filters(reason_contains="FIELD REQUIRED").match(one)
    assert not Filters(reason_contains="timeout").match(one)
    assert Filters(topic="acc.loket.capacity.inbound.v1").match(one)
    assert Filters(topic="loket.capacity.inbound.v1", topic_prefix="acc.").match(one)
    assert not Filters(topic="loket.capacity.inbound.v1").match(one)


def test_a_dead_letter_without_its_value_or_origin_cannot_be_replayed() -> None:
    assert check_replayable([letter()]) == []
    [omitted] = check_replayable([letter(dlq_value_omitted="true")])
    assert omitted.startswith("1:7: ") and "acc.loket.capacity.inbound.v1" in omitted
    [foreign] = check_replayable([letter(dlq_original_topic="")])
    assert "dlq_original_topic" in foreign


@pytest.mark.parametrize("text", ["0:42", "12:0"])
def test_positions_parse(text: str) -> None:
    assert str(Position.parse(text)) == text


@pytest.mark.parametrize("argv", [
    [],
    ["replay"],  # neither positions nor --all
    ["replay", "0:1", "--all"],  # both
    ["replay", "0:1", "--service", "intake"],  # filters go with --all
    ["replay", "zero:1"],
    ["replay", "0:-1"],
    ["replay", "0"],
    ["list", "--limit", "0"],
    ["list", "--limit", "many"],
    ["purge"],
])
def test_bad_input_exits_non_zero_with_a_message(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_connection_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    args = build_parser().parse_args(["list"])
    assert (args.bootstrap, args.topic_prefix) == (DEFAULT_BOOTSTRAP, "")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "acc.")
    args = build_parser().parse_args(["replay", "--all", "--dry-run"])
    assert (args.bootstrap, args.topic_prefix, args.all, args.dry_run) == (
        "kafka:9092", "acc.", True, True)


def test_help_says_a_replay_is_harmless_to_repeat(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["replay", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "Harmless to repeat" in help_text and "source and id" in help_text


def test_an_unreachable_broker_is_a_clear_failure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--bootstrap", "127.0.0.1:1"]) == 1
    assert "127.0.0.1:1" in capsys.readouterr().err
