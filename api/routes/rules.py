"""(filled in by the read-side issue)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
