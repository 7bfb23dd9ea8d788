"""How the journal stores what `drop` and `hand_off` answered, and reads it back (older encodings included).

A sent drop is stored as its bare item id, as it always was; other drop outcomes and sales answers as JSON.
Journals written before results were typed stored None for "nothing sent" and a bare verdict for sales.
"""

from __future__ import annotations

import json
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import dsl


def encode_drop(result: dsl.DropResult) -> str:
    if result.sent and result.item_id is not None and not result.detail:
        return result.item_id
    return json.dumps(
        {
            "outcome": result.outcome.value,
            "item": result.item_id,
            "detail": result.detail,
            "until": result.until.isoformat() if result.until else None,
        }
    )


def decode_drop(raw: str | None) -> dsl.DropResult:
    if raw is None:
        return dsl.DropResult(dsl.DropOutcome.EXHAUSTED, detail="nothing sent (recorded before typed results)")
    if not raw.startswith("{"):
        return dsl.DropResult(dsl.DropOutcome.SENT, item_id=raw)
    data = json.loads(raw)
    until = data.get("until")
    return dsl.DropResult(
        dsl.DropOutcome(data["outcome"]),
        item_id=data.get("item"),
        detail=data.get("detail") or "",
        until=datetime.fromisoformat(until) if until else None,
    )


_LEGACY_VERDICTS = {"accepted": dsl.Verdict.ACCEPTED, "rejected": dsl.Verdict.REJECTED}


def encode_answer(answer: dsl.SalesAnswer) -> str:
    return json.dumps({"verdict": answer.verdict.value, "reason": answer.reason})


def decode_answer(raw: str | None, legacy_reason: str) -> dsl.SalesAnswer:
    if raw is not None and raw.startswith("{"):
        data = json.loads(raw)
        return dsl.SalesAnswer(dsl.Verdict(data["verdict"]), data.get("reason") or "")
    verdict = _LEGACY_VERDICTS.get(raw or "", dsl.Verdict.NO_ANSWER)
    return dsl.SalesAnswer(verdict, "" if verdict is dsl.Verdict.ACCEPTED else legacy_reason)
