"""A request as its family reads it: the state of each choice and of each offer in
plain Dutch, which offers it can still answer, and what it can do next."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from loketkit.dutch import date_in_dutch, day_parts_in_dutch, moment_in_dutch
from services.intake.domain.model import ChoiceState, Offer, OfferStatus, Request, Status

REQUEST_WORDS = {
    Status.WAITING: ("Loopt: we zoeken een plaats", ""),
    Status.PLACED: ("Geplaatst", "good"),
    Status.WITHDRAWN: ("Ingetrokken", ""),
    Status.EXPIRED: ("Vervallen: niet op tijd bevestigd", ""),
    Status.REPLACED: ("Vervangen door een nieuwe aanvraag (na de sluiting van een opvang)", ""),
}
CHOICE_WORDS = {
    ChoiceState.WAITING: ("Wachten op een plaats", ""),
    ChoiceState.OFFERED: ("Aanbod: antwoord vóór {due}", "attention"),
    ChoiceState.ACCEPTED: ("Aanvaard, wachten op de opvang: die beslist nu over de opname",
                           "good"),
    ChoiceState.DECLINED: ("Geweigerd door jou", ""),
    ChoiceState.REFUSED: ("De opvang kon je kind niet opnemen", ""),
    ChoiceState.EXPIRED: ("Aanbod vervallen: geen antwoord op tijd", ""),
    ChoiceState.PLACED: ("Geplaatst", "good"),
    ChoiceState.CLOSED: ("Afgesloten: hier wacht je niet meer", ""),
}
OFFER_WORDS = {
    OfferStatus.OPEN: "Open: antwoord vóór {due}",
    OfferStatus.ACCEPTED: "Aanvaard, wachten op de opvang: die beslist nu over de opname",
    OfferStatus.DECLINED: "Geweigerd door jou",
    OfferStatus.EXPIRED: "Vervallen: geen antwoord op tijd",
    OfferStatus.REFUSED: "De opvang kon je kind niet opnemen",
    OfferStatus.CANCELLED: "Geannuleerd",
    OfferStatus.PLACED: "Geplaatst",
}
REFUSALS = {
    "age_group_full": "de leeftijdsgroep is vol",
    "day_parts_not_available": "de dagdelen zijn er niet vrij",
    "care_need_not_met": "de opvang kan niet de zorg geven die je kind nodig heeft",
    "other": "een andere reden",
}
CANCELS = {
    "place_withdrawn": "de opvang heeft de plaats niet meer",
    "location_closed": "de opvang sluit",
    "request_withdrawn": "je trok je aanvraag in",
    "request_expired": "je aanvraag is vervallen",
    "request_updated": "je wijzigde je aanvraag",
    "placed_elsewhere": "je kind is elders geplaatst",
    "accepted_other_offer": "je aanvaardde een ander aanbod",
}
URGENCY_WORDS = {
    "asked": "Je vroeg om dringende opvang. Het loket bekijkt je vraag en beslist.",
    "granted": "Het loket besliste: je aanvraag is dringend.",
    "refused": "Het loket besliste: je aanvraag is niet dringend.",
}


@dataclass(frozen=True)
class ChoiceLine:
    rank: int
    name: str
    state: str
    tone: str
    by_distance: bool


@dataclass(frozen=True)
class OfferCard:
    match_id: str
    name: str
    start_date: str
    day_parts: str
    partial: bool
    status: str
    reason: str | None
    due: str
    answerable: bool
    may_keep_waiting: bool
    keep_waiting: bool
    why: str
    rule_set: str | None


@dataclass(frozen=True)
class StatusView:
    request: Request
    status: str
    tone: str
    choices: list[ChoiceLine]
    offers: list[OfferCard]
    placement: str | None
    urgency: str | None
    waiting: bool
    asked_to_confirm: bool


def _offer_reason(offer: Offer) -> str | None:
    if offer.status is OfferStatus.REFUSED and offer.refusal_reason:
        return f"Reden: {REFUSALS.get(offer.refusal_reason, REFUSALS['other'])}."
    if offer.status is OfferStatus.CANCELLED and offer.cancel_reason:
        return f"Reden: {CANCELS.get(offer.cancel_reason, offer.cancel_reason)}."
    if offer.status is OfferStatus.ACCEPTED and offer.keep_waiting_for_higher_choices:
        return "Je blijft ook wachten op je hogere keuzes."
    return None


def _higher_choices_waiting(request: Request, offer: Offer,
                            states: Mapping[str, ChoiceState]) -> bool:
    ranked = list(request.preferred_location_ids)
    if offer.location_id not in ranked:
        return False
    higher = ranked[:ranked.index(offer.location_id)]
    return any(states.get(loc) in (ChoiceState.WAITING, ChoiceState.OFFERED) for loc in higher)


def present(request: Request, names: Mapping[str, str], now: datetime) -> StatusView:
    """The status page's content for one request, at `now` (deadlines pass)."""
    states = request.choice_states()
    latest: dict[str, Offer] = {}
    for offer in sorted(request.offers, key=lambda offer: offer.proposed_at):
        latest[offer.location_id] = offer
    choices = []
    for rank, (location_id, state) in enumerate(states.items(), start=1):
        words, tone = CHOICE_WORDS[state]
        due = latest[location_id].family_answer_due if location_id in latest else None
        choices.append(ChoiceLine(
            rank, names.get(location_id, location_id),
            words.format(due=moment_in_dutch(due) if due else ""), tone,
            location_id in request.distance_location_ids))
    offers = []
    for offer in sorted(request.offers, key=lambda offer: offer.proposed_at, reverse=True):
        if not offer.proposal_read:
            continue  # known only from its end: nothing to show yet
        answerable = (offer.status is OfferStatus.OPEN and now < offer.family_answer_due
                      and request.is_open)
        offers.append(OfferCard(
            match_id=offer.match_id, name=names.get(offer.location_id, offer.location_id),
            start_date=date_in_dutch(offer.start_date),
            # the day-parts the child would come: what the family asked that the place has
            day_parts=day_parts_in_dutch(
                [part for part in offer.day_parts if part in request.day_parts]
                or offer.day_parts),
            partial=offer.fit == "partial",
            status=OFFER_WORDS[offer.status].format(due=moment_in_dutch(
                offer.family_answer_due)),
            reason=_offer_reason(offer), due=moment_in_dutch(offer.family_answer_due),
            answerable=answerable,
            may_keep_waiting=answerable and _higher_choices_waiting(request, offer, states),
            keep_waiting=offer.keep_waiting_for_higher_choices,
            why=offer.why, rule_set=offer.rule_set))
    placed = request.placement()
    placement = (f"{names.get(placed.location_id, placed.location_id)}, vanaf "
                 f"{date_in_dutch(placed.start_date)}: {day_parts_in_dutch(placed.day_parts)}"
                 if placed else None)
    status, tone = REQUEST_WORDS[request.status]
    return StatusView(
        request=request, status=status, tone=tone, choices=choices, offers=offers,
        placement=placement, urgency=URGENCY_WORDS.get(request.urgency_status),
        waiting=request.status is Status.WAITING,
        asked_to_confirm=(request.status is Status.WAITING
                          and request.confirmation_asked_at is not None))
