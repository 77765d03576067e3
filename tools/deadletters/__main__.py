"""`python -m tools.deadletters list|replay`: see the dead-letter topic, and send chosen
messages back to their original topic once the cause is fixed."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from aiokafka.errors import KafkaError

from contracts.topics import DEAD_LETTER
from loketkit.kafka_security import KafkaSecurity
from tools.deadletters.letters import (
    DeadLetter,
    DeadLetterError,
    Filters,
    Position,
    check_replayable,
    read_all,
    read_at,
    replay,
)
from tools.infra.kafka_principals import OPERATOR, from_env_or

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


def operator() -> KafkaSecurity:
    """Signed in as the operator principal, allowed to read the dead-letter topic and
    write back to the original topics: KAFKA_SECURITY_PROTOCOL, KAFKA_USERNAME,
    KAFKA_PASSWORD when set, else the local broker's `operator`."""
    return from_env_or(OPERATOR)

DESCRIPTION = f"""\
The dead-letter topic ({DEAD_LETTER.name}, under $KAFKA_TOPIC_PREFIX) holds the messages no
service could handle, each with the original key, value and headers, and dlq_* headers
saying which service gave up, why, after how many attempts, and the original topic,
partition and offset. Signs in as the operator principal ($KAFKA_SECURITY_PROTOCOL,
$KAFKA_USERNAME, $KAFKA_PASSWORD; locally the broker's `operator`), whose ACLs allow
reading dead letters and writing to the original topics.

  list    one line per dead letter: its PARTITION:OFFSET, time, service,
          original topic[partition]@offset, event type (ce_type), reason, attempts.
          Never the value: it may hold personal data.
  replay  publish chosen dead letters again to their original topic, with the original
          key, value and headers (without the dlq_* headers), acks=all, in the order given.

Replaying is safe to repeat: consumers drop an event they already applied (same
CloudEvents source and id), so a message replayed twice, or one that was in fact applied,
changes nothing. Fix the cause first (a deployed fix, a location registered), or the
message comes back to the dead-letter topic. Replaying does not remove anything from the
dead-letter topic (it expires after its retention)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.deadletters", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or DEFAULT_BOOTSTRAP,
        metavar="HOST:PORT[,...]",
        help=f"Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS, else "
             f"{DEFAULT_BOOTSTRAP})",
    )
    connection.add_argument(
        "--topic-prefix", default=os.environ.get("KAFKA_TOPIC_PREFIX", ""), metavar="PREFIX",
        help="the services' KAFKA_TOPIC_PREFIX (default: $KAFKA_TOPIC_PREFIX, else none)",
    )
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--service", metavar="NAME",
                         help="only dead letters from this service (intake, capacity, ...)")
    filters.add_argument("--reason-contains", metavar="TEXT",
                         help="only those whose reason contains TEXT (any case)")
    filters.add_argument("--topic", metavar="TOPIC",
                         help="only those from this original topic (with or without the prefix)")
    filters.add_argument("--limit", type=positive_int, metavar="N",
                         help="at most N dead letters, the oldest first")

    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "list", parents=[connection, filters], help="show the dead letters, one line each",
        description="One line per dead letter, oldest first; never the value.",
    )
    replaying = commands.add_parser(
        "replay", parents=[connection, filters],
        help="publish chosen dead letters again to their original topic",
        description="Publish the dead letters at PARTITION:OFFSET (as `list` shows them), or "
                    "with --all every one matching the filters, to their original topic with "
                    "the original key, value and headers (minus dlq_*), acks=all. Harmless to "
                    "repeat: consumers drop events they already applied (CloudEvents source "
                    "and id).",
    )
    replaying.add_argument("positions", nargs="*", type=position, metavar="PARTITION:OFFSET",
                           help="dead letters to replay, e.g. 0:42 2:7")
    replaying.add_argument("--all", action="store_true",
                           help="replay every dead letter matching the filters")
    replaying.add_argument("--dry-run", action="store_true",
                           help="show what would be replayed, publish nothing")
    return parser


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def position(text: str) -> Position:
    try:
        return Position.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "replay":
        chosen_by_filter = any(getattr(args, name) is not None
                               for name in ("service", "reason_contains", "topic", "limit"))
        if args.all == bool(args.positions):
            parser.error("replay: give PARTITION:OFFSET positions or --all, not both or neither")
        if args.positions and chosen_by_filter:
            parser.error("replay: filters go with --all; positions name their messages already")
    topic = f"{args.topic_prefix}{DEAD_LETTER.name}"
    try:
        if args.command == "list":
            return list_letters(args, topic)
        return replay_letters(args, topic)
    except DeadLetterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (KafkaError, OSError) as error:
        print(f"error: Kafka at {args.bootstrap}: {type(error).__name__}: {error}",
              file=sys.stderr)
        return 1


def filters_of(args: argparse.Namespace) -> Filters:
    return Filters(args.service, args.reason_contains, args.topic, args.topic_prefix)


def list_letters(args: argparse.Namespace, topic: str) -> int:
    letters = asyncio.run(read_all(args.bootstrap, topic, filters_of(args), args.limit,
                                   operator()))
    for letter in letters:
        print(letter.line())
    print(f"{len(letters)} dead letter(s) in {topic}", file=sys.stderr)
    return 0


def replay_letters(args: argparse.Namespace, topic: str) -> int:
    letters: list[DeadLetter]
    if args.all:
        letters = asyncio.run(read_all(args.bootstrap, topic, filters_of(args), args.limit,
                                   operator()))
    else:
        letters = asyncio.run(read_at(args.bootstrap, topic, args.positions, operator()))
    problems = check_replayable(letters)
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        print("nothing replayed", file=sys.stderr)
        return 1
    if args.dry_run:
        for letter in letters:
            print(f"would replay {letter.position} -> {letter.original_topic} "
                  f"({letter.header('ce_type', 'no ce_type')}, {len(letter.value or b'')} bytes)")
        print(f"dry run: {len(letters)} dead letter(s), nothing published", file=sys.stderr)
        return 0
    for done in asyncio.run(replay(args.bootstrap, letters, operator())):
        print(f"replayed {done.letter.position} -> {done.letter.original_topic}"
              f"[{done.partition}]@{done.offset}")
    print(f"{len(letters)} dead letter(s) replayed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
