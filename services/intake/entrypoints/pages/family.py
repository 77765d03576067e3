"""Intake's pages for families, in Dutch, working without JavaScript:

- `/aanvraag`: register a request (anonymous or signed in as a parent); the same form
  serves loket staff at `/balie/aanvragen/nieuw` (`family_register`);
- `/mijn-aanvraag`: a parent's requests, or the family's personal link opened; the
  status page per request with the answers to offers, confirming and withdrawing
  (`family_follow`), and changing a waiting request (`family_change`).

Pages call intake's own command bus and views, with the API's schemas and access rules.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.intake.entrypoints.pages import family_change, family_follow, family_register

router = APIRouter(include_in_schema=False)
router.include_router(family_register.router)
router.include_router(family_follow.router)
router.include_router(family_change.router)
