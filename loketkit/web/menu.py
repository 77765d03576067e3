"""One menu across the services' pages: what a caller's role can open, wherever it lives.
The paths are each service's page routes; the base URLs come from SERVICE_URLS."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from loketkit.auth import Caller, Role

# (service, path, label, roles that see it)
PAGES: Sequence[tuple[str, str, str, frozenset[Role]]] = (
    ("intake", "/aanvraag", "Opvang aanvragen", frozenset()),
    ("intake", "/mijn-aanvraag", "Mijn aanvraag", frozenset()),
    ("intake", "/balie", "Werklijst", frozenset({Role.LOKET_STAFF, Role.COORDINATOR})),
    ("intake", "/balie/aanvragen", "Aanvragen zoeken",
     frozenset({Role.LOKET_STAFF, Role.COORDINATOR})),
    ("intake", "/balie/aanvragen/nieuw", "Aanvraag voor een gezin",
     frozenset({Role.LOKET_STAFF})),
    ("capacity", "/organisator", "Mijn locaties", frozenset({Role.ORGANISER})),
    ("capacity", "/crisis", "Sluitingen", frozenset({Role.COORDINATOR})),
    ("reporting", "/", "Cijfers", frozenset({
        Role.MUNICIPALITY, Role.OPGROEIEN, Role.LOKET_STAFF, Role.COORDINATOR,
        Role.LOKET_ADMIN})),
)


def menu_for(caller: Caller | None, links: Mapping[str, str], here: str
             ) -> list[tuple[str, str]]:
    """(href, label) for each page the caller may open: a path on this service (`here`),
    a full URL on another. Not signed in: only what anyone may open."""
    found = []
    for service, path, label, roles in PAGES:
        if roles and (caller is None or not caller.roles & roles):
            continue
        if not roles and caller is not None and not caller.acts_as(Role.PARENT):
            continue  # registering a family is the staff's own page
        found.append((path if service == here else f"{links.get(service, '')}{path}", label))
    return found
