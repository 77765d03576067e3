"""Rendering pages and guarding them: the shared half of every service's pages."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData

from loketkit.auth import Caller, NotAllowed, OptionalCaller, Role, api_routes, guard
from loketkit.dutch import date_in_dutch, day_parts_in_dutch, moment_in_dutch
from loketkit.errors import DomainError
from loketkit.http import domain_error
from loketkit.settings import ServiceSettings
from loketkit.web.menu import menu_for
from loketkit.web.session import CSRF_FIELD, csrf_token, csrf_valid, install_session, session_caller
from loketkit.web.signin import SIGN_IN, SignInFailed, signin_router

SHARED_TEMPLATES = Path(__file__).parent / "templates"
# Pages can show personal data: not cached, not framed (clickjacking a form), and no
# address (a search holds a name) sent along to another site.
PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff"}


class SignInNeeded(Exception):
    def __init__(self, back_to: str) -> None:
        super().__init__("sign in first")
        self.back_to = back_to


class FormExpired(Exception):
    """A form posted without this session's CSRF token (forged, or the session ended)."""


class Pages:
    """One service's templates (first) over the shared layout and form macros."""

    def __init__(self, templates: Path, title: str, service: str) -> None:
        self.title = title
        self.service = service
        self.links: Mapping[str, str] = {}
        self.environment = Environment(
            loader=ChoiceLoader([FileSystemLoader(templates), FileSystemLoader(SHARED_TEMPLATES)]),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,  # a misspelt name is an error, not an empty field
            trim_blocks=True, lstrip_blocks=True,
        )
        self.environment.filters["datum"] = date_in_dutch
        self.environment.filters["moment"] = moment_in_dutch
        self.environment.filters["dagdelen"] = day_parts_in_dutch

    def link(self, service: str, path: str) -> str:
        """A page of another service (or this one), as the browser reaches it."""
        return path if service == self.service else f"{self.links.get(service, '')}{path}"

    def render(self, request: Request, template: str, status_code: int = 200,
               **context: Any) -> HTMLResponse:
        caller = session_caller(request)
        html = self.environment.get_template(template).render(
            request=request, caller=caller, csrf_field=CSRF_FIELD, csrf_token=csrf_token(request),
            service_title=self.title, menu=menu_for(caller, self.links, self.service),
            link=self.link, path=request.url.path,
            flash=request.session.pop("flash", None),
            **({"errors": {}, "values": {}} | context),  # a form's own when it has them
        )
        return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def redirect(request: Request, path: str, flash: str | None = None) -> RedirectResponse:
    """After a form: 303 to the page that shows the result, with a one-time notice."""
    if flash:
        request.session["flash"] = flash
    return RedirectResponse(path, status_code=303)


def _caller_of(request: Request, bearer: Caller | None) -> Caller | None:
    request.state.page = True
    return session_caller(request) or bearer


def page_requires(*roles: Role) -> Any:
    """A page for signed-in callers holding one of `roles`; a browser that is not signed
    in is sent to sign in and back. (API clients may send a bearer token instead.)"""
    allowed = frozenset(roles)

    async def signed_in_page(request: Request, bearer: OptionalCaller) -> Caller:
        caller = _caller_of(request, bearer)
        if caller is None:
            query = f"?{request.url.query}" if request.url.query else ""
            raise SignInNeeded(request.url.path + query)
        if not caller.roles & allowed:
            raise NotAllowed("authorization", "your role may not open this page")
        return caller

    return guard(signed_in_page, *sorted(allowed))


def page_public(reason: str) -> Any:
    async def open_page(request: Request, bearer: OptionalCaller) -> Caller | None:
        return _caller_of(request, bearer)

    return guard(open_page, "public", reason)


async def posted_form(request: Request) -> FormData:
    """The submitted form, once its CSRF token matches the session's. A request signed
    with a bearer token carries no ambient credential, so it needs none."""
    form = await request.form()
    if "authorization" not in request.headers and not csrf_valid(request, form.get(CSRF_FIELD)):
        raise FormExpired()
    return form


FormPost = Annotated[FormData, Depends(posted_form)]
PageCaller = Caller


MESSAGES = {
    401: "Meld je aan om deze pagina te zien.",
    403: "Je mag deze pagina niet openen met de rol waarmee je bent aangemeld.",
    404: "Deze pagina of gegevens bestaan niet (of horen niet bij jou).",
    409: "Dit kan nu niet meer: de toestand is intussen veranderd.",
    422: "Dit kunnen we niet verwerken.",
    429: "Te veel pogingen na elkaar. Probeer het over een minuut opnieuw.",
}


def home_router(pages: Pages) -> APIRouter:
    """`/` for a service whose pages start elsewhere: what the caller can open."""
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    async def home(request: Request, caller: Annotated[
            Caller | None, page_public("where every visitor starts")]) -> HTMLResponse:
        return pages.render(request, "home.html")

    return router


def install_web(app: FastAPI, settings: ServiceSettings, pages: Pages) -> None:
    """Sessions, sign-in routes and Dutch error pages for a service with pages."""
    install_session(app, settings)
    app.include_router(signin_router())
    if not any(path == "/" for path, _ in api_routes(app)):
        app.include_router(home_router(pages))
    pages.links = settings.service_links
    app.state.pages = pages

    def error_page(request: Request, status: int, message: str) -> HTMLResponse:
        return pages.render(request, "error.html", status_code=status,
                            heading=MESSAGES.get(status, "Er ging iets mis."), message=message)

    async def sign_in_needed(request: Request, error: SignInNeeded) -> Response:
        return RedirectResponse(f"{SIGN_IN}?volgende={quote(error.back_to)}", status_code=303)

    async def sign_in_failed(request: Request, error: SignInFailed) -> Response:
        return error_page(request, 400, "Aanmelden is niet gelukt. Probeer het opnieuw.")

    async def form_expired(request: Request, error: FormExpired) -> Response:
        return error_page(request, 403, "Dit formulier is verlopen. Ga terug, laad de pagina "
                                        "opnieuw en verstuur het nog eens.")

    async def page_or_problem(request: Request, error: DomainError) -> Response:
        if getattr(request.state, "page", False):
            response: Response = error_page(request, error.status_code,
                                            MESSAGES.get(error.status_code, ""))
            response.headers.update(error.headers)
            return response
        answer: JSONResponse = await domain_error(request, error)
        return answer

    app.add_exception_handler(SignInNeeded, sign_in_needed)  # type: ignore[arg-type]
    app.add_exception_handler(SignInFailed, sign_in_failed)  # type: ignore[arg-type]
    app.add_exception_handler(FormExpired, form_expired)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, page_or_problem)  # type: ignore[arg-type]
