"""The API's dependencies and their `Annotated` aliases, in one module, so a route's
signature says what it needs in a word (``context: Context, principal: UserKey``) and no
route module imports another's helpers. Only routes import this module: what it builds on
(`api.auth`, `api.commands`, `api.context`, `api.consistency`) names its dependencies in
full, so nothing here depends on itself."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, HTTPException, Query

from api.auth import authenticated, scoped
from api.commands import Wait, run_command
from api.context import ApiContext, api_context
from api.keys import Principal
from api.reading import invalid

Context = Annotated[ApiContext, Depends(api_context)]


AnyKey = Annotated[Principal, Depends(authenticated)]
"""Any valid key, whatever its scopes."""
UserKey = Annotated[Principal, Depends(scoped("user"))]
"""A key with the user scope, acting on its owner's data (admins may act on anyone's);
named apart from the `User` aggregate."""
Admin = Annotated[Principal, Depends(scoped("admin"))]
Ingest = Annotated[Principal, Depends(scoped("ingest"))]


async def wait_options(
    context: Context,
    wait: Annotated[
        bool,
        Query(description="Answer only once the read models reading the command's log show it."),
    ] = False,
    wait_s: Annotated[
        float | None,
        Query(ge=0, description="Longest wait, in seconds (default and limit: max_wait_s)."),
    ] = None,
) -> Wait:
    """Checked before the command runs: a refused option must not follow a done command."""
    limit = context.config.max_wait_s
    if wait_s is not None and wait_s > limit:
        raise invalid("wait_s", f"at most {limit:g} seconds")
    if not wait:
        return Wait(None)
    return Wait(limit if wait_s is None else wait_s)


WaitFor = Annotated[Wait, Depends(wait_options)]


async def acting_for(
    principal: UserKey,
    user_id: Annotated[
        UUID | None, Query(description="Act for this user instead (admin keys only).")
    ] = None,
) -> UUID:
    """The user a request acts for: the key's owner, or anyone for an admin."""
    if user_id is None or user_id == principal.user_id:
        return principal.user_id
    if not principal.is_admin:
        raise HTTPException(403, "only an admin key may act for another user (user_id)")
    return user_id


ActingFor = Annotated[UUID, Depends(acting_for)]


async def acting_for_live(context: Context, principal: UserKey, user_id: ActingFor) -> UUID:
    """The user a command acts for, who must exist and not be deleted (404 saying which).

    The aggregates a command changes on a user's behalf (their watch list, memory,
    conversations) do not know the user, so without this an admin could refill a deleted
    user's watch list and the sources would fetch for nobody. A key's own user needs no
    look: deleting a user revokes every key it has."""
    if user_id != principal.user_id:
        await run_command(context.services.users.live, user_id)
    return user_id


ActingForLive = Annotated[UUID, Depends(acting_for_live)]
"""`ActingFor` for commands on data the User aggregate does not guard itself."""
