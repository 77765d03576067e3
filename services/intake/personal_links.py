"""Personal links: how a family without an account follows and changes its own request.

A link is a signed token (HS256 with PERSONAL_LINK_KEY, which never leaves intake)
naming one request and one link id, expiring after PERSONAL_LINK_DAYS. It is sent
with the registration's confirmation mail (and returned once to whoever registered),
or handed over anew by loket staff, which revokes the earlier ones. The family
revokes it too. Intake keeps a row per link, so a revoked link stops working at once
although its signature is still good. The token goes in the `X-Personal-Link`
header; it opens that one request and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

AUDIENCE = "loket-personal-link"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class PersonalLink:
    link_id: str
    request_id: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


def new_link(link_id: str, request_id: str, now: datetime, days: int) -> PersonalLink:
    return PersonalLink(link_id, request_id, now, now + timedelta(days=days))


def sign(link: PersonalLink, key: str) -> str:
    return jwt.encode({"sub": link.request_id, "jti": link.link_id, "aud": AUDIENCE,
                       "iat": int(link.issued_at.timestamp()),
                       "exp": int(link.expires_at.timestamp())}, key, algorithm=ALGORITHM)


def read(token: str, key: str) -> tuple[str, str]:
    """(request id, link id) of a token signed with `key`; raises jwt.InvalidTokenError
    for anything else (forged, expired, not a personal link)."""
    claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=AUDIENCE,
                        options={"require": ["sub", "jti", "exp"]})
    return str(claims["sub"]), str(claims["jti"])
