"""A childcare request and its life: waiting, offered, placed, withdrawn, expired or
replaced after a crisis closure; and the offers made to it.

Pure rules, no I/O. The personal details live here and in intake's database
only; `handlers.submitted_event` picks what may leave the service (pseudonymous).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from contracts.schedule import DayPart, in_week_order
from loketkit.errors import Conflict, Invalid
from services.intake.domain.locations import MAX_CHOICES

Urgency = Literal["normal", "urgent", "crisis"]
# Where the family's urgency stands: never asked, asked by the family (with a reason),
# or decided by loket staff.
UrgencyStatus = Literal["none", "asked", "granted", "refused"]
UrgencyDecision = Literal["granted", "refused"]
Fit = Literal["full", "partial"]
AnsweredBy = Literal["family", "loket_staff"]
ERASED = "(gewist)"
MAX_SIBLINGS = 10


class Status(StrEnum):
    WAITING = "waiting"
    PLACED = "placed"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    REPLACED = "replaced_after_closure"

    @classmethod
    def _missing_(cls, value: object) -> Status | None:
        """Rows written before offers had their own table: still waiting."""
        return cls.WAITING if value in ("submitted", "proposed") else None


CLOSED_STATUSES = frozenset({Status.WITHDRAWN, Status.EXPIRED, Status.REPLACED})


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    PLACED = "placed"


class ChoiceState(StrEnum):
    """What a family sees per chosen location."""

    WAITING = "waiting"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REFUSED = "refused"
    EXPIRED = "expired"
    PLACED = "placed"
    CLOSED = "closed"


class RequestRuleError(Invalid):
    """A rule refused the request (422); `field` names the input at fault."""


class RequestClosed(Conflict):
    """The request is no longer waiting (409)."""


class OfferNotOpen(Conflict):
    """The offer cannot be answered any more (409, naming match_id)."""


@dataclass(frozen=True)
class Child:
    first_name: str
    last_name: str
    birth_date: date
    national_number: str | None = None


@dataclass(frozen=True)
class Contact:
    parent_name: str
    email: str | None
    phone: str | None
    street: str | None
    postcode: str


@dataclass(frozen=True)
class Priority:
    """The family facts the priority rules look at, declared by the family with a sworn
    statement (see `check_sworn_statement`)."""

    parents_working_or_training: bool = False
    single_parent: bool = False
    low_income: bool = False
    foster_child: bool = False
    sibling_location_ids: tuple[str, ...] = ()
    # The 2024 rules: the parents work or train at least 4/5 on average.
    works_at_least_four_fifths: bool = False

    @property
    def declares_any(self) -> bool:
        """True if the family declares any fact (so it must swear to it)."""
        return (self.parents_working_or_training or self.works_at_least_four_fifths
                or self.single_parent or self.low_income or self.foster_child
                or bool(self.sibling_location_ids))


@dataclass(frozen=True)
class Vulnerability:
    """The five characteristics of a vulnerable family (kwetsbaar gezin), as loket staff
    assess them: a judgement, not something the family declares.

    The rule (`vulnerable`) is the Flemish childcare priority rules' definition, as
    digested in the domain brief (/work/shared/domain/DOMAIN.md, "Priority rules"): a
    vulnerable family meets at least 2 of 5 characteristics, at least one of the first
    three. The first three are the family's income, the parents' education and the
    parents' work; then housing and health. (Public summaries word the five
    differently; check them against the decree before relying on the wording.)
    """

    low_income: bool = False
    low_parental_education: bool = False
    parents_without_work: bool = False
    poor_housing: bool = False
    health_problems: bool = False

    @property
    def first_three(self) -> tuple[bool, bool, bool]:
        return (self.low_income, self.low_parental_education, self.parents_without_work)

    @property
    def vulnerable(self) -> bool:
        """At least 2 of the 5 characteristics, at least one of the first three."""
        met = sum((*self.first_three, self.poor_housing, self.health_problems))
        return met >= 2 and any(self.first_three)


@dataclass(frozen=True)
class Assessment:
    """Staff's outcome, as other services learn it (`RequestAssessed`)."""

    vulnerable: bool
    urgent: bool


@dataclass
class Offer:
    """One offer of one place to one request, as matching proposed it, and what became
    of it. A placed offer is the child's placement (`enrolment_id`, `ended_on`)."""

    match_id: str
    request_id: str
    location_id: str
    place_id: str
    start_date: date
    day_parts: tuple[DayPart, ...]
    fit: Fit
    family_answer_due: datetime
    organiser_answer_due: datetime
    proposed_at: datetime
    status: OfferStatus = OfferStatus.OPEN
    cancel_reason: str | None = None
    refusal_reason: str | None = None
    keep_waiting_for_higher_choices: bool = False
    answered_by: AnsweredBy | None = None
    answered_at: datetime | None = None
    enrolment_id: str | None = None
    ended_on: date | None = None
    # Why matching offered it to this family: the rule set and a sentence staff can read out.
    rule_set: str | None = None
    why: str = ""

    def answer(self, accept: bool, by: AnsweredBy, now: datetime,
               keep_waiting: bool = False) -> None:
        """The family's answer: only to an open offer, before its deadline."""
        if self.status is not OfferStatus.OPEN:
            raise OfferNotOpen("match_id", f"offer {self.match_id} is {self.status.value}")
        if now >= self.family_answer_due:
            raise OfferNotOpen("match_id", f"offer {self.match_id} is past its answer deadline")
        self.status = OfferStatus.ACCEPTED if accept else OfferStatus.DECLINED
        self.keep_waiting_for_higher_choices = accept and keep_waiting
        self.answered_by, self.answered_at = by, now

    def end(self, status: OfferStatus, reason: str | None = None) -> bool:
        """Matching or the organiser ended an offer still undecided; False when it is
        already past that (a repeat or a late arrival changes nothing). Matching owns the
        deadline: an acceptance it read only after expiring the offer ends here too."""
        if self.status not in (OfferStatus.OPEN, OfferStatus.ACCEPTED):
            return False
        self.status = status
        if status is OfferStatus.CANCELLED:
            self.cancel_reason = reason
        elif status is OfferStatus.REFUSED:
            self.refusal_reason = reason
        return True

    @property
    def proposal_read(self) -> bool:
        """False for an offer known only from its end (a refusal read before it)."""
        return bool(self.day_parts)

    def complete_from(self, proposal: Offer) -> bool:
        """The proposal of an offer that ended before it was read: its details, its end
        stays."""
        if self.proposal_read:
            return False
        self.start_date, self.day_parts, self.fit = (
            proposal.start_date, proposal.day_parts, proposal.fit)
        self.family_answer_due, self.organiser_answer_due, self.proposed_at = (
            proposal.family_answer_due, proposal.organiser_answer_due, proposal.proposed_at)
        self.rule_set, self.why = proposal.rule_set, proposal.why
        return True

    def place(self, enrolment_id: str, start_date: date, day_parts: tuple[DayPart, ...]) -> bool:
        if self.status is OfferStatus.PLACED:
            return False
        self.status = OfferStatus.PLACED
        self.enrolment_id, self.start_date, self.day_parts = enrolment_id, start_date, day_parts
        return True

    def present_from(self, day: date) -> bool:
        """A placement whose child is still there on `day` (not ended before it)."""
        return self.status is OfferStatus.PLACED and (self.ended_on is None or self.ended_on > day)


@dataclass
class Request:
    """A child's request.

    **Choices.** `preferred_location_ids` is the effective list: what RequestSubmitted
    and RequestUpdated publish, and what the choice states, the offers and a crisis
    re-placement go by. It is the family's own ranked choices first, then, when the
    family gave a `max_distance_km`, the open locations of the area within that
    distance of its postcode, nearest first, without duplicates, at most `MAX_CHOICES`
    in all (see `choose`). `distance_location_ids` remembers which of the list came
    from the distance, so the family's own list is the rest, in its order
    (`chosen_location_ids`): its own choices number at most `MAX_CHOICES` and come
    first, so the cap only ever drops distance ones. The distance itself is kept so
    that every change applies it again to the locations open then. The distance and
    the postcode never leave intake: other services see only the effective list.
    """

    request_id: str
    service_area: str
    child: Child
    contact: Contact
    municipality_nis: str
    neighbourhood_code: str | None
    desired_start_date: date
    day_parts: tuple[DayPart, ...]
    preferred_location_ids: tuple[str, ...]
    priority: Priority
    urgency: Urgency
    submitted_at: datetime
    accepts_partial_fit: bool = False
    share_contact_with_organiser: bool = False
    sibling_request_ids: tuple[str, ...] = ()
    status: Status = Status.WAITING
    last_confirmed_at: datetime | None = None
    confirmation_asked_at: datetime | None = None
    replaces_request_id: str | None = None
    replaced_by_request_id: str | None = None
    # Set when a crisis closure left no open location to re-place the child: the loket
    # takes it up by hand (`GET /requests?needs_loket=true`).
    needs_loket_for_closure_id: str | None = None
    import_id: str | None = None
    # The signed-in parent who registered it (token subject), if any: theirs to follow.
    owner_subject: str | None = None
    erased_at: datetime | None = None
    # When the family swore to its priority facts (required when it declares any).
    sworn_statement_at: datetime | None = None
    # Urgency: the family may ask (with a reason); loket staff grant or refuse it.
    # `urgency` is what other services see: "urgent" only once granted.
    urgency_status: UrgencyStatus = "none"
    urgency_reason: str | None = None  # the family's, when it asked
    urgency_decision_reason: str | None = None  # the staff's, when they decided
    # Staff's assessment of the five characteristics (None: not assessed yet).
    vulnerability: Vulnerability | None = None
    assessed_at: datetime | None = None
    # Any open location within this distance (km, straight line from the family's
    # postcode) besides the named choices; None: only those. See the class docstring.
    max_distance_km: float | None = None
    distance_location_ids: tuple[str, ...] = ()
    offers: list[Offer] = field(default_factory=list)

    @property
    def birth_month(self) -> str:
        return self.child.birth_date.strftime("%Y-%m")

    @property
    def chosen_location_ids(self) -> tuple[str, ...]:
        """The locations the family named itself, in its order."""
        return tuple(location_id for location_id in self.preferred_location_ids
                     if location_id not in self.distance_location_ids)

    def choose(self, chosen: Sequence[str], max_distance_km: float | None,
               nearby: Sequence[str]) -> None:
        """The family's own ranked choices, then `nearby` (the open locations of the area
        within `max_distance_km` of its postcode, nearest first) that it did not name,
        as many as fit under `MAX_CHOICES`."""
        own = tuple(dict.fromkeys(chosen))
        room = max(MAX_CHOICES - len(own), 0)
        added = tuple(loc for loc in dict.fromkeys(nearby) if loc not in own)[:room]
        self.preferred_location_ids = (*own, *added)
        self.distance_location_ids = added
        self.max_distance_km = max_distance_km

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    @property
    def vulnerable(self) -> bool:
        return self.vulnerability is not None and self.vulnerability.vulnerable

    @property
    def urgent(self) -> bool:
        """Urgency granted by loket staff and still in force."""
        return self.urgency_status == "granted"

    def assessment(self) -> Assessment:
        return Assessment(vulnerable=self.vulnerable, urgent=self.urgent)

    def ask_urgency(self, reason: str) -> None:
        """The family asks for urgency: staff decide; until then the request is normal."""
        self.urgency_status, self.urgency_reason = "asked", reason

    def decide_urgency(self, decision: UrgencyDecision, reason: str) -> None:
        """Staff grant or refuse urgency (again, if they change their mind). A crisis
        request stays a crisis request whatever they decide."""
        self.urgency_status, self.urgency_decision_reason = decision, reason
        if self.urgency != "crisis":
            self.urgency = "urgent" if decision == "granted" else "normal"

    def assess(self, vulnerability: Vulnerability,
               urgency: tuple[UrgencyDecision, str] | None, now: datetime) -> bool:
        """Staff's assessment: the characteristics, and urgency if they decide it (None
        leaves it as it is). Returns whether the outcome others see changed."""
        if not self.is_open:
            raise RequestClosed("request_id", f"request is {self.status.value}")
        before = self.assessment()
        self.vulnerability, self.assessed_at = vulnerability, now
        if urgency is not None:
            self.decide_urgency(*urgency)
        return self.assessment() != before

    def offer(self, match_id: str) -> Offer | None:
        return next((offer for offer in self.offers if offer.match_id == match_id), None)

    def placement(self) -> Offer | None:
        """The latest placement (an admission the organiser confirmed)."""
        placed = [offer for offer in self.offers if offer.status is OfferStatus.PLACED]
        return max(placed, key=lambda offer: offer.start_date) if placed else None

    def require_waiting(self) -> None:
        if self.status is not Status.WAITING:
            raise RequestClosed("request_id", f"request is {self.status.value}, not waiting")

    def withdraw(self) -> None:
        if not self.is_open:
            raise RequestClosed("request_id", f"request is already {self.status.value}")
        self.status = Status.WITHDRAWN

    def record_offer(self, offer: Offer) -> bool:
        """Matching's offer; False for a repeat or when the request no longer waits."""
        if self.offer(offer.match_id) or not self.is_open:
            return False
        self.offers.append(offer)
        return True

    def confirm(self, now: datetime) -> None:
        self.require_waiting()
        self.last_confirmed_at, self.confirmation_asked_at = now, None

    def confirmation_base(self) -> datetime:
        return self.last_confirmed_at or self.submitted_at

    def expire(self) -> None:
        self.status = Status.EXPIRED

    def mark_placed(self) -> None:
        if self.status is Status.WAITING:
            self.status = Status.PLACED

    def update(self, desired_start_date: date, day_parts: tuple[DayPart, ...],
               accepts_partial_fit: bool) -> None:
        """The schedule a waiting family changes; its choices change with `choose`."""
        self.require_waiting()
        self.desired_start_date = desired_start_date
        self.day_parts = tuple(in_week_order(day_parts))
        self.accepts_partial_fit = accepts_partial_fit

    def link_sibling(self, other_id: str) -> bool:
        if other_id == self.request_id:
            raise RequestRuleError("request_id", "a request cannot be its own sibling")
        if other_id in self.sibling_request_ids:
            return False
        if len(self.sibling_request_ids) >= MAX_SIBLINGS:
            raise RequestRuleError("request_id", f"at most {MAX_SIBLINGS} linked siblings")
        self.sibling_request_ids = (*self.sibling_request_ids, other_id)
        return True

    def relink_sibling(self, old_id: str, new_id: str) -> bool:
        """A sibling's request was replaced (a crisis): the link follows the new one."""
        if old_id not in self.sibling_request_ids:
            return False
        self.sibling_request_ids = tuple(dict.fromkeys(
            new_id if linked == old_id else linked for linked in self.sibling_request_ids))
        return True

    def choice_states(self) -> dict[str, ChoiceState]:
        """Per chosen location, in the family's order, one plain state."""
        placed = self.placement()
        ranks = {loc: rank for rank, loc in enumerate(self.preferred_location_ids)}
        states: dict[str, ChoiceState] = {}
        for location_id in self.preferred_location_ids:
            latest = [o for o in self.offers if o.location_id == location_id]
            offer = max(latest, key=lambda o: o.proposed_at) if latest else None
            state = _offer_state(offer)
            if state in (ChoiceState.WAITING, ChoiceState.OFFERED, ChoiceState.ACCEPTED):
                if not self.is_open:
                    state = ChoiceState.CLOSED
                elif placed and state is ChoiceState.WAITING:
                    higher = ranks[location_id] < ranks.get(placed.location_id, len(ranks))
                    if not (placed.keep_waiting_for_higher_choices and higher):
                        state = ChoiceState.CLOSED
            states[location_id] = state
        return states

    def open_choices(self, closed_location_id: str) -> tuple[str, ...]:
        """The family's choices it still waits for (or was offered), besides a closed one.
        A placement at the closed location is undone, so the choices it closed count again."""
        still = {ChoiceState.WAITING, ChoiceState.OFFERED, ChoiceState.ACCEPTED}
        placed = self.placement()
        if self.is_open and placed and placed.location_id == closed_location_id:
            still.add(ChoiceState.CLOSED)
        return tuple(loc for loc, state in self.choice_states().items()
                     if loc != closed_location_id and state in still)

    def affected_by_closure(self, location_id: str, effective_from: date) -> bool:
        """The child is at the closed location from `effective_from`, holds an open or
        accepted offer there, or lost its offer there to the closure."""
        if not self.is_open:
            return False
        for offer in self.offers:
            if offer.location_id != location_id:
                continue
            if offer.status in (OfferStatus.OPEN, OfferStatus.ACCEPTED):
                return True
            if offer.status is OfferStatus.CANCELLED and offer.cancel_reason == "location_closed":
                return True
            if offer.present_from(effective_from):
                return True
        return False

    def erase_personal_data(self, now: datetime) -> bool:
        """The family's right to erasure: names, national number, contact details and
        the free-text urgency reasons go; the birth date keeps only its month (what the
        figures need). Returns whether the request was still open, and so must be
        withdrawn too."""
        if self.erased_at is not None:
            return False
        was_open = self.status is Status.WAITING
        if was_open:
            self.status = Status.WITHDRAWN
        self.child = Child(ERASED, ERASED, self.child.birth_date.replace(day=1))
        self.contact = Contact(ERASED, None, None, None, self.contact.postcode)
        if self.urgency_reason is not None:
            self.urgency_reason = ERASED
        if self.urgency_decision_reason is not None:
            self.urgency_decision_reason = ERASED
        self.share_contact_with_organiser = False
        self.erased_at = now
        return was_open

    def replace_after_closure(
        self, new_id: str, choices: tuple[str, ...], effective_from: date, now: datetime
    ) -> Request:
        """The closed location's child gets a new, crisis-urgent request for `choices`
        (see `locations.crisis_choices`): same child, same family, same registration
        date, a place needed from the closure's effective date."""
        self.status = Status.REPLACED
        self.replaced_by_request_id = new_id
        self.needs_loket_for_closure_id = None
        return replace(
            self,
            request_id=new_id,
            preferred_location_ids=choices,
            distance_location_ids=tuple(
                loc for loc in self.distance_location_ids if loc in choices),
            desired_start_date=effective_from,
            urgency="crisis",
            status=Status.WAITING,
            last_confirmed_at=now,
            confirmation_asked_at=None,
            replaces_request_id=self.request_id,
            replaced_by_request_id=None,
            needs_loket_for_closure_id=None,
            import_id=None,
            erased_at=None,
            offers=[],
        )


def _offer_state(offer: Offer | None) -> ChoiceState:
    if offer is None:
        return ChoiceState.WAITING
    if offer.status is OfferStatus.CANCELLED:
        return ChoiceState.CLOSED if offer.cancel_reason == "location_closed" else (
            ChoiceState.WAITING)
    return {
        OfferStatus.OPEN: ChoiceState.OFFERED,
        OfferStatus.ACCEPTED: ChoiceState.ACCEPTED,
        OfferStatus.DECLINED: ChoiceState.DECLINED,
        OfferStatus.REFUSED: ChoiceState.REFUSED,
        OfferStatus.EXPIRED: ChoiceState.EXPIRED,
        OfferStatus.PLACED: ChoiceState.PLACED,
    }[offer.status]


def check_new_request(
    request: Request, area_municipalities: frozenset[str], known_locations: set[str]
) -> None:
    if request.municipality_nis not in area_municipalities:
        raise RequestRuleError(
            "municipality_nis",
            f"municipality {request.municipality_nis} is not served by this loket",
        )
    check_wishes(request, known_locations)
    check_sworn_statement(request)


def check_sworn_statement(request: Request) -> None:
    """Families declare work, training, income and family facts with a sworn statement
    (the domain brief, "Priority rules"): no facts count without one."""
    if request.priority.declares_any and request.sworn_statement_at is None:
        raise RequestRuleError(
            "sworn_statement",
            "priority facts are declared: confirm them with a sworn statement "
            "(sworn_statement: true)",
        )


def check_wishes(request: Request, known_locations: set[str]) -> None:
    """What a family may change later is checked as at registration."""
    if not request.chosen_location_ids and request.max_distance_km is None:
        raise RequestRuleError(
            "preferred_location_ids", "name at least one location, or give max_distance_km")
    unknown = [loc for loc in request.chosen_location_ids if loc not in known_locations]
    if unknown:
        raise RequestRuleError(
            "preferred_location_ids", f"unknown or closed locations: {', '.join(unknown)}"
        )
    if not request.preferred_location_ids:
        raise RequestRuleError(
            "max_distance_km",
            f"no open location of the area within {request.max_distance_km:g} km of the "
            "postcode")
    if not request.day_parts:
        raise RequestRuleError("day_parts", "name at least one day-part")
    if request.desired_start_date < request.child.birth_date:
        raise RequestRuleError("desired_start_date", "must not be before the birth date")
    age_months = months_between(request.child.birth_date, request.desired_start_date)
    if age_months >= 36:
        raise RequestRuleError("desired_start_date", "the child is 3 or older at that date")


def months_between(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


def child_reference(key: bytes, child: Child) -> str:
    """Keyed HMAC: stable per child, meaningless without the key (which stays in intake)."""
    identity = child.national_number or (
        f"{child.first_name.strip().lower()}|{child.last_name.strip().lower()}|{child.birth_date}"
    )
    return hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """Who answered (or did) what for a request, when: staff acting for a family."""

    audit_id: str
    request_id: str
    match_id: str | None
    action: str
    actor: str
    staff_member: str | None
    at: datetime


@dataclass(frozen=True)
class ImportBatch:
    import_id: str
    rows: int
    imported_at: datetime
    imported_by: str | None
