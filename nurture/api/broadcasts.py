"""Broadcast endpoints (issue 4 fills this in)."""

from fastapi import APIRouter

router = APIRouter(prefix="/broadcasts", tags=["broadcasts"])
