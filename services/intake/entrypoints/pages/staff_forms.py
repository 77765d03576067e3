"""The staff pages' forms: from what was posted to a command, through the same schema
the API checks (`schemas.Assessment`), and back to Dutch messages next to the fields."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from loketkit.web.forms import dutch_message
from services.intake.domain.commands import AnswerOffer, AssessRequest
from services.intake.domain.model import Request, Vulnerability
from services.intake.entrypoints.schemas import Assessment

# The five characteristics of a vulnerable family, as the form names them.
CHARACTERISTICS = (
    ("low_income", "1. Laag gezinsinkomen"),
    ("low_parental_education", "2. Laag opleidingsniveau van de ouders"),
    ("parents_without_work", "3. Ouders zonder werk"),
    ("poor_housing", "4. Slechte huisvesting"),
    ("health_problems", "5. Gezondheidsproblemen in het gezin"),
)
DECISIONS = (
    ("", "Nu niet beslissen (dringendheid blijft zoals ze is)"),
    ("granted", "Dringendheid toekennen"),
    ("refused", "Dringendheid weigeren"),
)
ANSWERS = (
    ("accept", "Aanvaarden"),
    ("accept_keep_waiting", "Aanvaarden en blijven wachten op de hoger gerangschikte keuzes"),
    ("decline", "Weigeren (deze locatie valt dan weg)"),
)
# The form's fields: the API's dotted fields map onto these names.
TRAITS, DECISION, REASON = "kenmerken", "beslissing", "reden"
FIELDS = {"urgency.reason": REASON, "urgency.decision": DECISION, "urgency": DECISION}
REASON_NEEDED = "Geef de reden voor je beslissing over de dringendheid."
REASON_WITHOUT_DECISION = ("Kies of je de dringendheid toekent of weigert, of laat de "
                           "reden leeg.")
ANSWER_NEEDED = "Kies hoe het gezin antwoordt."
NOT_OPEN = ("Dit aanbod kan niet meer beantwoord worden: het is niet meer open of de "
            "termijn om te antwoorden is voorbij.")


def staff_member(name: str | None, subject: str) -> str:
    return (name or subject)[:200]


def assessment_values(request: Request) -> dict[str, Any]:
    """The assessment form as it opens: the characteristics assessed so far."""
    assessed = request.vulnerability or Vulnerability()
    return {TRAITS: [name for name, _ in CHARACTERISTICS if getattr(assessed, name)],
            DECISION: "", REASON: ""}


def _errors(error: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        dotted = ".".join(str(part) for part in item["loc"] if not isinstance(part, int))
        name = FIELDS.get(dotted, TRAITS if dotted.startswith("vulnerability") else DECISION)
        missing = item["type"] in ("missing", "string_too_short")
        found.setdefault(name, REASON_NEEDED if name == REASON and missing
                         else dutch_message(item))
    return found


def assessment_command(values: dict[str, Any], request_id: str, member: str
                       ) -> tuple[AssessRequest | None, dict[str, str]]:
    """The command the posted assessment asks for, or the errors per field. The body is
    built as the API receives it and checked by the API's own schema."""
    chosen = values.get(TRAITS) or []
    decision, reason = values.get(DECISION) or "", values.get(REASON) or ""
    if not decision and reason:
        return None, {DECISION: REASON_WITHOUT_DECISION}
    body = {"vulnerability": {name: name in chosen for name, _ in CHARACTERISTICS},
            "urgency": {"decision": decision, "reason": reason} if decision else None}
    unknown = set(chosen) - {name for name, _ in CHARACTERISTICS}
    try:
        checked = Assessment.model_validate(body)
    except ValidationError as error:
        return None, _errors(error)
    if unknown:
        return None, {TRAITS: "Kies een van de mogelijkheden."}
    urgency = checked.urgency
    return AssessRequest(
        request_id, Vulnerability(**checked.vulnerability.model_dump()),
        urgency=urgency.decision if urgency else None,
        urgency_reason=urgency.reason if urgency else None,
        staff_member=member), {}


def answer_field(match_id: str) -> str:
    """One form per offer: each its own field name (and so its own id on the page)."""
    return f"antwoord-{match_id}"


def answer_command(values: dict[str, Any], request_id: str, match_id: str, member: str
                   ) -> tuple[AnswerOffer | None, dict[str, str]]:
    """Loket staff answer for the family (audited as the loket's answer, naming them)."""
    answer = values.get(answer_field(match_id))
    if answer not in dict(ANSWERS):
        return None, {answer_field(match_id): ANSWER_NEEDED}
    return AnswerOffer(request_id, match_id, accept=answer != "decline",
                       keep_waiting_for_higher_choices=answer == "accept_keep_waiting",
                       answered_by="loket_staff", staff_member=member), {}
