"""KafkaSecurity: one identity, in the shapes FastStream, aiokafka and librdkafka want."""

from __future__ import annotations

import pytest
from faststream.security import SASLScram256, SASLScram512
from pydantic import SecretStr

from loketkit.kafka_security import PLAINTEXT, KafkaSecurity
from loketkit.settings import ServiceSettings

SCRAM = KafkaSecurity("SASL_PLAINTEXT", "SCRAM-SHA-256", "capacity", "capacity-secret")


def test_from_settings_signs_in_as_the_services_principal() -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_username="capacity", kafka_password=SecretStr("capacity-secret"))
    assert KafkaSecurity.from_settings(settings) == SCRAM
    assert SCRAM.principal == "User:capacity"


def test_plaintext_is_the_default_and_asks_nothing() -> None:
    assert KafkaSecurity.from_settings(ServiceSettings()) == PLAINTEXT
    assert PLAINTEXT.faststream() is None
    assert PLAINTEXT.aiokafka() == {"security_protocol": "PLAINTEXT"}
    assert PLAINTEXT.principal == "User:ANONYMOUS"


def test_the_client_shapes() -> None:
    assert SCRAM.aiokafka() == {
        "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "capacity", "sasl_plain_password": "capacity-secret"}
    faststream = SCRAM.faststream()
    assert isinstance(faststream, SASLScram256) and not faststream.use_ssl
    assert (faststream.username, faststream.password) == ("capacity", "capacity-secret")
    assert SCRAM.confluent()["sasl.username"] == "capacity"
    assert SCRAM.env() == {
        "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
        "KAFKA_USERNAME": "capacity", "KAFKA_PASSWORD": "capacity-secret"}
    assert KafkaSecurity.from_env(SCRAM.env()) == SCRAM


def test_sasl_ssl_and_sha_512() -> None:
    secure = KafkaSecurity("SASL_SSL", "SCRAM-SHA-512", "intake", "s")
    assert isinstance(secure.faststream(), SASLScram512)
    assert secure.aiokafka()["security_protocol"] == "SASL_SSL"
    assert "ssl_context" in secure.aiokafka()


def test_the_password_stays_out_of_repr() -> None:
    assert "capacity-secret" not in repr(SCRAM)


@pytest.mark.parametrize(("protocol", "mechanism", "username", "password"), [
    ("SSL", "SCRAM-SHA-256", None, None),
    ("SASL_PLAINTEXT", "PLAIN", "a", "b"),
    ("SASL_PLAINTEXT", "SCRAM-SHA-256", None, "b"),
    ("SASL_PLAINTEXT", "SCRAM-SHA-256", "a", None),
])
def test_incomplete_or_unknown_settings_are_refused(
    protocol: str, mechanism: str, username: str | None, password: str | None
) -> None:
    with pytest.raises(ValueError):
        KafkaSecurity(protocol, mechanism, username, password)
