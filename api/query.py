"""Query-string filters, validated like a body: unknown names and junk values are 400s, not ignored.

A typo such as `?statu=failed` silently answering with every variant is a trap for a script, so every
parameter an endpoint does not know is refused with the list of those it does."""

from rest_framework import serializers

from api.pagination import MAX_PAGE_SIZE
from engine.selection import DB_INT_MAX


class PageQuery(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, max_value=10**9)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)


def db_id(**kwargs) -> serializers.IntegerField:
    """An id a row could have (a larger number would overflow the database's integer column)."""
    return serializers.IntegerField(min_value=1, max_value=DB_INT_MAX, **kwargs)


def validated(request, query_class: type[serializers.Serializer]) -> dict:
    """The query parameters checked by `query_class`; raises ValidationError (400)."""
    fields = query_class().fields
    unknown = sorted(k for k in request.query_params if k not in fields)
    if unknown:
        raise serializers.ValidationError(
            {name[:100]: [f"unknown parameter; this endpoint takes: {', '.join(fields) or 'none'}"]
             for name in unknown})
    repeated = sorted(k for k in request.query_params if len(request.query_params.getlist(k)) > 1)
    if repeated:
        raise serializers.ValidationError({name: ["give it once"] for name in repeated})
    checker = query_class(data=request.query_params.dict())
    checker.is_valid(raise_exception=True)
    return checker.validated_data
