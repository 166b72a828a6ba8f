"""JSON API of share links: make, list and revoke them (key holders); read one (anyone)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.decision.recommendation import Recommendation
from app.services import sharing
from app.web.credentials import caller
from app.web.deps import transaction
from app.web.errors import documented
from app.web.presenters import urls

BAD_INPUT = documented(422, "Bad input: each problem names its field and the allowed values.")
router = APIRouter(prefix="/api", tags=["sharing"], responses=BAD_INPUT)
shared_router = APIRouter(tags=["sharing"], responses=BAD_INPUT)

NOT_FOUND = documented(404, "No assessment with that id, or not with your key.")
# As on the share page: the address is the credential.
SHARED_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}


class NewShare(BaseModel):
    """Body of `POST /api/assessments/{id}/shares`."""

    model_config = ConfigDict(extra="forbid")

    expires_in_days: Literal[7, 30, 90] | None = Field(
        description="Days until the link stops working: 7, 30 or 90; null never expires."
    )


class ShareCreated(BaseModel):
    """A new share link. Anyone with `url` can read the assessment (and nothing more)."""

    token: str
    url: str = Field(description="The read-only page, `/s/{token}`; add `.json` for data.")
    expires_at: datetime | None


class ShareListed(BaseModel):
    """One of an assessment's share links."""

    token: str | None = Field(
        description="Null only when the server's secret key has changed since it was made."
    )
    url: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked: bool
    opens: int = Field(description="How many times the link was opened.")


class SharedAssessment(BaseModel):
    """The assessment as a share link shows it."""

    title: str | None
    status: str
    ruleset: str
    updated_at: datetime
    answers: dict[str, Any]


class Shared(BaseModel):
    """What `GET /s/{token}.json` answers."""

    assessment: SharedAssessment
    recommendation: Recommendation


def _listed(share: sharing.Share) -> ShareListed:
    return ShareListed(
        token=share.token,
        url=urls.shared(share.token) if share.token else None,
        created_at=share.created_at,
        expires_at=share.expires_at,
        revoked=share.revoked,
        opens=share.opens,
    )


MANAGERS = {
    **NOT_FOUND,
    **documented(403, "A member of the owning team who is not one of its owners."),
}


@router.post(
    "/assessments/{assessment_id}/shares",
    status_code=status.HTTP_201_CREATED,
    response_model=ShareCreated,
    responses=MANAGERS,
)
def post_share(assessment_id: str, body: NewShare, request: Request) -> ShareCreated:
    """Make a read-only link to the assessment."""
    with transaction(request) as session:
        share = sharing.create_share(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            expires_in_days=body.expires_in_days,
            secret_key=request.app.state.settings.secret_key,
        )
    assert share.token is not None  # made with the current key
    return ShareCreated(
        token=share.token, url=urls.shared(share.token), expires_at=share.expires_at
    )


@router.get(
    "/assessments/{assessment_id}/shares",
    response_model=list[ShareListed],
    responses=MANAGERS,
)
def get_shares(assessment_id: str, request: Request) -> list[ShareListed]:
    """The assessment's share links, newest first, revoked and expired ones included."""
    with transaction(request) as session:
        found = sharing.list_shares(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            secret_key=request.app.state.settings.secret_key,
        )
    return [_listed(share) for share in found]


@router.delete(
    "/assessments/{assessment_id}/shares/{token}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=MANAGERS,
)
def delete_share(assessment_id: str, token: str, request: Request) -> Response:
    """Revoke a share link: it answers 404 from now on, like one that never existed."""
    with transaction(request) as session:
        sharing.revoke_share(
            session=session, caller=caller(request), assessment_id=assessment_id, token=token
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@shared_router.get(
    "/s/{token}.json",
    response_model=Shared,
    responses=documented(404, "No live share link with that token."),
)
def get_shared(token: str, request: Request, response: Response) -> Shared:
    """The assessment's answers and recommendation, read-only; each open is counted."""
    with transaction(request, write=True) as session:
        shared = sharing.open_share(session=session, token=token)
    a = shared.state.assessment
    response.headers.update(SHARED_HEADERS)
    return Shared(
        assessment=SharedAssessment(
            title=a.title,
            status=a.status,
            ruleset=a.ruleset,
            updated_at=a.updated_at,
            answers=shared.state.answers,
        ),
        recommendation=shared.recommendation,
    )
