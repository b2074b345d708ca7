"""GET /storage/ (the Storage page's summary) and POST /storage/cleanup/ (dry run by default)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api import permissions
from api.serializers.actions import CleanupInput
from api.serializers.common import errors
from api.serializers.storage import CleanupSerializer, StorageSerializer
from downloads.storage import discovery
from downloads.storage.cleanup import clean_older_than, cleanup_storage
from downloads.storage.overview import storage_dir, storage_overview
from downloads.storage.previous import previous_folders
from engine.selection import InvalidInput
from settings_app.models import Setting


class Storage(APIView):
    permission_classes = [permissions.needs(permissions.VIEW_VARIANTS)]

    @extend_schema(responses={200: StorageSerializer, **errors(401, 403)},
                   summary="Used and free space per location, partial downloads")
    def get(self, request):
        earlier = previous_folders(storage_dir())
        overview = storage_overview(earlier + discovery.default_cache_dirs())
        previous = {str(p) for p in earlier}
        locations = [{
            "path": str(loc.path),
            "role": ("storage" if loc.is_storage else "previous" if str(loc.path) in previous
                     else "other_cache"),
            "exists": loc.exists, "volume": loc.volume, "blob_bytes": loc.blob_bytes,
            "partial_bytes": loc.partial_bytes, "unclaimed_bytes": loc.unclaimed_bytes,
            "total_bytes": loc.total_bytes, "repos": len(loc.repos), "snapshots": loc.snapshot_count,
            "problems": loc.problems,
        } for loc in overview.locations if loc.exists or loc.is_storage]
        partials = [{"location": str(p.location), "repo_id": p.repo_id, "repo_type": p.repo_type,
                     "path": str(p.path), "size": p.size, "age_seconds": round(p.age_seconds, 1),
                     "job": p.job_id}
                    for p in overview.partials]
        return Response(StorageSerializer({
            "storage_dir": str(overview.storage_dir),
            "min_free_space": Setting.load().effective_min_free_space,
            "locations": locations, "partials": partials, "partial_bytes": sum(p["size"] for p in partials),
        }).data)


class Cleanup(APIView):
    permission_classes = [permissions.needs(permissions.DELETE_FILES)]

    @extend_schema(request=CleanupInput, responses={200: CleanupSerializer, **errors(400, 401, 403)},
                   summary="Remove stale partials, orphaned blobs, dangling links and stale locks "
                           "(dry run first)")
    def post(self, request):
        data = CleanupInput(data=request.data)
        data.is_valid(raise_exception=True)
        data = data.validated_data
        try:
            hours = clean_older_than(data["older_than_hours"])
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        only = set(data["only"]) if "only" in data else None
        report = cleanup_storage(older_than_hours=hours, dry_run=data["dry_run"], only=only)
        return Response(CleanupSerializer(report.as_dict()).data)
