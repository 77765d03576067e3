"""Capacity's use cases: one function per command or event, over a unit of work.

Handlers make ids and timestamps and raise domain errors; the maps at the
bottom are the one place that says which handler answers which message.
Organisers' events (HTTP, or their own topic loket.capacity.inbound.v1.<organiser_id>)
go through the same checks; an inbound one must also come from the topic of the
location's organiser (`sender`, `inbound_location`). One that fails them is a
`RejectedEvent` (dead letter) naming the field, and one that passes is
republished as capacity's own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from contracts import CloudEvent, EventData
from contracts.events import (
    CapacityDeclared,
    CrisisClosure,
    DeclaredEnrolment,
    EnrolmentEnded,
    EnrolmentsDeclared,
    LocationRegistered,
    MatchAccepted,
    MatchCancelled,
    MatchDeclined,
    MatchExpired,
    MatchProposed,
    MatchRefused,
    MatchReminderDue,
    PlaceFreed,
    PlacementConfirmed,
    PlaceWithdrawn,
)
from contracts.schedule import DayPart
from contracts.topics import organiser_of_topic
from loketkit.audit import Acting
from loketkit.bus import AnyHandler
from loketkit.consumer import Delivered, Origin, RejectedEvent
from loketkit.dutch import date_in_dutch, day_parts_in_dutch, moment_in_dutch
from loketkit.errors import DomainError, NotFound
from loketkit.ids import Clock, IdFactory, utcnow
from loketkit.mail import Notice, render
from services.capacity.domain.commands import (
    ConfirmPlacement,
    DeclareCapacity,
    DeclareEnrolments,
    EndEnrolment,
    OfferFreePlaces,
    RefuseMatch,
    RegisterClosure,
    RegisterLocation,
    ReleaseClosure,
    WithdrawPlace,
)
from services.capacity.domain.model import (
    CapacityConflict,
    CapacityRuleError,
    Closure,
    ClosureStatus,
    Enrolment,
    EnrolmentEndReason,
    EnrolmentSource,
    FreePlace,
    Location,
    Offer,
    OfferStatus,
    PlaceOffer,
    PlaceSource,
    PlaceStatus,
    RefusalReason,
    check_declared,
    check_new_location,
    enrolments_to_end_for_move,
    schedule,
)
from services.capacity.ports import CapacityUnitOfWork
from services.capacity.settings import CapacitySettings

NOTICES = Path(__file__).parent / "notices"
Located = TypeVar("Located", Enrolment, FreePlace)
# An organiser's event has no `count`: a full location shows in its day-parts.
INBOUND_FIELDS = {"count": "day_parts"}


# ---- locations and licences --------------------------------------------------------


async def register_location(
    command: RegisterLocation,
    uow: CapacityUnitOfWork,
    settings: CapacitySettings,
    clock: Clock,
    new_id: IdFactory,
) -> Location:
    location = Location(
        location_id=command.location_id or new_id("loc"),
        service_area=settings.service_area,
        name=command.name,
        municipality_nis=command.municipality_nis,
        postcode=command.postcode,
        capacity=command.capacity,
        licensed_places=command.capacity,
        subsidy_tier=command.subsidy_tier,
        min_age_months=command.min_age_months,
        max_age_months=command.max_age_months,
        organiser_email=command.organiser_email,
        organiser_id=command.organiser_id,
    )
    check_new_location(location, settings.municipalities)
    now = clock()
    async with uow:
        if not await uow.locations.add(location, registered_at=now):
            raise CapacityConflict("location_id", "this location is already registered")
        uow.emit(
            LocationRegistered(
                service_area=location.service_area,
                location_id=location.location_id,
                name=location.name,
                municipality_nis=location.municipality_nis,
                postcode=location.postcode,
                capacity=location.capacity,
                subsidy_tier=location.subsidy_tier,
                registered_at=now,
                organiser_id=location.organiser_id,
            )
        )
        await uow.commit()
    return location


async def declare_capacity(
    command: DeclareCapacity, uow: CapacityUnitOfWork, clock: Clock
) -> Location:
    async with uow:
        location = await known_location(uow, command.location_id)
        await apply_capacity(uow, location, command.licensed_places, clock(), None)
        await uow.commit()
    return location


async def on_inbound_capacity_declared(
    event: CloudEvent, data: CapacityDeclared, uow: CapacityUnitOfWork, clock: Clock,
    origin: Origin, settings: CapacitySettings,
) -> None:
    location = await inbound_location(uow, data, sender(origin, settings))
    with rejecting():
        await apply_capacity(uow, location, data.licensed_places, clock(), event)


async def apply_capacity(
    uow: CapacityUnitOfWork, location: Location, licensed_places: int, now: datetime,
    caused_by: CloudEvent | None,
) -> None:
    location.declare_capacity(licensed_places)
    await uow.locations.save(location)
    uow.emit(
        CapacityDeclared(
            service_area=location.service_area,
            location_id=location.location_id,
            municipality_nis=location.municipality_nis,
            licensed_places=licensed_places,
            declared_at=now,
        ),
        caused_by=caused_by,
    )


# ---- free places -------------------------------------------------------------------


async def offer_free_places(
    command: OfferFreePlaces, uow: CapacityUnitOfWork, clock: Clock, new_id: IdFactory
) -> list[FreePlace]:
    """Record `count` free places and announce each one, so each can be matched."""
    offer = PlaceOffer(
        available_from=command.available_from,
        day_parts=schedule(command.day_parts),
        min_age_months=command.min_age_months,
        max_age_months=command.max_age_months,
    )
    now = clock()
    async with uow:
        location = await known_location(uow, command.location_id)
        place_ids = [new_id("place") for _ in range(command.count)]
        places = await accept_places(uow, location, place_ids, offer, PlaceSource.API, now)
        for place in places:
            uow.emit(place_freed(location, place, now))
        await uow.commit()
    return places


async def on_inbound_place_freed(
    event: CloudEvent, data: PlaceFreed, uow: CapacityUnitOfWork, clock: Clock,
    origin: Origin, settings: CapacitySettings,
) -> None:
    """An organiser's free place: checked against the location, then published as ours."""
    location = await inbound_location(uow, data, sender(origin, settings))
    if await uow.places.exists(data.place_id):
        return  # announced before: that announcement already counted and was published
    with rejecting():
        await accept_places(uow, location, [data.place_id], announced_offer(data),
                            PlaceSource.ORGANISER, clock())
    uow.emit(data, caused_by=event)


async def on_inbound_places_freed(
    run: Sequence[Delivered[PlaceFreed]], uow: CapacityUnitOfWork, clock: Clock,
    settings: CapacitySettings,
) -> None:
    """A burst of organisers' free places: what `on_inbound_place_freed` does to each in
    turn, but with a few reads and one insert for the whole run. It raises on an event
    that handler refuses, and writes nothing before all passed: the consumer then
    applies the events one by one, so the refused one alone is dead-lettered."""
    now = clock()  # one moment for the run, applied in one transaction
    locations = {location.location_id: location for location in
                 await uow.locations.get_many(each.data.location_id for each in run)}
    known = await uow.places.known_among(each.data.place_id for each in run)
    enrolments = by_location(await uow.enrolments.at_locations(locations))
    # Updated as places are accepted: the next place at the location counts them.
    open_places = by_location(await uow.places.open_at_locations(locations))
    accepted: list[FreePlace] = []
    for each in run:
        data = each.data
        location, acting = inbound_checked(locations.get(data.location_id), data,
                                           sender(each.origin, settings))
        # The record each event's own unit writes when it commits (the acting names
        # its object and area, so it needs no event).
        await uow.audit_trail.add(acting.record([], utcnow()))
        if data.place_id in known:
            continue  # announced before, or earlier in this run
        with rejecting():
            [place] = location.offer(
                [data.place_id], announced_offer(data), PlaceSource.ORGANISER, now.date(),
                enrolments[location.location_id], open_places[location.location_id])
        open_places[location.location_id].append(place)
        known.add(place.place_id)
        accepted.append(place)
        uow.emit(data, caused_by=each.event)
    await uow.places.add_all(accepted, recorded_at=now)


def announced_offer(data: PlaceFreed) -> PlaceOffer:
    return PlaceOffer(
        available_from=data.available_from,
        day_parts=schedule(data.day_parts),
        min_age_months=data.min_age_months,
        max_age_months=data.max_age_months,
    )


def by_location(items: Iterable[Located]) -> defaultdict[str, list[Located]]:
    """Items grouped by location, each group in the order given."""
    grouped: defaultdict[str, list[Located]] = defaultdict(list)
    for item in items:
        grouped[item.location_id].append(item)
    return grouped


async def accept_places(
    uow: CapacityUnitOfWork, location: Location, place_ids: Sequence[str], offer: PlaceOffer,
    source: PlaceSource, now: datetime,
) -> list[FreePlace]:
    enrolments = await uow.enrolments.at_location(location.location_id)
    open_places = await uow.places.open_at(location.location_id)
    places = location.offer(place_ids, offer, source, now.date(), enrolments, open_places)
    await uow.places.add_all(places, recorded_at=now)
    return places


async def withdraw_place(
    command: WithdrawPlace, uow: CapacityUnitOfWork, clock: Clock
) -> FreePlace:
    async with uow:
        location = await known_location(uow, command.location_id)
        place = await withdraw(uow, location, command.place_id, clock(), None)
        await uow.commit()
    return place


async def on_inbound_place_withdrawn(
    event: CloudEvent, data: PlaceWithdrawn, uow: CapacityUnitOfWork, clock: Clock,
    origin: Origin, settings: CapacitySettings,
) -> None:
    location = await inbound_location(uow, data, sender(origin, settings))
    place = await uow.places.get(data.place_id)
    if place is not None and place.location_id == location.location_id and (
        place.status is PlaceStatus.WITHDRAWN
    ):
        return  # withdrawn before, and published then
    with rejecting():
        await withdraw(uow, location, data.place_id, clock(), event)


async def withdraw(
    uow: CapacityUnitOfWork, location: Location, place_id: str, now: datetime,
    caused_by: CloudEvent | None,
) -> FreePlace:
    place = await uow.places.get(place_id)
    if place is None or place.location_id != location.location_id:
        raise NotFound("place_id", "no free place with this id at this location")
    if place.status is not PlaceStatus.OPEN:
        raise CapacityConflict("place_id", f"the place is already {place.status}")
    offers = await uow.offers.at_location(location.location_id)
    if any(offer.place_id == place_id and offer.status.live for offer in offers):
        raise CapacityConflict("place_id", "the place is offered: answer the offer instead")
    await uow.places.set_status(place_id, PlaceStatus.WITHDRAWN)
    uow.emit(
        PlaceWithdrawn(
            service_area=location.service_area,
            place_id=place_id,
            location_id=location.location_id,
            municipality_nis=location.municipality_nis,
            withdrawn_at=now,
        ),
        caused_by=caused_by,
    )
    return place.model_copy(update={"status": PlaceStatus.WITHDRAWN})


# ---- offers as capacity sees them (from matching and intake) -----------------------


async def on_match_proposed(
    event: CloudEvent, data: MatchProposed, uow: CapacityUnitOfWork, clock: Clock,
    new_id: IdFactory,
) -> None:
    proposed = proposed_offer(data, await uow.offers.get(data.match_id))
    if proposed is None:
        return
    await uow.offers.save(proposed)
    if proposed.status is OfferStatus.ACCEPTED:
        await notify_accepted(uow, proposed, clock(), new_id)


async def on_matches_proposed(
    run: Sequence[Delivered[MatchProposed]], uow: CapacityUnitOfWork, clock: Clock,
    new_id: IdFactory,
) -> None:
    """A burst of proposals: what `on_match_proposed` does to each in turn, with one read
    and one write for the run. A match id repeated in the run sees its earlier event."""
    offers = {offer.match_id: offer for offer in
              await uow.offers.get_many(each.data.match_id for each in run)}
    changed: dict[str, Offer] = {}
    for each in run:
        proposed = proposed_offer(each.data, offers.get(each.data.match_id))
        if proposed is None:
            continue
        offers[proposed.match_id] = changed[proposed.match_id] = proposed
        if proposed.status is OfferStatus.ACCEPTED:
            # In turn, before the offers are written: the notice reads no offer.
            await notify_accepted(uow, proposed, clock(), new_id)
    await uow.offers.save_all(changed.values())


def proposed_offer(data: MatchProposed, known: Offer | None) -> Offer | None:
    """The offer to store for a proposal, given the stored one; None if it was read before."""
    proposed = Offer(
        match_id=data.match_id, request_id=data.request_id, place_id=data.place_id,
        location_id=data.location_id, start_date=data.start_date,
        day_parts=schedule(data.day_parts), requested_day_parts=schedule(data.requested_day_parts),
        priority_group=data.priority_group, family_answer_due=data.family_answer_due,
        organiser_answer_due=data.organiser_answer_due,
    )
    if known is None:
        return proposed
    if known.proposed:
        return None  # read before
    # An answer was read first: keep where the offer got to, add the proposal's details.
    return proposed.model_copy(update={
        "status": known.status, "ended_reason": known.ended_reason,
        "keep_waiting_for_higher_choices": known.keep_waiting_for_higher_choices,
    })


async def on_match_accepted(
    event: CloudEvent, data: MatchAccepted, uow: CapacityUnitOfWork, clock: Clock,
    new_id: IdFactory,
) -> None:
    offer = await known_offer(uow, data.match_id, data.request_id, data.place_id,
                              data.location_id)
    accepted = offer.moved_to(
        OfferStatus.ACCEPTED,
        keep_waiting_for_higher_choices=data.keep_waiting_for_higher_choices,
    )
    if accepted is offer and await uow.offers.get(data.match_id) is not None:
        return
    await uow.offers.save(accepted)
    if accepted.proposed and accepted.status is OfferStatus.ACCEPTED:
        await notify_accepted(uow, accepted, clock(), new_id)


async def on_match_declined(
    event: CloudEvent, data: MatchDeclined, uow: CapacityUnitOfWork
) -> None:
    await end_offer(uow, data.match_id, data.request_id, data.place_id, data.location_id,
                    "declined")


async def on_match_expired(
    event: CloudEvent, data: MatchExpired, uow: CapacityUnitOfWork
) -> None:
    await end_offer(uow, data.match_id, data.request_id, data.place_id, data.location_id,
                    "expired")


async def on_match_cancelled(
    event: CloudEvent, data: MatchCancelled, uow: CapacityUnitOfWork
) -> None:
    """The offer ends; the place stays as it is (open again, unless capacity itself
    withdrew or cancelled it, which is why the offer was cancelled)."""
    await end_offer(uow, data.match_id, data.request_id, data.place_id, data.location_id,
                    data.reason)


async def on_match_reminder_due(
    event: CloudEvent, data: MatchReminderDue, uow: CapacityUnitOfWork, clock: Clock,
    new_id: IdFactory,
) -> None:
    if data.addressee != "organiser":
        return  # the family's reminder is intake's
    location = await uow.locations.get(data.location_id, for_update=False)
    if location is None:
        return
    await notify_organiser(
        uow, location, "organiser_overdue", clock(), new_id,
        match_id=data.match_id, answer_due=moment_in_dutch(data.answer_due),
    )


async def known_offer(
    uow: CapacityUnitOfWork, match_id: str, request_id: str, place_id: str, location_id: str
) -> Offer:
    """The stored offer, or what this answer tells of it (its proposal is read later)."""
    return await uow.offers.get(match_id) or Offer(
        match_id=match_id, request_id=request_id, place_id=place_id, location_id=location_id
    )


async def end_offer(
    uow: CapacityUnitOfWork, match_id: str, request_id: str, place_id: str, location_id: str,
    reason: str,
) -> None:
    offer = await known_offer(uow, match_id, request_id, place_id, location_id)
    ended = offer.moved_to(OfferStatus.ENDED, ended_reason=reason)
    if ended is not offer:
        await uow.offers.save(ended)


# ---- the organiser's answers -------------------------------------------------------


async def confirm_placement(
    command: ConfirmPlacement, uow: CapacityUnitOfWork, clock: Clock, new_id: IdFactory
) -> Enrolment:
    async with uow:
        offer = await uow.offers.get(command.match_id)
        if offer is None:
            raise NotFound("match_id", "no offer with this id")
        location = await known_location(uow, offer.location_id)
        enrolment = await confirm(
            uow, offer, location, new_id("enr"), command.start_date,
            command.day_parts, offer.priority_group, clock(), None,
        )
        await uow.commit()
    return enrolment


async def on_inbound_placement_confirmed(
    event: CloudEvent, data: PlacementConfirmed, uow: CapacityUnitOfWork, clock: Clock,
    origin: Origin, settings: CapacitySettings,
) -> None:
    location = await inbound_location(uow, data, sender(origin, settings))
    offer = await inbound_offer(uow, data.match_id, data.request_id, data.place_id, location)
    if offer.status is OfferStatus.CONFIRMED:
        enrolment = await uow.enrolments.get(data.enrolment_id)
        if enrolment is not None and enrolment.match_id == offer.match_id:
            return  # confirmed before, and published then
    if await uow.enrolments.get(data.enrolment_id) is not None:
        raise RejectedEvent("field 'data.enrolment_id': already in use")
    with rejecting():
        await confirm(uow, offer, location, data.enrolment_id, data.start_date,
                      tuple(data.day_parts), data.priority_group or offer.priority_group,
                      clock(), event)


async def confirm(
    uow: CapacityUnitOfWork, offer: Offer, location: Location, enrolment_id: str,
    start_date: date | None, day_parts: Sequence[DayPart] | None, priority_group: bool,
    now: datetime, caused_by: CloudEvent | None,
) -> Enrolment:
    offer.check_confirmable()
    if not offer.proposed:  # the acceptance came first (another topic); the offer follows
        raise CapacityConflict("match_id", "the offer's proposal has not been read yet")
    location.check_open()
    place = await uow.places.get(offer.place_id)
    if place is not None and place.status is not PlaceStatus.OPEN:
        raise CapacityConflict("match_id", f"the offer's place is {place.status}")
    parts = schedule(day_parts) if day_parts is not None else offer.default_day_parts()
    offer.check_schedule(parts)
    start = start_date or offer.start_date
    assert start is not None  # a proposal read has its start date
    enrolment = Enrolment(
        enrolment_id=enrolment_id, location_id=location.location_id, day_parts=parts,
        start_date=start, request_id=offer.request_id, match_id=offer.match_id,
        priority_group=priority_group, source=EnrolmentSource.LOKET,
    )
    earlier = await uow.enrolments.of_request(offer.request_id)
    await uow.enrolments.add(enrolment)
    await uow.places.set_status(offer.place_id, PlaceStatus.FILLED)
    await uow.offers.save(offer.moved_to(OfferStatus.CONFIRMED))
    uow.emit(
        PlacementConfirmed(
            service_area=location.service_area, match_id=offer.match_id,
            request_id=offer.request_id, place_id=offer.place_id,
            location_id=location.location_id, municipality_nis=location.municipality_nis,
            enrolment_id=enrolment.enrolment_id, start_date=start, day_parts=list(parts),
            priority_group=priority_group, confirmed_at=now,
        ),
        caused_by=caused_by,
    )
    # A child holds one enrolment for a period: one elsewhere ends the day before.
    for moved in enrolments_to_end_for_move(earlier, enrolment):
        await uow.enrolments.save(moved)
        elsewhere = await uow.locations.get(moved.location_id, for_update=False)
        assert elsewhere is not None
        uow.emit(enrolment_ended(elsewhere, moved, now), caused_by=caused_by)
    return enrolment


async def refuse_match(command: RefuseMatch, uow: CapacityUnitOfWork, clock: Clock) -> Offer:
    async with uow:
        offer = await uow.offers.get(command.match_id)
        if offer is None:
            raise NotFound("match_id", "no offer with this id")
        location = await known_location(uow, offer.location_id)
        refused = await refuse(uow, offer, location, command.reason, clock(), None)
        await uow.commit()
    return refused


async def on_inbound_match_refused(
    event: CloudEvent, data: MatchRefused, uow: CapacityUnitOfWork, clock: Clock,
    origin: Origin, settings: CapacitySettings,
) -> None:
    location = await inbound_location(uow, data, sender(origin, settings))
    offer = await inbound_offer(uow, data.match_id, data.request_id, data.place_id, location)
    if offer.status is OfferStatus.REFUSED:
        return  # refused before, and published then
    with rejecting():
        await refuse(uow, offer, location, data.reason, clock(), event)


async def refuse(
    uow: CapacityUnitOfWork, offer: Offer, location: Location, reason: RefusalReason,
    now: datetime, caused_by: CloudEvent | None,
) -> Offer:
    offer.check_refusable()
    refused = offer.moved_to(OfferStatus.REFUSED, ended_reason=reason)
    await uow.offers.save(refused)
    uow.emit(
        MatchRefused(
            service_area=location.service_area, match_id=offer.match_id,
            request_id=offer.request_id, place_id=offer.place_id,
            location_id=location.location_id, municipality_nis=location.municipality_nis,
            reason=reason, refused_at=now,
        ),
        caused_by=caused_by,
    )
    return refused


async def inbound_offer(
    uow: CapacityUnitOfWork, match_id: str, request_id: str, place_id: str, location: Location
) -> Offer:
    offer = await uow.offers.get(match_id)
    if offer is None or offer.location_id != location.location_id:
        raise RejectedEvent("field 'data.match_id': no such offer at this location")
    if offer.request_id != request_id:
        raise RejectedEvent("field 'data.request_id': not the offer's request")
    if offer.place_id != place_id:
        raise RejectedEvent("field 'data.place_id': not the offer's place")
    return offer


# ---- enrolments --------------------------------------------------------------------


async def declare_enrolments(
    command: DeclareEnrolments, uow: CapacityUnitOfWork, clock: Clock
) -> list[Enrolment]:
    async with uow:
        location = await known_location(uow, command.location_id)
        await apply_declaration(uow, location, command.enrolments, clock(), None)
        enrolments = await uow.enrolments.at_location(command.location_id)
        await uow.commit()
    return enrolments


async def on_inbound_enrolments_declared(
    event: CloudEvent, data: EnrolmentsDeclared, uow: CapacityUnitOfWork, clock: Clock,
    origin: Origin, settings: CapacitySettings,
) -> None:
    location = await inbound_location(uow, data, sender(origin, settings))
    with rejecting():
        await apply_declaration(uow, location, data.enrolments, clock(), event)


async def apply_declaration(
    uow: CapacityUnitOfWork, location: Location, declared: Sequence[DeclaredEnrolment],
    now: datetime, caused_by: CloudEvent | None,
) -> None:
    enrolments = [
        Enrolment(
            enrolment_id=each.enrolment_id, location_id=location.location_id,
            day_parts=schedule(each.day_parts), start_date=each.start_date,
            # The declared end date is the last day; the day-parts are free the day after.
            ends_on=None if each.end_date is None else each.end_date + timedelta(days=1),
            priority_group=each.priority_group, source=EnrolmentSource.DECLARED,
        )
        for each in declared
    ]
    taken = [found for found in await uow.enrolments.get_many(e.enrolment_id for e in enrolments)
             if found.location_id != location.location_id
             or found.source is EnrolmentSource.LOKET]
    check_declared(location, enrolments, taken)
    await uow.enrolments.replace_declared(location.location_id, enrolments)
    uow.emit(
        EnrolmentsDeclared(
            service_area=location.service_area, location_id=location.location_id,
            municipality_nis=location.municipality_nis, enrolments=list(declared),
            declared_at=now,
        ),
        caused_by=caused_by,
    )


async def end_enrolment(
    command: EndEnrolment, uow: CapacityUnitOfWork, clock: Clock
) -> Enrolment:
    async with uow:
        enrolment = await uow.enrolments.get(command.enrolment_id)
        if enrolment is None:
            raise NotFound("enrolment_id", "no enrolment with this id")
        location = await known_location(uow, enrolment.location_id)
        ended = await finish(uow, location, enrolment, command.ended_on, command.reason,
                             clock(), None)
        await uow.commit()
    return ended


async def on_inbound_enrolment_ended(
    event: CloudEvent, data: EnrolmentEnded, uow: CapacityUnitOfWork, clock: Clock,
    origin: Origin, settings: CapacitySettings,
) -> None:
    location = await inbound_location(uow, data, sender(origin, settings))
    enrolment = await uow.enrolments.get(data.enrolment_id)
    if enrolment is None or enrolment.location_id != location.location_id:
        raise RejectedEvent("field 'data.enrolment_id': no such enrolment at this location")
    if enrolment.ends_on == data.ended_on:
        return  # ended before, and published then
    with rejecting():
        await finish(uow, location, enrolment, data.ended_on, data.reason, clock(), event)


async def finish(
    uow: CapacityUnitOfWork, location: Location, enrolment: Enrolment, ended_on: date,
    reason: EnrolmentEndReason, now: datetime, caused_by: CloudEvent | None,
) -> Enrolment:
    if ended_on < enrolment.start_date:
        raise CapacityRuleError("ended_on", "before the enrolment's start date")
    ended = enrolment.end(ended_on, reason)
    await uow.enrolments.save(ended)
    uow.emit(enrolment_ended(location, ended, now), caused_by=caused_by)
    return ended


# ---- confidential closures ---------------------------------------------------------


async def register_closure(
    command: RegisterClosure, uow: CapacityUnitOfWork, clock: Clock, new_id: IdFactory
) -> Closure:
    """Registered only: nothing is published and nothing else changes, so nothing leaks
    before the coordinator releases it."""
    if command.expected_end is not None and command.expected_end < command.effective_from:
        raise CapacityRuleError("expected_end", "before effective_from")
    async with uow:
        location = await known_location(uow, command.location_id)
        location.check_open()
        pending = [c for c in await uow.closures.at_location(location.location_id)
                   if c.status is ClosureStatus.REGISTERED]
        if pending:
            raise CapacityConflict("location_id", "a closure of this location is registered")
        closure = Closure(
            closure_id=new_id("closure"), location_id=location.location_id,
            service_area=location.service_area, reason=command.reason,
            effective_from=command.effective_from, expected_end=command.expected_end,
            registered_at=clock(),
        )
        await uow.closures.add(closure)
        await uow.commit()
    return closure


async def release_closure(
    command: ReleaseClosure, uow: CapacityUnitOfWork, clock: Clock
) -> Closure:
    """The parents were told: close the location, end its enrolments from the effective
    date, cancel its open places, and publish CrisisClosure."""
    now = clock()
    async with uow:
        closure = await uow.closures.get(command.closure_id)
        if closure is None:
            raise NotFound("closure_id", "no closure with this id")
        if closure.status is ClosureStatus.RELEASED:
            raise CapacityConflict("closure_id", "the closure has already been released")
        location = await known_location(uow, closure.location_id)
        location.close()
        await uow.locations.save(location)
        cancelled = await uow.places.cancel_open_at(location.location_id)
        affected = [e for e in await uow.enrolments.at_location(location.location_id)
                    if e.active_from(closure.effective_from)]
        offers = [o for o in await uow.offers.at_location(location.location_id)
                  if o.status.live]
        released = closure.released(now, affected, offers, cancelled)
        await uow.closures.save(released)
        uow.emit(
            CrisisClosure(
                service_area=location.service_area, closure_id=closure.closure_id,
                location_id=location.location_id, municipality_nis=location.municipality_nis,
                reason=closure.reason, effective_from=closure.effective_from,
                expected_end=closure.expected_end, announced_at=now,
            )
        )
        for enrolment in affected:
            ended = enrolment.end(closure.effective_from, "location_closed")
            await uow.enrolments.save(ended)
            uow.emit(enrolment_ended(location, ended, now))
        await uow.commit()
    return released


# ---- helpers -----------------------------------------------------------------------


async def known_location(uow: CapacityUnitOfWork, location_id: str) -> Location:
    location = await uow.locations.get(location_id)
    if location is None:
        raise NotFound("location_id", "no location with this id")
    return location


def sender(origin: Origin, settings: CapacitySettings) -> str | None:
    """The organiser whose own inbound topic carried the event: the broker's ACLs let
    only that organiser's principal write there. None on any other topic."""
    return organiser_of_topic(origin.topic, settings.kafka_topic_prefix)


async def inbound_location(
    uow: CapacityUnitOfWork, data: InboundEvent, organiser_id: str | None
) -> Location:
    """The location an organiser's event names, as the loket knows it, if the organiser
    who sent it (`sender`) runs that location. The change it makes is audited as that
    organiser's system."""
    location = None if organiser_id is None else await uow.locations.get(data.location_id)
    location, uow.acting = inbound_checked(location, data, organiser_id)
    return location


def inbound_checked(
    location: Location | None, data: InboundEvent, organiser_id: str | None
) -> tuple[Location, Acting]:
    """`inbound_location`'s checks of the location read for the event, and who acts."""
    if organiser_id is None:
        raise RejectedEvent("field 'data.location_id': not sent on an organiser's inbound topic")
    if location is None:
        raise RejectedEvent("field 'data.location_id': unknown location")
    with rejecting():
        location.check_organiser(organiser_id)
        location.check_origin(data.service_area, data.municipality_nis)
    return location, Acting.system(f"kafka:{organiser_id}", type(data).__name__, "location",
                                   location.location_id, location.service_area)


InboundEvent = (CapacityDeclared | PlaceFreed | PlaceWithdrawn | PlacementConfirmed
                | MatchRefused | EnrolmentsDeclared | EnrolmentEnded)


async def lock_named_locations(batch: Sequence[Delivered[EventData]], uow: CapacityUnitOfWork,
                               settings: CapacitySettings) -> None:
    """Read ahead for a batch (loketkit.consumer): the locations its organisers' events
    name, locked in one statement and in id order (so two batches lock them in the same
    order); each event's `inbound_location` then finds its location in the unit. The
    children at those locations come in one more statement (each free place is checked
    against them, each ended enrolment found among them), and the open places where
    places are freed, and which of the freed places are known, in two more: the unit
    keeps them up to date."""
    inbound = [each.data for each in batch
               if isinstance(each.data, InboundEvent) and sender(each.origin, settings)]
    if inbound:
        located = sorted({data.location_id for data in inbound})
        await uow.locations.get_many(located)
        await uow.enrolments.at_locations(located)
        freed = [data for data in inbound if isinstance(data, PlaceFreed)]
        if freed:
            await uow.places.open_at_locations({data.location_id for data in freed})
            await uow.places.known_among(data.place_id for data in freed)


@contextmanager
def rejecting() -> Iterator[None]:
    """A rule that refuses an organiser's event sends it to the dead-letter topic."""
    try:
        yield
    except DomainError as error:
        field = INBOUND_FIELDS.get(error.field, error.field)
        raise RejectedEvent(f"field 'data.{field}': {error}") from None


def place_freed(location: Location, place: FreePlace, freed_at: datetime) -> PlaceFreed:
    return PlaceFreed(
        service_area=location.service_area,
        place_id=place.place_id,
        location_id=location.location_id,
        municipality_nis=location.municipality_nis,
        available_from=place.available_from,
        day_parts=list(place.day_parts),
        min_age_months=place.min_age_months,
        max_age_months=place.max_age_months,
        freed_at=freed_at,
    )


def enrolment_ended(location: Location, enrolment: Enrolment, now: datetime) -> EnrolmentEnded:
    assert enrolment.ends_on is not None and enrolment.end_reason is not None
    return EnrolmentEnded(
        service_area=location.service_area, enrolment_id=enrolment.enrolment_id,
        location_id=location.location_id, municipality_nis=location.municipality_nis,
        request_id=enrolment.request_id, ended_on=enrolment.ends_on,
        reason=enrolment.end_reason, recorded_at=now,
    )


async def notify_accepted(
    uow: CapacityUnitOfWork, offer: Offer, now: datetime, new_id: IdFactory
) -> None:
    location = await uow.locations.get(offer.location_id, for_update=False)
    if location is None or offer.start_date is None:
        return
    due = offer.organiser_answer_due
    await notify_organiser(
        uow, location, "offer_accepted", now, new_id,
        match_id=offer.match_id, start_date=date_in_dutch(offer.start_date),
        day_parts=day_parts_in_dutch(offer.default_day_parts()),
        answer_due=moment_in_dutch(due) if due else "zo snel mogelijk",
    )


async def notify_organiser(
    uow: CapacityUnitOfWork, location: Location, kind: str, now: datetime,
    new_id: IdFactory, **context: str,
) -> None:
    """A notice to the location's business address, if it gave one; no child data."""
    if not location.organiser_email:
        return
    subject, body = render(NOTICES, kind, location_name=location.name,
                           location_id=location.location_id, **context)
    await uow.notices.add(Notice(
        notice_id=new_id("notice"), recipient=location.organiser_email, subject=subject,
        body=body, kind=kind, created_at=now, sent_at=None,
    ))


COMMAND_HANDLERS: dict[type, AnyHandler] = {
    RegisterLocation: register_location,
    DeclareCapacity: declare_capacity,
    OfferFreePlaces: offer_free_places,
    WithdrawPlace: withdraw_place,
    ConfirmPlacement: confirm_placement,
    RefuseMatch: refuse_match,
    DeclareEnrolments: declare_enrolments,
    EndEnrolment: end_enrolment,
    RegisterClosure: register_closure,
    ReleaseClosure: release_closure,
}
EVENT_HANDLERS: dict[type, AnyHandler] = {
    # organisers' systems, each on its own loket.capacity.inbound.v1.<organiser_id>
    PlaceFreed: on_inbound_place_freed,
    PlaceWithdrawn: on_inbound_place_withdrawn,
    CapacityDeclared: on_inbound_capacity_declared,
    EnrolmentsDeclared: on_inbound_enrolments_declared,
    EnrolmentEnded: on_inbound_enrolment_ended,
    PlacementConfirmed: on_inbound_placement_confirmed,
    MatchRefused: on_inbound_match_refused,
    # offers, from matching (loket.matches.v1) and the family's answers (loket.requests.v1)
    MatchProposed: on_match_proposed,
    MatchAccepted: on_match_accepted,
    MatchDeclined: on_match_declined,
    MatchExpired: on_match_expired,
    MatchCancelled: on_match_cancelled,
    MatchReminderDue: on_match_reminder_due,
}
# Consecutive events of a type applied together, with the same effect as one by one.
# PlaceFreed reaches capacity only as an organiser's (capacity's own is not read back).
EVENT_BATCH_HANDLERS: dict[type, AnyHandler] = {
    PlaceFreed: on_inbound_places_freed,
    MatchProposed: on_matches_proposed,
}
