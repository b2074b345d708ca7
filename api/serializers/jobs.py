"""Jobs as the API shows them: state, progress (bytes, speed, ETA), error code and guidance; the detail
adds the verification table and the event log."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.query import PageQuery, db_id
from downloads.models import JobKind, JobOrigin, JobState

EVENT_LIMIT = 500  # the newest events of a job; a job retrying for hours can log thousands


class ProgressSerializer(serializers.Serializer):
    bytes_done = serializers.IntegerField()
    bytes_total = serializers.IntegerField()
    percent = serializers.FloatField()
    files_done = serializers.IntegerField()
    files_total = serializers.IntegerField()
    speed_bps = serializers.FloatField(help_text="Current transfer speed, bytes per second.")
    eta_seconds = serializers.FloatField(allow_null=True, help_text="Estimated seconds left while running.")
    bytes_transferred = serializers.IntegerField(help_text="Bytes received over the network.")
    bytes_resumed = serializers.IntegerField(help_text="Bytes kept from earlier partial downloads.")

    def to_representation(self, job):
        eta = job.eta_seconds
        return {"bytes_done": job.bytes_done, "bytes_total": job.bytes_total,
                "percent": round(job.percent, 1),
                "files_done": job.files_done, "files_total": job.files_total,
                "speed_bps": round(job.speed_bps or 0.0), "eta_seconds": None if eta is None else round(eta),
                "bytes_transferred": job.bytes_transferred, "bytes_resumed": job.bytes_resumed}


class ActiveJobSerializer(serializers.Serializer):
    """The variant's queued or running job, in short."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=JobKind.choices)
    state = serializers.ChoiceField(choices=JobState.choices)
    cancel_requested = serializers.BooleanField()
    progress = ProgressSerializer(source="*")


class JobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    variant = serializers.IntegerField(source="variant_id", help_text="The variant's id.")
    variant_label = serializers.CharField(source="variant", help_text="repo@revision [name]")
    repo_id = serializers.CharField(source="variant.repo_id")
    kind = serializers.ChoiceField(choices=JobKind.choices)
    state = serializers.ChoiceField(choices=JobState.choices)
    origin = serializers.ChoiceField(choices=JobOrigin.choices, help_text="What started it.")
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True, default=None)
    attempt = serializers.IntegerField()
    commit = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    cancel_requested = serializers.BooleanField()
    progress = ProgressSerializer(source="*")
    error_code = serializers.CharField(help_text="Empty, or one of the error codes (see the error body).")
    error_message = serializers.CharField()
    guidance = serializers.CharField(help_text="The fix for the error, for a person.")
    url = serializers.SerializerMethodField()

    def get_url(self, job) -> str:
        return f"/api/v1/jobs/{job.pk}/"


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    message = serializers.CharField()


class JobDetailSerializer(JobSerializer):
    verification = serializers.JSONField(
        help_text="The verification report ({} until verified): ok, mode, summary, failed_files, "
                  "completeness and `files`, one row per file (path, sizes, algo, hashes, format, ok, "
                  "reason).")
    only_paths = serializers.ListField(child=serializers.CharField(),
                                       help_text="Repair jobs: the files fetched.")
    events = serializers.SerializerMethodField()

    @extend_schema_field(EventSerializer(many=True))
    def get_events(self, job):
        newest = list(job.events.order_by("-at", "-id")[:EVENT_LIMIT])[::-1]
        return EventSerializer(newest, many=True).data


class JobQuery(PageQuery):
    variant = db_id(required=False, help_text="Jobs of this variant only.")
    state = serializers.ChoiceField(choices=JobState.choices, required=False)
    kind = serializers.ChoiceField(choices=JobKind.choices, required=False)
    active = serializers.BooleanField(required=False, allow_null=True, default=None,
                                      help_text="true: queued or running only; false: finished only.")
