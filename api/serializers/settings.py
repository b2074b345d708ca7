"""Settings as the API reads them (the HF token only as "Token ending in …1234", never the token) and what
a change may carry (typed here; the Settings page's form then applies its own rules)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.common import StrictSerializer, TextField
from engine.selection import DB_INT_MAX
from settings_app.storage_change import CHOICES as STORAGE_CHOICES


class TokenSerializer(serializers.Serializer):
    set = serializers.BooleanField(help_text="A token is in effect (saved, HF_TOKEN or the token file).")
    description = serializers.CharField(help_text="As the Settings page shows it, e.g. 'Token ending in "
                                                  "…1234 (saved in Settings)'; never the token.")
    source = serializers.CharField(help_text="settings, env:HF_TOKEN, file:<path>, none, settings-unreadable "
                                             "or settings-unconfirmed")
    saved = serializers.BooleanField(help_text="A token is saved in Settings.")


class SettingSerializer(serializers.Serializer):
    hub_endpoint = serializers.CharField(help_text="Saved value; empty: the environment's default.")
    effective_hub_endpoint = serializers.CharField()
    storage_dir = serializers.CharField(help_text="Saved value; empty: the environment's default.")
    effective_storage_dir = serializers.CharField()
    storage_dir_problem = serializers.CharField(
        help_text="Why the saved folder would be refused today, or ''.")
    max_concurrent_downloads = serializers.IntegerField(allow_null=True)
    effective_max_concurrent_downloads = serializers.IntegerField()
    min_free_space = serializers.IntegerField(allow_null=True, help_text="Bytes; null: the default.")
    effective_min_free_space = serializers.IntegerField()
    max_parallel_files = serializers.IntegerField()
    segments_per_file = serializers.IntegerField(help_text="0: automatic.")
    segment_min_size = serializers.IntegerField()
    bandwidth_limit = serializers.IntegerField(allow_null=True,
                                               help_text="Bytes/s shared by all jobs; null: none.")
    reverify_interval_hours = serializers.IntegerField()
    completeness_rules = serializers.JSONField()
    hub_allow_anonymous = serializers.BooleanField()
    hub_on_demand = serializers.BooleanField()
    hf_token = TokenSerializer()
    webhook_urls = serializers.ListField(child=serializers.CharField(),
                                         help_text="Where job and status events go (README, Webhooks).")
    webhook_secret = serializers.CharField(help_text="'set, ending …ab12' or 'not set'; never the secret.")
    updated_at = serializers.DateTimeField()


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string"}], "nullable": True})
class SizeInput(serializers.Field):
    """A byte count as a number, or text such as "10GB" or "2GiB" (the form parses it); null: unset."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            raise serializers.ValidationError("a size is a number of bytes or text such as '10GB'")
        if isinstance(data, str) and (len(data) > 100 or "\x00" in data):
            raise serializers.ValidationError("not a size; use e.g. 500MB, 10GB or 2GiB")
        return str(data)

    def to_representation(self, value):
        return value


def _int(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, min_value=0, max_value=DB_INT_MAX, **kwargs)


class SettingChangeSerializer(StrictSerializer):
    """Only the fields sent change (PATCH). Validated as the Settings page validates them."""

    hub_endpoint = TextField(required=False, allow_blank=True, max_length=300)
    storage_dir = TextField(required=False, allow_blank=True, max_length=1024)
    old_storage = serializers.ChoiceField(
        choices=[c[0] for c in STORAGE_CHOICES], required=False,
        help_text="When storage_dir changes and the current folder holds models: move, copy or keep them.")
    max_concurrent_downloads = _int(allow_null=True)
    min_free_space = SizeInput(required=False, allow_null=True)
    max_parallel_files = _int()
    segments_per_file = _int()
    segment_min_size = SizeInput(required=False)
    bandwidth_limit = SizeInput(required=False, allow_null=True)
    reverify_interval_hours = _int()
    completeness_rules = serializers.DictField(required=False, child=serializers.JSONField())
    hub_allow_anonymous = serializers.BooleanField(required=False)
    hub_on_demand = serializers.BooleanField(required=False)
    hf_token = TextField(required=False, write_only=True, max_length=1000, trim_whitespace=True,
                                     help_text="A new HF token (write-only; never shown again).")
    clear_token = serializers.BooleanField(required=False, help_text="Clear the saved token.")
    confirm_token_endpoint = serializers.BooleanField(
        required=False, help_text="Send the saved token to the endpoint in effect (needs the permission "
                                  "'Can send the saved HF token to a new Hub endpoint').")
    webhook_urls = serializers.ListField(
        child=TextField(max_length=2000), required=False, max_length=100,
        help_text="Replaces the list; http(s) URLs without credentials.")
    webhook_secret = TextField(required=False, write_only=True, max_length=1000, trim_whitespace=True,
                               help_text="A new signing secret, at least 16 characters (write-only).")
    clear_webhook_secret = serializers.BooleanField(required=False,
                                                    help_text="Clear the secret: deliveries stop.")


class SettingChangedSerializer(serializers.Serializer):
    settings = SettingSerializer()
    messages = serializers.ListField(child=serializers.CharField(),
                                     help_text="What the change did, e.g. a move of the models started.")
