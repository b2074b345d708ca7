"""The storage summary (used and free per location, partial downloads) and the cleanup report."""

from rest_framework import serializers


class VolumeSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    used = serializers.IntegerField()
    free = serializers.IntegerField()


class LocationSerializer(serializers.Serializer):
    path = serializers.CharField()
    role = serializers.ChoiceField(choices=[("storage", "storage"), ("previous", "previous"),
                                            ("other_cache", "other_cache")],
                                   help_text="storage: where downloads go; previous: an earlier storage "
                                             "folder still holding models; other_cache: a Hugging Face cache "
                                             "found here.")
    exists = serializers.BooleanField()
    volume = VolumeSerializer(allow_null=True, help_text="The disk it is on; null when unreadable.")
    blob_bytes = serializers.IntegerField()
    partial_bytes = serializers.IntegerField()
    unclaimed_bytes = serializers.IntegerField(help_text="Blobs no variant claims.")
    total_bytes = serializers.IntegerField()
    repos = serializers.IntegerField()
    snapshots = serializers.IntegerField()
    problems = serializers.ListField(child=serializers.CharField())


class PartialSerializer(serializers.Serializer):
    location = serializers.CharField()
    repo_id = serializers.CharField()
    repo_type = serializers.CharField()
    path = serializers.CharField()
    size = serializers.IntegerField()
    age_seconds = serializers.FloatField()
    job = serializers.IntegerField(allow_null=True, help_text="The active job writing it, if any.")


class StorageSerializer(serializers.Serializer):
    storage_dir = serializers.CharField()
    min_free_space = serializers.IntegerField(help_text="Bytes kept free on the storage volume.")
    locations = LocationSerializer(many=True)
    partials = PartialSerializer(many=True)
    partial_bytes = serializers.IntegerField()


class CleanupItemSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="partial, orphan_blob, dangling_link or stale_lock")
    path = serializers.CharField()
    repo = serializers.CharField()
    size = serializers.IntegerField()
    detail = serializers.CharField()


class CleanupSerializer(serializers.Serializer):
    storage_dir = serializers.CharField()
    older_than_hours = serializers.FloatField()
    dry_run = serializers.BooleanField()
    bytes_freed = serializers.IntegerField(help_text="Freed, or in a dry run what would be.")
    removed = CleanupItemSerializer(many=True, help_text="Removed, or in a dry run what would be.")
    skipped = CleanupItemSerializer(many=True)
    errors = serializers.ListField(child=serializers.CharField())
