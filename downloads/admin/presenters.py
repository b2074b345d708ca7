"""Jobs and variants as plain dicts: the JSON of the commands and of the admin's progress endpoint."""

from downloads.models import DownloadJob, ModelVariant


def job_dict(job: DownloadJob, *, verification: bool = True) -> dict:
    variant = job.variant
    data = {
        "job_id": job.pk,
        "variant_id": variant.pk,
        "kind": job.kind,
        "repo_id": variant.repo_id,
        "repo_type": variant.repo_type,
        "revision": variant.revision,
        "commit": job.commit or variant.commit,
        "state": job.state,
        "attempt": job.attempt,
        "error_code": job.error_code or None,
        "error_message": job.error_message or None,
        "guidance": job.guidance or None,
        "path": variant.local_path or None,
        "bytes_total": job.bytes_total,
        "bytes_done": job.bytes_done,
        "bytes_transferred": job.bytes_transferred,
        "bytes_resumed": job.bytes_resumed,
        "files_total": job.files_total,
        "files_done": job.files_done,
        "percent": round(job.percent, 1),
        "speed_bps": round(job.speed_bps or 0.0),
        "eta_seconds": None if job.eta_seconds is None else round(job.eta_seconds),
        "variant_status": variant.status,
        "cancel_requested": job.cancel_requested,
    }
    if verification:
        data["verification"] = job.verification or None
    return data


def variant_dict(variant: ModelVariant, *, size_on_disk: int | None = None) -> dict:
    return {
        "id": variant.pk,
        "repo_id": variant.repo_id,
        "repo_type": variant.repo_type,
        "revision": variant.revision,
        "name": variant.name,
        "kind": variant.kind,
        "include": variant.include,
        "exclude": variant.exclude,
        "status": variant.status,
        "commit": variant.commit or None,
        "size_bytes": variant.size_bytes,
        "size_on_disk": size_on_disk,
        "path": variant.local_path or None,
        "last_verified_at": variant.last_verified_at.isoformat() if variant.last_verified_at else None,
        "problem": variant.problem or None,
        "update_available": variant.update_available,
    }
