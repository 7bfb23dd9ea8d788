"""GDPR doors for operators (API token): `GET /contacts/{id}/export` and `DELETE /contacts/{id}`.

Export returns every fact held about the contact (`nurture.inbound.privacy.export_contact`); erase forgets it
in one transaction, queues the exit of its journeys and is idempotent (a second call answers 200 with
`already_erased`). The audit keeps who (`X-Requested-By`, default "api") and why (`reason`), never the data.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from sqlalchemy.engine import Connection

from nurture.api.auth import has_api_token
from nurture.api.deps import in_transaction
from nurture.api.errors import ApiError
from nurture.clock import utcnow
from nurture.inbound.privacy import erase_contact, export_contact
from nurture.logging import get_logger

router = APIRouter(tags=["privacy"])
log = get_logger(__name__)
ContactId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _require_token(request: Request) -> None:
    if not has_api_token(request):
        raise ApiError(401, "needs the API token (Authorization: Bearer)")


@router.get("/contacts/{contact_id}/export")
async def export(request: Request, contact_id: ContactId) -> dict[str, Any]:
    _require_token(request)

    def read(conn: Connection) -> dict[str, Any]:
        return export_contact(conn, contact_id)

    try:
        return await in_transaction(request, read)
    except LookupError as err:
        raise ApiError(404, f"no contact {contact_id}") from err


@router.delete("/contacts/{contact_id}")
async def erase(
    request: Request,
    contact_id: ContactId,
    reason: Annotated[str, Query(min_length=1, max_length=500, description="Why (kept in the audit)")],
    requested_by: Annotated[str, Header(alias="X-Requested-By", max_length=120)] = "api",
) -> dict[str, Any]:
    _require_token(request)
    now = utcnow()

    def forget(conn: Connection) -> dict[str, Any]:
        done = erase_contact(conn, contact_id, now, requested_by=requested_by, reason=reason)
        return {
            "contact_id": done.contact_id,
            "already_erased": done.already_erased,
            "rows_deleted": done.rows_deleted,
            "rows_anonymised": done.rows_anonymised,
            "journey_exits_queued": done.exits_queued,
            "erased_at": done.erased_at.isoformat(),
        }

    try:
        result = await in_transaction(request, forget)
    except LookupError as err:
        raise ApiError(404, f"no contact {contact_id}") from err
    log.info("contact.erased", contact_id=contact_id, already=result["already_erased"], by=requested_by)
    return result
