"""JSON API of accounts: sign up, get a personal API token, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from app.services import accounts
from app.web.credentials import caller
from app.web.deps import transaction
from app.web.errors import documented

router = APIRouter(
    prefix="/api",
    tags=["accounts"],
    responses=documented(422, "Bad input: each problem names its field and the allowed values."),
)

TOKEN_NAME = "Made with POST /api/tokens"


class NewUser(BaseModel):
    """Body of `POST /api/users`."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(
        min_length=accounts.MIN_PASSWORD,
        max_length=accounts.MAX_PASSWORD,
        description=f"At least {accounts.MIN_PASSWORD} characters.",
    )


class UserOut(BaseModel):
    """An account."""

    id: str
    email: str


class Credentials(BaseModel):
    """Body of `POST /api/tokens`."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(max_length=accounts.MAX_PASSWORD)


class TokenOut(BaseModel):
    """A new personal API token: shown this once, never again."""

    token: str = Field(description="Send it as `Authorization: Bearer <token>`.")


class TeamRoleOut(BaseModel):
    """One of the user's teams, and the user's role in it."""

    id: str
    name: str
    role: str = Field(description="member, reviewer or owner")


class MeOut(BaseModel):
    """The signed-in user and their teams."""

    id: str
    email: str
    teams: list[TeamRoleOut]


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses=documented(409, "An account with this email already exists."),
)
def post_user(body: NewUser, request: Request) -> UserOut:
    """Create an account."""
    with transaction(request) as session:
        account = accounts.create_user(session=session, email=body.email, password=body.password)
    return UserOut(id=account.id, email=account.email)


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenOut,
    responses={
        **documented(401, "The email or the password is wrong (which one is never said)."),
        **documented(429, "Too many failed sign-ins; wait `Retry-After` seconds."),
    },
)
def post_token(body: Credentials, request: Request) -> TokenOut:
    """A personal API token for the account with this email and password."""
    address = request.client.host if request.client else None
    with transaction(request) as session:
        outcome = accounts.authenticate(
            session=session, email=body.email, password=body.password, address=address
        )
        if isinstance(outcome, accounts.Refused):
            token = None
        else:
            token = accounts.create_api_token(session=session, user_id=outcome, name=TOKEN_NAME)
    if token is None:  # raised once the failure is committed
        assert isinstance(outcome, accounts.Refused)
        raise outcome.error()
    return TokenOut(token=token)


@router.get(
    "/me",
    response_model=MeOut,
    responses=documented(401, "No personal API token or session, or not a live one."),
)
def get_me(request: Request) -> MeOut:
    """The signed-in user and their teams."""
    with transaction(request) as session:
        found = accounts.me(session=session, caller=caller(request))
    return MeOut(
        id=found.id,
        email=found.email,
        teams=[TeamRoleOut(id=t.id, name=t.name, role=t.role) for t in found.teams],
    )
