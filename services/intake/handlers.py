"""Intake's use cases: one function per command or event, over a unit of work.

Collaborators are injected by parameter name (see `bootstrap`): `clock`, `new_id`,
`settings`, `child_ref` (the keyed HMAC) and `postcode_coordinates`.
Notices go to the family's own e-mail only (none when it has none: staff serve it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from contracts import CloudEvent
from contracts.events import (
    CrisisClosure,
    EnrolmentEnded,
    LocationRegistered,
    MatchAccepted,
    MatchCancelled,
    MatchDeclined,
    MatchExpired,
    MatchProposed,
    MatchRefused,
    MatchReminderDue,
    PlacementConfirmed,
    PriorityFacts,
    RequestAssessed,
    RequestExpired,
    RequestSubmitted,
    RequestUpdated,
    RequestWithdrawn,
)
from loketkit.area_settings import settings_in_force
from loketkit.bus import AnyHandler
from loketkit.calendar import Period
from loketkit.consumer import Delivered, RejectedEvent
from loketkit.dutch import date_in_dutch, day_parts_in_dutch, moment_in_dutch
from loketkit.errors import Invalid, NotFound
from loketkit.ids import Clock, IdFactory
from loketkit.mail import compose
from services.intake import personal_links
from services.intake.domain.area_settings import RequestSettings
from services.intake.domain.commands import (
    AnswerOffer,
    AssessRequest,
    ConfirmRequest,
    ErasePersonalData,
    HandOverPersonalLink,
    ImportWaitingList,
    Keep,
    LinkSiblings,
    RevokePersonalLinks,
    SubmitRequest,
    UpdateRequest,
    WithdrawRequest,
)
from services.intake.domain.locations import (
    Coordinates,
    Location,
    crisis_choices,
    within_distance,
)
from services.intake.domain.model import (
    AuditEntry,
    ImportBatch,
    Offer,
    OfferNotOpen,
    OfferStatus,
    Request,
    RequestRuleError,
    Status,
    check_new_request,
    check_wishes,
)
from services.intake.ports import ChildRef, IntakeUnitOfWork
from services.intake.settings import IntakeSettings

log = logging.getLogger(__name__)

NOTICES = Path(__file__).parent / "notices"
CLAIM_BATCH = 100
MAX_IMPORT_ROWS = 5000


# --- what may leave intake -----------------------------------------------------------


def submitted_event(request: Request, child_ref: str) -> RequestSubmitted:
    """The pseudonymous facts of a request: what other services may know."""
    return RequestSubmitted(
        service_area=request.service_area,
        request_id=request.request_id,
        child_ref=child_ref,
        municipality_nis=request.municipality_nis,
        neighbourhood_code=request.neighbourhood_code,
        birth_month=request.birth_month,
        desired_start_date=request.desired_start_date,
        day_parts=list(request.day_parts),
        accepts_partial_fit=request.accepts_partial_fit,
        preferred_location_ids=list(request.preferred_location_ids),
        sibling_request_ids=list(request.sibling_request_ids),
        priority=PriorityFacts.model_validate(request.priority, from_attributes=True),
        urgency=request.urgency,
        replaces_request_id=request.replaces_request_id,
        submitted_at=request.submitted_at,
    )


def assessed_event(request: Request, now: datetime) -> RequestAssessed:
    """Staff's outcome only: never the characteristics or the reasons (personal)."""
    return RequestAssessed(
        service_area=request.service_area,
        request_id=request.request_id,
        municipality_nis=request.municipality_nis,
        vulnerable=request.vulnerable,
        urgent=request.urgent,
        assessed_at=request.assessed_at or now,
    )


def updated_event(request: Request, now: datetime) -> RequestUpdated:
    return RequestUpdated(
        service_area=request.service_area,
        request_id=request.request_id,
        municipality_nis=request.municipality_nis,
        desired_start_date=request.desired_start_date,
        day_parts=list(request.day_parts),
        accepts_partial_fit=request.accepts_partial_fit,
        preferred_location_ids=list(request.preferred_location_ids),
        sibling_request_ids=list(request.sibling_request_ids),
        updated_at=now,
    )


def withdrawn_event(
    request: Request, reason: Literal["by_family", "replaced_after_closure"], now: datetime
) -> RequestWithdrawn:
    return RequestWithdrawn(
        service_area=request.service_area,
        request_id=request.request_id,
        municipality_nis=request.municipality_nis,
        reason=reason,
        withdrawn_at=now,
    )


# --- notices ---------------------------------------------------------------------------


async def notify(
    uow: IntakeUnitOfWork, request: Request, kind: str, new_id: IdFactory, now: datetime,
    **context: Any,
) -> bool:
    """A notice to the family itself, in the transaction of the change; none without
    e-mail (or after erasure): loket staff serve those families."""
    if request.contact.email is None or request.erased_at is not None:
        return False
    await uow.notices.add(compose(
        notice_id=new_id("ntc"), recipient=request.contact.email, kind=kind, created_at=now,
        template_dir=NOTICES, child_first_name=request.child.first_name,
        request_id=request.request_id, **context,
    ))
    return True


async def offer_context(uow: IntakeUnitOfWork, offer: Offer) -> dict[str, Any]:
    return offer_details(offer, await uow.locations.get(offer.location_id))


def offer_details(offer: Offer, location: Location | None) -> dict[str, Any]:
    """What a notice about the offer says, the location read already."""
    return {
        "location_name": location.name if location else offer.location_id,
        "match_id": offer.match_id,
        "start_date": date_in_dutch(offer.start_date),
        "day_parts": day_parts_in_dutch(offer.day_parts),
        "partial": offer.fit == "partial",
        "answer_due": moment_in_dutch(offer.family_answer_due),
        "why": offer.why,
    }


# --- commands ----------------------------------------------------------------------------


def new_request(command: SubmitRequest, request_id: str, service_area: str,
                submitted_at: datetime, now: datetime) -> Request:
    """A new request: normal until staff grant urgency; sworn when registered."""
    request = Request(
        request_id=request_id,
        service_area=service_area,
        child=command.child,
        contact=command.contact,
        municipality_nis=command.municipality_nis,
        neighbourhood_code=command.neighbourhood_code,
        desired_start_date=command.desired_start_date,
        day_parts=command.day_parts,
        preferred_location_ids=tuple(dict.fromkeys(command.preferred_location_ids)),
        max_distance_km=command.max_distance_km,
        priority=command.priority,
        urgency="normal",
        submitted_at=submitted_at,
        accepts_partial_fit=command.accepts_partial_fit,
        share_contact_with_organiser=command.share_contact_with_organiser,
        last_confirmed_at=now,
        owner_subject=command.owner_subject,
        sworn_statement_at=submitted_at if command.sworn_statement else None,
    )
    if command.urgency_reason:
        request.ask_urgency(command.urgency_reason)
    return request


def choose_locations(
    request: Request, chosen: tuple[str, ...], max_distance_km: float | None,
    open_locations: list[Location], coordinates: Coordinates,
) -> set[str]:
    """Sets the request's effective choices (see `Request`): the family's own, then the
    open locations of its area within its distance, nearest first. Returns the ids of
    the open locations, to check the family's own against."""
    nearby = [] if max_distance_km is None else within_distance(
        open_locations, request.contact.postcode, max_distance_km, coordinates)
    request.choose(chosen, max_distance_km, [location.location_id for location in nearby])
    return {location.location_id for location in open_locations}


@dataclass(frozen=True)
class Registered:
    """A new request and the personal link its family follows it with."""

    request: Request
    personal_link: str


async def submit_request(
    command: SubmitRequest,
    uow: IntakeUnitOfWork,
    settings: IntakeSettings,
    child_ref: ChildRef,
    postcode_coordinates: Coordinates,
    clock: Clock,
    new_id: IdFactory,
) -> Registered:
    now = clock()
    request = new_request(command, new_id("req"), settings.service_area, now, now)
    async with uow:
        # Without a distance only the family's own choices need reading.
        among = None if request.max_distance_km is not None else request.preferred_location_ids
        known = choose_locations(
            request, request.preferred_location_ids, request.max_distance_km,
            await uow.locations.open_in(request.service_area, among), postcode_coordinates)
        check_new_request(request, settings.municipalities, known)
        await uow.requests.add(request)
        uow.emit(submitted_event(request, child_ref(request.child)))
        # A new request has no earlier links to stop.
        token = await issue_personal_link(uow, request, settings, new_id, now,
                                          revoke_earlier=False)
        await uow.commit()
    return Registered(request, token)


async def issue_personal_link(
    uow: IntakeUnitOfWork, request: Request, settings: IntakeSettings, new_id: IdFactory,
    now: datetime, *, revoke_earlier: bool = True,
) -> str:
    """A new link for the family (mailed to it, if it has e-mail); earlier ones stop."""
    if revoke_earlier:
        await uow.personal_links.revoke_all(request.request_id, now)
    link = personal_links.new_link(new_id("lnk"), request.request_id, now,
                                   settings.personal_link_days)
    await uow.personal_links.add(link)
    token = personal_links.sign(link, settings.personal_link_key.get_secret_value())
    await notify(uow, request, "personal_link", new_id, now,
                 link_url=f"{settings.intake_public_url}/mijn-aanvraag#{token}",
                 valid_until=date_in_dutch(link.expires_at.date()))
    return token


async def hand_over_personal_link(
    command: HandOverPersonalLink, uow: IntakeUnitOfWork, settings: IntakeSettings,
    clock: Clock, new_id: IdFactory,
) -> str:
    async with uow:
        request = await known_request(uow, command.request_id)
        token = await issue_personal_link(uow, request, settings, new_id, clock())
        await uow.commit()
    return token


async def revoke_personal_links(
    command: RevokePersonalLinks, uow: IntakeUnitOfWork, clock: Clock
) -> int:
    async with uow:
        await known_request(uow, command.request_id)
        revoked = await uow.personal_links.revoke_all(command.request_id, clock())
        await uow.commit()
    return revoked


IMPORTED_URGENCY = "urgent on the waiting list the loket imported (the old list's judgement)"


async def import_waiting_list(
    command: ImportWaitingList,
    uow: IntakeUnitOfWork,
    settings: IntakeSettings,
    child_ref: ChildRef,
    postcode_coordinates: Coordinates,
    clock: Clock,
    new_id: IdFactory,
) -> ImportBatch:
    """A loket going live brings its waiting list: every row valid, or nothing stored.
    Each row keeps its original registration date. An urgent row is urgency granted by
    the importing loket staff, in the request's audit log as such."""
    if not command.rows:
        raise Invalid("csv", "no rows to import")
    if len(command.rows) > MAX_IMPORT_ROWS:
        raise Invalid("csv", f"at most {MAX_IMPORT_ROWS} rows per import")
    now = clock()
    batch = ImportBatch(new_id("imp"), len(command.rows), now, command.imported_by)
    async with uow:
        open_locations = await uow.locations.open_in(settings.service_area)
        requests = []
        for row in command.rows:
            request = new_request(row.request, new_id("req"), settings.service_area,
                                  row.registered_at, now)
            known = choose_locations(request, request.preferred_location_ids,
                                     request.max_distance_km, open_locations,
                                     postcode_coordinates)
            request.import_id = batch.import_id
            if row.urgency_granted:
                request.decide_urgency("granted", IMPORTED_URGENCY)
            try:
                check_new_request(request, settings.municipalities, known)
            except RequestRuleError as error:
                raise Invalid(f"line {row.line}.{error.field}", error.message) from error
            requests.append(request)
        await uow.requests.add_many(requests)
        for request in requests:
            uow.emit(submitted_event(request, child_ref(request.child)))
            if request.urgent:
                await uow.audit.add(AuditEntry(
                    audit_id=new_id("aud"), request_id=request.request_id, match_id=None,
                    action="urgency_granted_on_import", actor="loket_staff",
                    staff_member=command.imported_by, at=now))
        await uow.imports.add(batch)
        await uow.commit()
    return batch


async def known_request(uow: IntakeUnitOfWork, request_id: str) -> Request:
    request = await uow.requests.get_for_update(request_id)
    if request is None:
        raise NotFound("request_id", "no request with this id")
    return request


async def withdraw_request(
    command: WithdrawRequest, uow: IntakeUnitOfWork, clock: Clock
) -> Request:
    async with uow:
        request = await known_request(uow, command.request_id)
        request.withdraw()
        await uow.requests.save(request)
        uow.emit(withdrawn_event(request, "by_family", clock()))
        await uow.commit()
    return request


async def update_request(
    command: UpdateRequest, uow: IntakeUnitOfWork, postcode_coordinates: Coordinates,
    clock: Clock,
) -> Request:
    """A waiting family's change. Its distance (kept, or the new one) is applied again
    to the locations open now, so RequestUpdated carries the new effective list."""
    async with uow:
        request = await known_request(uow, command.request_id)
        request.update(
            command.desired_start_date or request.desired_start_date,
            command.day_parts or request.day_parts,
            request.accepts_partial_fit if command.accepts_partial_fit is None
            else command.accepts_partial_fit,
        )
        known = choose_locations(
            request,
            request.chosen_location_ids if command.preferred_location_ids is None
            else command.preferred_location_ids,
            request.max_distance_km if isinstance(command.max_distance_km, Keep)
            else command.max_distance_km,
            await uow.locations.open_in(request.service_area), postcode_coordinates)
        check_wishes(request, known)
        await uow.requests.save(request)
        uow.emit(updated_event(request, clock()))
        await uow.commit()
    return request


async def link_siblings(command: LinkSiblings, uow: IntakeUnitOfWork, clock: Clock) -> Request:
    """Staff link brothers and sisters (each has its own request), both ways."""
    if command.sibling_request_id == command.request_id:
        raise RequestRuleError("request_id", "a request cannot be its own sibling")
    async with uow:
        # Lock both in one order, so two links made at once cannot deadlock.
        found = {request_id: await uow.requests.get_for_update(request_id)
                 for request_id in sorted((command.request_id, command.sibling_request_id))}
        request, sibling = found[command.request_id], found[command.sibling_request_id]
        if request is None:
            raise NotFound("request_id", "no request with this id")
        if sibling is None:
            raise NotFound("request_id", "no sibling request with this id")
        request.require_waiting()
        if sibling.status is not Status.WAITING:
            raise OfferNotOpen("request_id", "the sibling's request is not waiting")
        now = clock()
        for one, other in ((request, sibling), (sibling, request)):
            if one.link_sibling(other.request_id):
                await uow.requests.save(one)
                uow.emit(updated_event(one, now))
        await uow.commit()
    return request


async def assess_request(
    command: AssessRequest, uow: IntakeUnitOfWork, clock: Clock, new_id: IdFactory
) -> Request:
    """Loket staff assess vulnerability and decide urgency (audited: the audit trail
    names who, the request's audit log shows it to staff). Other services hear of it
    (RequestAssessed, without characteristics or reasons) only when the outcome
    changes."""
    if command.urgency is not None and not command.urgency_reason:
        raise Invalid("urgency.reason", "give the reason for the urgency decision")
    async with uow:
        request = await known_request(uow, command.request_id)
        now = clock()
        decision = ((command.urgency, command.urgency_reason or "")
                    if command.urgency is not None else None)
        if request.assess(command.vulnerability, decision, now):
            uow.emit(assessed_event(request, now))
        await uow.requests.save(request)
        await uow.audit.add(AuditEntry(
            audit_id=new_id("aud"), request_id=request.request_id, match_id=None,
            action="assessed" if decision is None else f"assessed_urgency_{decision[0]}",
            actor="loket_staff", staff_member=command.staff_member, at=now))
        await uow.commit()
    return request


async def confirm_request(
    command: ConfirmRequest, uow: IntakeUnitOfWork, clock: Clock
) -> Request:
    async with uow:
        request = await known_request(uow, command.request_id)
        request.confirm(clock())
        await uow.requests.save(request)
        await uow.commit()
    return request


async def answer_offer(
    command: AnswerOffer, uow: IntakeUnitOfWork, clock: Clock, new_id: IdFactory
) -> Request:
    """The family's answer (or loket staff's for it, audited): accept or decline."""
    if command.answered_by == "loket_staff" and not command.staff_member:
        raise Invalid("staff_member", "name the staff member who answers for the family")
    async with uow:
        request = await known_request(uow, command.request_id)
        offer = request.offer(command.match_id)
        if offer is None:
            raise NotFound("match_id", "no offer with this id for this request")
        if not request.is_open:
            raise OfferNotOpen("match_id", f"the request is {request.status.value}")
        now = clock()
        offer.answer(command.accept, command.answered_by, now,
                     command.keep_waiting_for_higher_choices)
        await uow.requests.save(request)
        common = {"service_area": request.service_area, "match_id": offer.match_id,
                  "request_id": request.request_id, "place_id": offer.place_id,
                  "location_id": offer.location_id,
                  "municipality_nis": request.municipality_nis,
                  "answered_by": command.answered_by}
        if command.accept:
            uow.emit(MatchAccepted(**common, accepted_at=now,
                                   keep_waiting_for_higher_choices=(
                                       offer.keep_waiting_for_higher_choices)))
        else:
            uow.emit(MatchDeclined(**common, declined_at=now))
        await uow.audit.add(AuditEntry(
            audit_id=new_id("aud"), request_id=request.request_id, match_id=offer.match_id,
            action="offer_accepted" if command.accept else "offer_declined",
            actor=command.answered_by, staff_member=command.staff_member, at=now,
        ))
        await uow.commit()
    return request


async def chain(uow: IntakeUnitOfWork, request: Request) -> list[Request]:
    """The request, those it replaced and those made from it after crisis closures."""
    found = {request.request_id: request}
    todo = [request]
    while todo:
        current = todo.pop()
        for linked_id in (current.replaces_request_id, current.replaced_by_request_id):
            if linked_id and linked_id not in found:
                linked = await uow.requests.get_for_update(linked_id)
                if linked:
                    found[linked_id] = linked
                    todo.append(linked)
    return list(found.values())


async def erase_personal_data(
    command: ErasePersonalData, uow: IntakeUnitOfWork, clock: Clock
) -> Request:
    """Erasure: personal data goes, in every copy made for crisis requests too; the
    pseudonymous facts (and so the figures) stay."""
    async with uow:
        request = await known_request(uow, command.request_id)
        now = clock()
        for one in await chain(uow, request):
            if one.erase_personal_data(now):
                uow.emit(withdrawn_event(one, "by_family", now))
            await uow.requests.save(one)
        await uow.commit()
        erased = await uow.requests.get(command.request_id)
    assert erased is not None
    return erased


# --- jobs --------------------------------------------------------------------------------


def at_least(period: Period) -> timedelta:
    """A lower bound of any `period.after(start) - start`: narrows the claim in SQL."""
    if period.seconds is not None:
        return timedelta(seconds=period.seconds)
    return timedelta(days=period.days if period.days is not None else period.working_days or 0)


async def ask_for_confirmations(
    uow: IntakeUnitOfWork, clock: Clock, new_id: IdFactory, settings: IntakeSettings
) -> int:
    """Waiting families confirm their request every so often (area settings); one that
    does not in time no longer waits (RequestExpired). Several instances run this:
    rows are claimed FOR UPDATE SKIP LOCKED and changed in the same transaction."""
    done = 0
    async with uow:
        now = clock()
        rules = await settings_in_force(uow, RequestSettings, settings.service_area, now)
        for request in await uow.requests.claim_to_expire(
                settings.service_area, now - at_least(rules.confirm_within), CLAIM_BATCH):
            asked = request.confirmation_asked_at
            assert asked is not None
            if rules.confirm_within.after(asked) > now:
                break
            request.expire()
            await uow.requests.save(request)
            uow.emit(RequestExpired(
                service_area=request.service_area, request_id=request.request_id,
                municipality_nis=request.municipality_nis, confirmation_asked_at=asked,
                expired_at=now))
            await notify(uow, request, "request_expired", new_id, now)
            done += 1
        for request in await uow.requests.claim_to_ask(
                settings.service_area, now - at_least(rules.confirm_every), CLAIM_BATCH):
            if rules.confirm_every.after(request.confirmation_base()) > now:
                break
            request.confirmation_asked_at = now
            await uow.requests.save(request)
            await notify(uow, request, "confirm_request", new_id, now,
                         confirm_due=moment_in_dutch(rules.confirm_within.after(now)))
            done += 1
        await uow.commit()
    return done


# --- events ------------------------------------------------------------------------------


async def on_location_registered(
    event: CloudEvent, data: LocationRegistered, uow: IntakeUnitOfWork
) -> None:
    await uow.locations.upsert(Location.model_validate(data, from_attributes=True))


UNKNOWN_REQUEST = "field 'data.request_id': a request intake does not know"


async def offered_request(uow: IntakeUnitOfWork, request_id: str | None) -> Request:
    request = await uow.requests.get_for_update(request_id) if request_id else None
    if request is None:
        raise RejectedEvent(UNKNOWN_REQUEST)
    return request


async def replace_child(
    uow: IntakeUnitOfWork,
    old: Request,
    location: Location,
    event: CloudEvent,
    child_ref: ChildRef,
    postcode_coordinates: Coordinates,
    now: datetime,
    new_id: IdFactory,
) -> None:
    """A child affected by a released closure gets a crisis request (once per closure):
    its family's other open choices, or else the nearest open locations."""
    assert location.closure_id is not None and location.closed_from is not None
    if old.needs_loket_for_closure_id == location.closure_id:
        await uow.requests.save(old)
        return
    for offer in old.offers:
        if offer.location_id == location.location_id:
            offer.end(OfferStatus.CANCELLED, "location_closed")
    open_locations = await uow.locations.open_in(old.service_area)
    choices = crisis_choices(old.open_choices(location.location_id), location.location_id,
                             old.contact.postcode, open_locations, postcode_coordinates)
    if not choices:
        # Nothing left to offer in the area: the loket takes it up by hand.
        old.needs_loket_for_closure_id = location.closure_id
        await uow.requests.save(old)
        log.warning("crisis closure %s: no open location left, request on the loket's list",
                    location.closure_id)
        return
    new = old.replace_after_closure(new_id("req"), choices, location.closed_from, now)
    await uow.requests.save(old)
    await uow.requests.add(new)
    uow.emit(withdrawn_event(old, "replaced_after_closure", now), caused_by=event)
    uow.emit(submitted_event(new, child_ref(new.child)), caused_by=event)
    if new.vulnerable or new.urgent:  # staff's assessment follows the family
        uow.emit(assessed_event(new, now), caused_by=event)
    await relink_siblings(uow, old.request_id, new, event, now)


async def relink_siblings(
    uow: IntakeUnitOfWork, old_id: str, new: Request, event: CloudEvent, now: datetime
) -> None:
    """Siblings stay linked across a crisis (twins at a closed location are re-placed
    together): each sibling's link moves from the replaced request to the new one."""
    for sibling_id in new.sibling_request_ids:
        sibling = await uow.requests.get_for_update(sibling_id)
        if sibling is None or not sibling.relink_sibling(old_id, new.request_id):
            continue
        await uow.requests.save(sibling)
        if sibling.status is Status.WAITING:
            uow.emit(updated_event(sibling, now), caused_by=event)


async def closed_location(uow: IntakeUnitOfWork, location_id: str) -> Location | None:
    return closed(await uow.locations.get(location_id))


def closed(location: Location | None) -> Location | None:
    """The location if a closure of it was released (not just marked closed)."""
    return location if location and location.closure_id and location.closed_from else None


def proposed_offer(data: MatchProposed) -> Offer:
    return Offer(
        match_id=data.match_id, request_id=data.request_id, location_id=data.location_id,
        place_id=data.place_id, start_date=data.start_date, day_parts=tuple(data.day_parts),
        fit=data.fit, family_answer_due=data.family_answer_due,
        organiser_answer_due=data.organiser_answer_due, proposed_at=data.proposed_at,
        rule_set=data.rule_set, why=data.ordering,
    )


async def on_match_proposed(
    event: CloudEvent,
    data: MatchProposed,
    uow: IntakeUnitOfWork,
    child_ref: ChildRef,
    postcode_coordinates: Coordinates,
    clock: Clock,
    new_id: IdFactory,
) -> None:
    request = await offered_request(uow, data.request_id)
    offer = proposed_offer(data)
    known = request.offer(data.match_id)
    if known is not None:  # a repeat, or an offer whose end was read first
        if known.complete_from(offer):
            await uow.requests.save(request)
        return
    if not request.record_offer(offer):
        return
    now = clock()
    closed = await closed_location(uow, data.location_id)
    if closed:  # read after the closure: re-place the child at once
        await replace_child(uow, request, closed, event, child_ref, postcode_coordinates,
                            now, new_id)
        return
    await uow.requests.save(request)
    await notify(uow, request, "offer_made", new_id, now, **await offer_context(uow, offer))


async def on_matches_proposed(
    run: Sequence[Delivered[MatchProposed]],
    uow: IntakeUnitOfWork,
    child_ref: ChildRef,
    postcode_coordinates: Coordinates,
    clock: Clock,
    new_id: IdFactory,
) -> None:
    """A burst of proposals: what `on_match_proposed` does to each in turn, with the
    run's requests (locked) and locations read at once and the changed requests written
    together; its notices are added in order as it goes. A proposal at a closed location
    goes to `on_match_proposed` itself (it re-places the child, which may change other
    requests): what was planned before is written first, and the rest of the run reads
    its requests again. An unknown request raises: the consumer then applies the events
    one by one, and that one is dead-lettered."""
    locations = {location.location_id: location for location in
                 await uow.locations.get_many({each.data.location_id for each in run})}
    requests = await proposed_requests(uow, run)
    changed: dict[str, Request] = {}  # by id: a second proposal changes the same request
    for index, each in enumerate(run):
        data = each.data
        request = requests.get(data.request_id)
        if request is None:
            raise RejectedEvent(UNKNOWN_REQUEST)
        offer = proposed_offer(data)
        known = request.offer(data.match_id)
        location = locations.get(data.location_id)
        if known is None and request.is_open and closed(location):
            await uow.requests.save_many(list(changed.values()))
            changed = {}
            await on_match_proposed(each.event, data, uow, child_ref, postcode_coordinates,
                                    clock, new_id)
            requests = await proposed_requests(uow, run[index + 1:])
        elif known is not None:  # a repeat, or an offer whose end was read first
            if known.complete_from(offer):
                changed[request.request_id] = request
        elif request.record_offer(offer):
            changed[request.request_id] = request
            await notify(uow, request, "offer_made", new_id, clock(),
                         **offer_details(offer, location))
    await uow.requests.save_many(list(changed.values()))


async def proposed_requests(
    uow: IntakeUnitOfWork, run: Sequence[Delivered[MatchProposed]]
) -> dict[str, Request]:
    found = await uow.requests.get_many_for_update({each.data.request_id for each in run})
    return {request.request_id: request for request in found}


async def ended_offer(
    uow: IntakeUnitOfWork, request_id: str, match_id: str, status: OfferStatus,
    reason: str | None = None,
) -> tuple[Request, Offer] | None:
    """Marks the offer ended; None for an offer intake never saw or one already past."""
    request = await offered_request(uow, request_id)
    offer = request.offer(match_id)
    if offer is None or not offer.end(status, reason):
        return None
    await uow.requests.save(request)
    return request, offer


async def on_match_expired(
    event: CloudEvent, data: MatchExpired, uow: IntakeUnitOfWork, clock: Clock,
    new_id: IdFactory,
) -> None:
    request = await offered_request(uow, data.request_id)
    offer = request.offer(data.match_id)
    # The family accepted, but matching read it only after the deadline had passed.
    too_late = offer is not None and offer.status is OfferStatus.ACCEPTED
    ended = await ended_offer(uow, data.request_id, data.match_id, OfferStatus.EXPIRED)
    if ended and ended[0].is_open:
        request, offer = ended
        await notify(uow, request, "acceptance_too_late" if too_late else "offer_expired",
                     new_id, clock(), **await offer_context(uow, offer))


async def on_match_refused(
    event: CloudEvent, data: MatchRefused, uow: IntakeUnitOfWork, clock: Clock,
    new_id: IdFactory,
) -> None:
    request = await offered_request(uow, data.request_id)
    if request.offer(data.match_id) is None and request.is_open:
        # Read before the offer itself (another topic): the offer is over before the
        # family heard of it, so nobody is told; its details follow with the proposal.
        request.offers.append(Offer(
            match_id=data.match_id, request_id=data.request_id, location_id=data.location_id,
            place_id=data.place_id, start_date=data.refused_at.date(), day_parts=(),
            fit="full", family_answer_due=data.refused_at, organiser_answer_due=data.refused_at,
            proposed_at=data.refused_at, status=OfferStatus.REFUSED,
            refusal_reason=data.reason))
        await uow.requests.save(request)
        return
    ended = await ended_offer(uow, data.request_id, data.match_id, OfferStatus.REFUSED,
                              data.reason)
    if ended and ended[0].is_open:
        request, offer = ended
        await notify(uow, request, "offer_refused", new_id, clock(),
                     **await offer_context(uow, offer))


async def on_match_cancelled(
    event: CloudEvent, data: MatchCancelled, uow: IntakeUnitOfWork
) -> None:
    """Remembered: a cancellation for a closed location, read before the closure itself,
    still lets the closure re-place the child."""
    await ended_offer(uow, data.request_id, data.match_id, OfferStatus.CANCELLED, data.reason)


async def on_match_reminder_due(
    event: CloudEvent, data: MatchReminderDue, uow: IntakeUnitOfWork, clock: Clock,
    new_id: IdFactory,
) -> None:
    if data.addressee != "family":
        return  # the organiser's reminder is capacity's and the loket's to give
    request = await offered_request(uow, data.request_id)
    offer = request.offer(data.match_id)
    if offer and offer.status is OfferStatus.OPEN and request.is_open:
        await notify(uow, request, "offer_reminder", new_id, clock(),
                     **await offer_context(uow, offer))


async def on_placement_confirmed(
    event: CloudEvent,
    data: PlacementConfirmed,
    uow: IntakeUnitOfWork,
    child_ref: ChildRef,
    postcode_coordinates: Coordinates,
    clock: Clock,
    new_id: IdFactory,
) -> None:
    request = await offered_request(uow, data.request_id)
    if not request.is_open:
        return
    offer = request.offer(data.match_id)
    if offer is None:  # read before the offer itself (another topic)
        offer = Offer(
            match_id=data.match_id, request_id=data.request_id, location_id=data.location_id,
            place_id=data.place_id, start_date=data.start_date,
            day_parts=tuple(data.day_parts), fit="full", family_answer_due=data.confirmed_at,
            organiser_answer_due=data.confirmed_at, proposed_at=data.confirmed_at,
            status=OfferStatus.ACCEPTED, answered_by="family", answered_at=data.confirmed_at,
        )
        request.offers.append(offer)
    if not offer.place(data.enrolment_id, data.start_date, tuple(data.day_parts)):
        return
    request.mark_placed()
    now = clock()
    closed = await closed_location(uow, data.location_id)
    if closed and closed.closed_from and offer.present_from(closed.closed_from):
        await replace_child(uow, request, closed, event, child_ref, postcode_coordinates,
                            now, new_id)
        return
    await uow.requests.save(request)
    await notify(uow, request, "placed", new_id, now, **await offer_context(uow, offer))


async def on_enrolment_ended(
    event: CloudEvent, data: EnrolmentEnded, uow: IntakeUnitOfWork
) -> None:
    if data.request_id is None:
        return  # a child the organiser admitted outside the loket
    request = await offered_request(uow, data.request_id)
    for offer in request.offers:
        if offer.enrolment_id == data.enrolment_id and offer.ended_on is None:
            offer.ended_on = data.ended_on
            await uow.requests.save(request)


async def on_crisis_closure(
    event: CloudEvent,
    data: CrisisClosure,
    uow: IntakeUnitOfWork,
    child_ref: ChildRef,
    postcode_coordinates: Coordinates,
    clock: Clock,
    new_id: IdFactory,
) -> None:
    """Every child at the closed location from `effective_from`, or holding an offer
    there, gets a crisis request."""
    await uow.locations.close(data.location_id, data.closure_id, data.effective_from)
    location = await closed_location(uow, data.location_id)
    if location is None:  # a location intake never heard of: remember it closed anyway
        location = Location(
            location_id=data.location_id, service_area=data.service_area, name=data.location_id,
            municipality_nis=data.municipality_nis, postcode="0000", subsidy_tier="basic",
            closed=True, closure_id=data.closure_id, closed_from=data.effective_from)
        await uow.locations.upsert(location)
    now = clock()
    for found in await uow.requests.with_offers_at(data.location_id):
        # Read again: re-placing a sibling before it may have moved this one's links.
        old = await uow.requests.get_for_update(found.request_id)
        if old and old.affected_by_closure(data.location_id, data.effective_from):
            await replace_child(uow, old, location, event, child_ref, postcode_coordinates,
                                now, new_id)


# The one place that says which handler answers what.
COMMAND_HANDLERS: dict[type, AnyHandler] = {
    SubmitRequest: submit_request,
    HandOverPersonalLink: hand_over_personal_link,
    RevokePersonalLinks: revoke_personal_links,
    WithdrawRequest: withdraw_request,
    ErasePersonalData: erase_personal_data,
    UpdateRequest: update_request,
    LinkSiblings: link_siblings,
    AssessRequest: assess_request,
    ConfirmRequest: confirm_request,
    AnswerOffer: answer_offer,
    ImportWaitingList: import_waiting_list,
}
EVENT_HANDLERS: dict[type, AnyHandler] = {
    LocationRegistered: on_location_registered,
    MatchProposed: on_match_proposed,
    MatchExpired: on_match_expired,
    MatchRefused: on_match_refused,
    MatchCancelled: on_match_cancelled,
    MatchReminderDue: on_match_reminder_due,
    PlacementConfirmed: on_placement_confirmed,
    EnrolmentEnded: on_enrolment_ended,
    CrisisClosure: on_crisis_closure,
}
# Consecutive events of a type in one Kafka batch, applied together (same effect).
EVENT_BATCH_HANDLERS: dict[type, AnyHandler] = {
    MatchProposed: on_matches_proposed,
}
JOBS: dict[str, AnyHandler] = {"confirmations": ask_for_confirmations}
