"""A run of new requests, stored set-wise: the same requests, offers and events as
`on_request_submitted` on each in turn, in a few statements for the run instead of
several per request.

A new request gets an offer at once only if an open place at a location where it
waits fits it. The run reads what all its requests need at once (which are known
already, their chosen locations, the open places there); a request no open place fits
is stored with the others in one insert, and one that some place may fit goes, in its
turn, to `on_request_submitted`'s storing and offering (after the requests before it are
stored; the run knows it is new). No place opens during a run of requests, so a request
that nothing fits at the start of the run is not fitted later in it either; and a place
offered in the run is no longer open for the requests after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from contracts.events import RequestSubmitted
from loketkit.consumer import Delivered
from loketkit.ids import Clock, IdFactory
from services.matching.domain.model import FreePlace, WaitingRequest, best_place
from services.matching.domain.ranking import CandidateKey
from services.matching.handlers import add_request, waiting_request
from services.matching.offers import Offers, proposed_since
from services.matching.ports import MatchingUnitOfWork


async def on_requests_submitted(
    run: Sequence[Delivered[RequestSubmitted]], uow: MatchingUnitOfWork, clock: Clock,
    new_id: IdFactory,
) -> None:
    requests = [waiting_request(each.data) for each in run]
    known = await uow.requests.known_among([request.request_id for request in requests])
    chosen = sorted({location_id for request in requests
                     for location_id in request.preferred_location_ids})
    offers = Offers(uow, clock, new_id, None)
    await uow.locations.get_many(chosen)  # read once for every request's keys
    open_places = await uow.places.open_at(chosen)
    waiting: list[tuple[WaitingRequest, Mapping[str, CandidateKey]]] = []
    for each, request in zip(run, requests, strict=True):
        if request.request_id in known:
            continue  # the same request announced again: nothing changes
        known.add(request.request_id)
        if await may_get_an_offer(offers, request, open_places):
            await uow.requests.add_many(waiting)
            waiting = []
            before = len(uow.pending_events)
            await add_request(each.event, each.data, uow, clock, new_id)
            # The places it (or its brothers and sisters) got are no longer open.
            taken = {proposed.place_id for proposed in proposed_since(uow, before)}
            open_places = [place for place in open_places if place.place_id not in taken]
        else:
            waiting.append((request, await offers.keys(request)))
    await uow.requests.add_many(waiting)


async def may_get_an_offer(offers: Offers, request: WaitingRequest,
                           open_places: Sequence[FreePlace]) -> bool:
    """Whether `Offers.offer_to` could find it a place among those open at the start of
    the run (some may be offered since: the request then just finds none)."""
    if not await offers.matches_continuously(request.service_area, request):
        return False
    waits_at = set(request.waiting_location_ids())
    here = [place for place in open_places if place.location_id in waits_at]
    return best_place(here, request, await offers.rules(request.service_area)) is not None
