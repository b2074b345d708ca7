"""The JSON documents POSTed to receivers. Built from the rows only (never a token, never Settings), with
stable keys: receivers parse them.

    {"event": "job.finished", "occurred_at": "...", "job": {...}, "variant": {...}}
"""

import json

from django.utils import timezone

from webhooks.models import WebhookEvent


def _time(value) -> str | None:
    return value.isoformat() if value else None


def variant_part(variant) -> dict:
    return {
        "id": variant.pk, "repo_id": variant.repo_id, "repo_type": variant.repo_type,
        "revision": variant.revision, "name": variant.name, "kind": variant.kind,
        "status": str(variant.status), "commit": variant.commit or None, "size_bytes": variant.size_bytes,
        "local_path": variant.local_path or None, "last_verified_at": _time(variant.last_verified_at),
    }


def job_part(job) -> dict:
    return {
        "id": job.pk, "kind": str(job.kind), "state": str(job.state), "origin": str(job.origin),
        "attempt": job.attempt, "commit": job.commit or None,
        "error_code": job.error_code or None, "error_message": job.error_message or None,
        "guidance": job.guidance or None,
        "bytes_total": job.bytes_total, "bytes_done": job.bytes_done,
        "bytes_transferred": job.bytes_transferred, "files_total": job.files_total,
        "files_done": job.files_done,
        "created_at": _time(job.created_at), "started_at": _time(job.started_at),
        "finished_at": _time(job.finished_at),
    }


def job_finished(job) -> dict:
    return {"event": WebhookEvent.JOB_FINISHED.value, "occurred_at": _time(job.finished_at or timezone.now()),
            "job": job_part(job), "variant": variant_part(job.variant)}


def variant_status_changed(variant, previous: str, status: str) -> dict:
    return {"event": WebhookEvent.VARIANT_STATUS.value, "occurred_at": _time(timezone.now()),
            "previous_status": previous, "status": status, "variant": variant_part(variant)}


def test_event(by: str = "") -> dict:
    return {"event": WebhookEvent.TEST.value, "occurred_at": _time(timezone.now()),
            "message": "A test event from ModelHub's admin" + (f", sent by {by}" if by else "") + "."}


def encode(payload: dict) -> str:
    """The body as sent: compact, keys in a stable order, non-ASCII kept (UTF-8 on the wire)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
