"""What the actions on variants and jobs take and answer."""

from rest_framework import serializers

from api.serializers.common import StrictSerializer, TextField
from api.serializers.jobs import JobSerializer
from downloads.storage.cleanup import DEFAULT_OLDER_THAN_HOURS


class JobStartedSerializer(serializers.Serializer):
    job = JobSerializer()
    joined = serializers.BooleanField(help_text="true: the job was already queued or running, and is reused.")
    message = serializers.CharField()


class CancelledSerializer(serializers.Serializer):
    job = JobSerializer()
    outcome = serializers.CharField(help_text="cancelled, cancel requested (the worker stops within a second "
                                              "or so), or already <state>.")


class OutcomeSerializer(serializers.Serializer):
    job = JobSerializer()
    outcome = serializers.CharField(help_text="paused, pause requested, or queued again.")


class VerifyInput(StrictSerializer):
    mode = serializers.ChoiceField(choices=[("fast", "fast"), ("full", "full")], default="fast",
                                   help_text="fast: re-hash only files that changed since they were hashed; "
                                             "full: re-hash every file.")


class DeleteFilesInput(StrictSerializer):
    dry_run = serializers.BooleanField(default=False, help_text="Only say what would be deleted.")


class RemovalSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="link, blob, folder or ref")
    path = serializers.CharField()
    size = serializers.IntegerField()
    detail = serializers.CharField()


class DeletePlanSerializer(serializers.Serializer):
    variant_id = serializers.IntegerField()
    variant = serializers.CharField()
    dry_run = serializers.BooleanField()
    bytes_freed = serializers.IntegerField()
    removals = RemovalSerializer(many=True)
    kept = serializers.ListField(child=serializers.CharField(), help_text="Why files stay on disk.")
    errors = serializers.ListField(child=serializers.CharField())


class CleanupInput(StrictSerializer):
    older_than_hours = serializers.FloatField(default=DEFAULT_OLDER_THAN_HOURS, min_value=0, max_value=10**6,
                                              help_text="Only partial downloads older than this.")
    dry_run = serializers.BooleanField(default=True, help_text="true (the default): only list what would go.")
    only = serializers.ListField(child=TextField(max_length=4096), required=False,
                                 max_length=100000,
                                 help_text="Remove only these paths (from an earlier dry run).")
