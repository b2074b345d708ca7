"""Variants as the API shows them (status, progress of the active job, size, local path, last
verification) and what creating one from a Hub reference takes."""

from rest_framework import serializers

from api.query import PageQuery
from api.serializers.common import StrictSerializer, TextField
from api.serializers.jobs import ActiveJobSerializer, JobSerializer
from downloads.models import RepoType, VariantStatus


class LastVerificationSerializer(serializers.Serializer):
    """The newest finished verification of the variant (a download verifies too)."""

    job = serializers.IntegerField(source="pk", help_text="The job that verified; its detail has the table.")
    ok = serializers.BooleanField(source="verification.ok", default=False)
    mode = serializers.CharField(source="verification.mode", default="")
    summary = serializers.CharField(source="verification.summary", default="")
    checked_at = serializers.CharField(source="verification.checked_at", default="")
    failed_files = serializers.ListField(child=serializers.CharField(), source="verification.failed_files",
                                         default=list)


class VariantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField(source="__str__", help_text="repo@revision [name]")
    repo_id = serializers.CharField()
    repo_type = serializers.ChoiceField(choices=RepoType.choices)
    revision = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text="auto, or the completeness rule chosen.")
    include = serializers.ListField(child=serializers.CharField())
    exclude = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=VariantStatus.choices)
    commit = serializers.CharField(help_text="The commit the revision resolved to.")
    size_bytes = serializers.IntegerField(allow_null=True, help_text="Size of the selected files.")
    partial_bytes = serializers.IntegerField(allow_null=True, help_text="Bytes a stopped (partial or paused) "
                                                                       "download kept on disk.")
    local_path = serializers.CharField(help_text="The snapshot folder (HF cache layout) once installed.")
    last_verified_at = serializers.DateTimeField(allow_null=True)
    problem = serializers.CharField(help_text="What the last verification found wrong on disk, if anything.")
    update_available = serializers.BooleanField()
    upstream_commit = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    active_job = ActiveJobSerializer(source="api_active_job", allow_null=True,
                                     help_text="The queued or running job, with its progress; null if none.")
    last_verification = LastVerificationSerializer(source="api_last_verification", allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, variant) -> str:
        return f"/api/v1/variants/{variant.pk}/"


class VariantDetailSerializer(VariantSerializer):
    size_on_disk = serializers.IntegerField(source="api_size_on_disk", allow_null=True,
                                            help_text="Bytes of its installed files really on disk.")
    installed_files = serializers.IntegerField(source="api_installed_files")
    recent_jobs = JobSerializer(source="api_recent_jobs", many=True,
                                help_text="The newest jobs, newest first.")


class VariantQuery(PageQuery):
    status = serializers.ChoiceField(choices=VariantStatus.choices, required=False)
    repo = serializers.CharField(required=False, max_length=200,
                                 help_text="org/name (exact), or a part of it followed by '*' (prefix).")
    repo_type = serializers.ChoiceField(choices=RepoType.choices, required=False)
    kind = serializers.CharField(required=False, max_length=50)
    revision = serializers.CharField(required=False, max_length=255)


class CreateVariantSerializer(StrictSerializer):
    reference = TextField(
        max_length=1000,
        help_text="What Add from Hub accepts: org/name, a repo, folder or file link, org/name@revision, "
                  "hf.co/org/name:Q4_K_M, or a legacy id such as gpt2.")
    repo_type = serializers.ChoiceField(choices=RepoType.choices, required=False,
                                        help_text="model unless the link says dataset.")
    revision = TextField(required=False, allow_blank=True, max_length=255,
                                     help_text="Branch, tag or commit; empty: what the reference says, "
                                               "else main.")
    choice = TextField(
        required=False, allow_blank=True, max_length=1100,
        help_text="The key of one of the repo's choices (GET /api/v1/lookup/ lists them), e.g. gguf:Q4_K_M, "
                  "or file:<path>. Optional when the reference names a quant or a file.")
    kind = TextField(required=False, default="auto", max_length=50,
                                 help_text="Completeness rule: auto, or a kind such as text, gguf, voice.")
    download = serializers.BooleanField(required=False, default=False,
                                        help_text="Queue its download at once (needs the download "
                                                  "permission).")


class LookupQuery(serializers.Serializer):
    reference = TextField(max_length=1000)
    repo_type = serializers.ChoiceField(choices=RepoType.choices, required=False)
    revision = TextField(required=False, allow_blank=True, max_length=255)


class ChoiceSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    size = serializers.IntegerField()
    files = serializers.ListField(child=serializers.CharField())
    named_by_reference = serializers.BooleanField(help_text="The reference's :QUANT or file link names it.")
    variant = serializers.IntegerField(allow_null=True, help_text="The variant it already is, if any.")


class LookupSerializer(serializers.Serializer):
    repo_id = serializers.CharField()
    repo_type = serializers.CharField()
    revision = serializers.CharField()
    commit = serializers.CharField()
    gated = serializers.CharField()
    private = serializers.BooleanField()
    files_hidden = serializers.CharField(allow_null=True,
                                         help_text="Why the file list is not visible (gated), else null.")
    files_hidden_code = serializers.CharField(allow_null=True,
                                              help_text="Its error code, e.g. gated_no_token.")
    files_hidden_guidance = serializers.CharField(allow_null=True, help_text="How to get access.")
    choices = ChoiceSerializer(many=True)


class CreatedSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text="false: the variant already existed (same files).")
    variant = VariantSerializer()
    job = JobSerializer(allow_null=True, help_text="The download job when `download` was true.")
    joined = serializers.BooleanField(help_text="The job was already queued or running.")
