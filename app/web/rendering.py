"""Pages and fragments: the full page normally, the page's blocks for htmx requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from jinja2.runtime import Context
from jinja2_fragments import BlockNotFoundError

from app.web.credentials import SESSION_COOKIE
from app.web.csrf import CSRF_FIELD, csrf_token, set_csrf_cookie
from app.web.presenters import urls

SITE_NAME = "Adaptation Advisor"
# The progress bar in the page header; an htmx swap sends it out of band with every fragment.
PROGRESS_TEMPLATE = "questionnaire/_progress.html"


class Nav(NamedTuple):
    """The header's links (attributes: what the template reads them as, without Jinja's
    attribute-then-item fallback)."""

    signed_in: bool
    how: str
    mine: str
    teams: str
    account: str
    signin: str
    signup: str
    signout: str
    reviews: str
    reviews_count: str


def _links(signed_in: bool) -> Nav:
    """The header's links, signed in or not."""
    return Nav(
        signed_in=signed_in,
        how=urls.how_it_decides(),
        mine=urls.my_assessments(),
        teams=urls.teams(),
        account=urls.account(),
        signin=urls.signin(),
        signup=urls.signup(),
        signout=urls.signout(),
        reviews=urls.reviews(),
        reviews_count=urls.reviews_count(),
    )


_NAV = {signed_in: _links(signed_in) for signed_in in (False, True)}


def _nav(request: Request) -> Nav:
    """The header's links. A session cookie shows the signed-in links without a query; a
    revoked one shows them until the next sign-in page says otherwise."""
    return _NAV[bool(request.cookies.get(SESSION_COOKIE))]


def is_htmx(request: Request) -> bool:
    """A request made by htmx for a fragment (not a history restore, which needs the page)."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def renderer(request: Request) -> Pages:
    """The app's template renderer."""
    pages: Pages = request.app.state.pages
    return pages


class Pages:
    """Renders templates from one folder with autoescaping on everywhere."""

    def __init__(self, directory: Path) -> None:
        self.env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            # Templates ship with the code: no stat() of every template on every render.
            auto_reload=False,
        )
        # Compiled templates by name, without the environment's locked LRU look-up per render
        # (never reloaded, see above). Names come from the code, so this holds at most one
        # entry per template file.
        self._templates: dict[str, Template] = {}

    def template(self, name: str) -> Template:
        """The compiled template `name`."""
        found = self._templates.get(name)
        if found is None:
            found = self._templates[name] = self.env.get_template(name)
        return found

    def preload(self) -> None:
        """Compile every template now, so the first visitors do not pay for it."""
        for name in self.env.list_templates(extensions=["html"]):
            self.template(name)

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        *,
        status_code: int = 200,
    ) -> HTMLResponse:
        """Render the whole page, or its fragment blocks when htmx asks."""
        context = {
            "request": request,
            "csrf_field": CSRF_FIELD,
            "csrf_token": csrf_token(request),
            "nav": _nav(request),
            **context,
        }
        headers = {"Vary": "HX-Request"}
        if is_htmx(request):
            # The page's title and content blocks, and the progress bar swapped out of band;
            # both blocks read one context (a block's own `set`s stay local to it).
            page = self.template(template)
            shared = page.new_context({**context, "oob": True})
            title = self._block(page, "title", shared)
            content = self._block(page, "content", shared)
            progress = self._included(PROGRESS_TEMPLATE, shared)
            html = f"<title>{title} · {SITE_NAME}</title>\n{content}{progress}"
            # The URL after any redirect is the one the user should be able to bookmark.
            headers["HX-Push-Url"] = request.url.path
        else:
            html = self.template(template).render(oob=False, **context)
        response = HTMLResponse(html, status_code=status_code, headers=headers)
        set_csrf_cookie(request, response)
        return response

    def _block(self, page: Template, name: str, context: Context) -> str:
        """One block of `page`, rendered in `context` (as jinja2-fragments' `render_block`)."""
        try:
            render = page.blocks[name]
        except KeyError:
            raise BlockNotFoundError(name, str(page.name)) from None
        try:
            return self.env.concat(render(context))
        except Exception:
            self.env.handle_exception()

    def _included(self, name: str, context: Context) -> str:
        """Template `name` rendered as `{% include %}` renders it: in `context`, shared."""
        included = self.template(name)
        try:
            return self.env.concat(
                included.root_render_func(included.new_context(context.get_all(), True))
            )
        except Exception:
            self.env.handle_exception()
