"""Pages for people, the same in every service: one Dutch layout and style, sessions in
a signed cookie of the service's own, CSRF tokens on every form, and sign-in through
the identity provider (authorization code flow with PKCE).

A service renders its own pages from its own handlers and views (no calls between
services to draw a page): `Pages` finds the service's templates first, then the shared
layout here. Page routes declare who may open them with `page_requires` / `page_public`
(marked for the role table like API routes); a browser that is not signed in is sent
to `/aanmelden`, and a role that may not gets a Dutch 403 page.
"""

from loketkit.web.pages import (
    FormPost,
    PageCaller,
    Pages,
    install_web,
    page_public,
    page_requires,
    redirect,
)

__all__ = ["FormPost", "PageCaller", "Pages", "install_web", "page_public", "page_requires",
           "redirect"]
