"""The error body every API error has (see api.errors), for the schema."""

from rest_framework import serializers

from api.errors import ApiCode
from engine.errors import ErrorCode


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable: one of the job error codes ("
                                           + ", ".join(c.value for c in ErrorCode) + ") or an API code ("
                                           + ", ".join(c.value for c in ApiCode) + ").")
    message = serializers.CharField(help_text="What went wrong, for a person.")
    guidance = serializers.CharField(help_text="How to fix it.")
    errors = serializers.DictField(required=False, child=serializers.JSONField(),
                                   help_text="Bad input only: the messages per field.")


def errors(*statuses: int) -> dict:
    """extend_schema responses for these error statuses."""
    return {status: ErrorSerializer for status in statuses}


class TextField(serializers.CharField):
    """A string, and only a string: DRF's CharField would take 5 as "5" (a repo named 5 is a typo)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """A request body whose unknown fields are refused: a typo ("reverify_interval_hour") must not be
    answered 200 with nothing changed."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(k)[:100] for k in data if k not in self.fields)
            if unknown:
                takes = ", ".join(self.fields)
                raise serializers.ValidationError(
                    {name: [f"unknown field; this endpoint takes: {takes}"] for name in unknown})
        return super().to_internal_value(data)
