"""What the staff pages show, worked out from the requests (pure, no I/O): the Dutch
words for states, the worklist's sections and the search over the area's requests."""

from __future__ import annotations

import csv
import functools
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.intake.adapters.postcodes import POSTCODES
from services.intake.domain.model import Offer, OfferStatus, Request, Status

STATUS = {
    Status.WAITING: "Wacht op een plaats",
    Status.PLACED: "Geplaatst",
    Status.WITHDRAWN: "Ingetrokken",
    Status.EXPIRED: "Vervallen (niet bevestigd)",
    Status.REPLACED: "Vervangen na een sluiting",
}
CHOICE = {
    "waiting": "Wacht",
    "offered": "Aanbod gedaan",
    "accepted": "Aanvaard door het gezin, wacht op de organisator",
    "declined": "Geweigerd door het gezin",
    "refused": "Geweigerd door de organisator",
    "expired": "Aanbod vervallen",
    "placed": "Geplaatst",
    "closed": "Afgesloten",
}
OFFER = {
    OfferStatus.OPEN: "Open: wacht op het antwoord van het gezin",
    OfferStatus.ACCEPTED: "Aanvaard door het gezin: wacht op de organisator",
    OfferStatus.DECLINED: "Geweigerd door het gezin",
    OfferStatus.EXPIRED: "Vervallen: het gezin antwoordde niet op tijd",
    OfferStatus.REFUSED: "Geweigerd door de organisator",
    OfferStatus.CANCELLED: "Geannuleerd",
    OfferStatus.PLACED: "Geplaatst",
}
URGENCY_STATUS = {
    "none": "Niet gevraagd",
    "asked": "Gevraagd door het gezin: het loket beslist nog",
    "granted": "Toegekend door het loket",
    "refused": "Geweigerd door het loket",
}
URGENCY = {"normal": "gewoon", "urgent": "dringend", "crisis": "crisis (na een sluiting)"}
REASONS = {
    "place_withdrawn": "de plaats is niet meer vrij",
    "location_closed": "de locatie sluit",
    "request_withdrawn": "de aanvraag is ingetrokken",
    "request_expired": "de aanvraag is vervallen",
    "request_updated": "de aanvraag is gewijzigd",
    "placed_elsewhere": "het kind is elders geplaatst",
    "accepted_other_offer": "het gezin aanvaardde een ander aanbod",
    "age_group_full": "de leeftijdsgroep is vol",
    "day_parts_not_available": "de dagdelen zijn niet beschikbaar",
    "care_need_not_met": "de locatie kan de zorgnood niet opvangen",
    "other": "een andere reden",
}
FIT = {"full": "alle gevraagde dagdelen", "partial": "een deel van de gevraagde dagdelen"}
ANSWERED_BY = {"family": "het gezin", "loket_staff": "het loket, voor het gezin"}
ACTOR = {"family": "het gezin", "loket_staff": "het loket"}
PRIORITY = (
    ("parents_working_or_training", "De ouders werken, zoeken werk, volgen een opleiding "
     "of inburgering"),
    ("works_at_least_four_fifths", "De ouders werken of leren gemiddeld minstens 4/5"),
    ("single_parent", "Alleenstaande ouder"),
    ("low_income", "Laag inkomen"),
    ("foster_child", "Pleegkind"),
)
AUDIT = {
    "assessed": "Beoordeeld (kwetsbaarheid)",
    "assessed_urgency_granted": "Beoordeeld: dringendheid toegekend",
    "assessed_urgency_refused": "Beoordeeld: dringendheid geweigerd",
    "offer_accepted": "Aanbod aanvaard",
    "offer_declined": "Aanbod geweigerd",
    "urgency_granted_on_import": "Dringend bij de import van de wachtlijst",
}
RECENT = 50  # an empty search shows this many of the most recent requests


def label(words: Mapping[str, str], value: object) -> str:
    return words.get(str(value), str(value))


@dataclass(frozen=True)
class Row:
    """One line of a worklist section: a request, and the offer the line is about."""

    request: Request
    offer: Offer | None = None


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    explanation: str
    rows: list[Row] = field(default_factory=list)


def _holds_offer(request: Request) -> bool:
    return any(offer.status in (OfferStatus.OPEN, OfferStatus.ACCEPTED)
               for offer in request.offers)


def _offer_rows(requests: Iterable[Request], wanted: Callable[[Request, Offer], bool],
                due: Callable[[Offer], datetime]) -> list[Row]:
    found = [(due(offer), request.request_id, Row(request, offer))
             for request in requests for offer in request.offers if wanted(request, offer)]
    return [row for *_, row in sorted(found, key=lambda item: item[:2])]


def worklist(requests: list[Request], now: datetime) -> list[Section]:
    """The loket's to-do list, in the order staff act on it; a request may be in several
    sections. Only open requests with the family's data (not erased) count."""
    found = [r for r in requests if r.is_open and r.erased_at is None]
    waiting = [r for r in found if r.status is Status.WAITING]
    return [
        Section("organisator-te-laat", "Aanvaard, maar de organisator antwoordt niet op tijd",
                "Het gezin aanvaardde het aanbod; de termijn van de organisator om te "
                "antwoorden is voorbij. Neem contact op met de organisator.",
                _offer_rows(found, lambda _, o: o.status is OfferStatus.ACCEPTED
                            and o.organiser_answer_due <= now,
                            lambda o: o.organiser_answer_due)),
        Section("dringend-zonder-aanbod", "Dringend, nog zonder aanbod",
                "Dringendheid toegekend (of een crisisaanvraag na een sluiting), niet "
                "geplaatst en zonder open of aanvaard aanbod.",
                [Row(r) for r in waiting if (r.urgent or r.urgency == "crisis")
                 and not _holds_offer(r) and r.placement() is None]),
        Section("dringendheid-gevraagd", "Het gezin vraagt dringendheid",
                "Beslis over de dringendheid (toekennen of weigeren, met een reden).",
                [Row(r) for r in found if r.urgency_status == "asked"]),
        Section("te-bevestigen", "Gevraagd te bevestigen, nog niet bevestigd",
                "Zonder bevestiging vervalt de aanvraag. Bel gezinnen die het moeilijk "
                "hebben met e-mail.",
                sorted((Row(r) for r in waiting if r.confirmation_asked_at is not None),
                       key=lambda row: row.request.confirmation_asked_at or now)),
        Section("zonder-email", "Zonder e-mail, met een open aanbod",
                "Het gezin krijgt geen e-mail: het loket laat het aanbod weten en "
                "antwoordt voor het gezin.",
                _offer_rows(found, lambda r, o: r.contact.email is None
                            and o.status is OfferStatus.OPEN,
                            lambda o: o.family_answer_due)),
        Section("na-sluiting", "Na een sluiting zonder locatie",
                "Een sluiting liet geen open locatie over in het werkingsgebied: zoek "
                "samen met het gezin een oplossing.",
                [Row(r) for r in found if r.needs_loket_for_closure_id is not None]),
    ]


def _folded(text: str) -> str:
    """Lower case without accents: "Hélène" is found by "helene"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@functools.cache
def postcode_names() -> Mapping[str, str]:
    """postcode -> its place names, from the reference file intake ships."""
    names: dict[str, list[str]] = {}
    with POSTCODES.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            names.setdefault(row["postcode"], []).append(row["name"])
    return {postcode: ", ".join(found) for postcode, found in names.items()}


def place_of(postcode: str) -> str:
    return postcode_names().get(postcode, "")


def _haystack(request: Request) -> str:
    child, contact = request.child, request.contact
    return _folded(" ".join((
        request.request_id, child.first_name, child.last_name, contact.parent_name,
        contact.postcode, place_of(contact.postcode), request.municipality_nis,
        request.status.value, STATUS[request.status])))


def search(requests: Iterable[Request], query: str) -> list[Request]:
    """The requests that hold every word of `query` (names, request id, postcode or place,
    NIS code, status), most recent first."""
    words = _folded(query).split()
    found = [r for r in requests if all(word in _haystack(r) for word in words)]
    return sorted(found, key=lambda r: (r.submitted_at, r.request_id), reverse=True)
