"""GET /variants/ (filtered, paginated), GET /variants/{id}/, POST /variants/ (from a Hub reference and a
choice, as Add from Hub), GET /lookup/ (what a reference offers)."""

from django.contrib.admin.models import ADDITION, LogEntry
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from api import permissions, references, selectors
from api.errors import job_guidance
from api.pagination import Pagination
from api.query import validated
from api.serializers.common import errors
from api.serializers.variants import (
    CreatedSerializer,
    CreateVariantSerializer,
    LookupQuery,
    LookupSerializer,
    VariantDetailSerializer,
    VariantQuery,
    VariantSerializer,
)
from downloads import services
from downloads.models import JobOrigin, ModelVariant
from engine.selection import InvalidInput, require_utf8
from engine.verify import AUTO, KINDS
from settings_app.models import Setting

READ_ERRORS = errors(400, 401, 403)


def kinds() -> list[str]:
    """auto, the built-in kinds and those Settings adds (the admin form offers the same)."""
    extra = sorted(k for k in (Setting.load().completeness_rules or {}) if k not in KINDS and k != "*")
    return [AUTO, *KINDS, *extra]


class VariantList(GenericAPIView):
    pagination_class = Pagination
    serializer_class = VariantSerializer
    queryset = ModelVariant.objects.none()  # for the schema; get() builds the real one

    def get_permissions(self):
        needed = permissions.VIEW_VARIANTS if self.request.method == "GET" else permissions.ADD_VARIANTS
        return [permissions.needs(needed)()]

    @extend_schema(parameters=[VariantQuery], responses={200: VariantSerializer(many=True), **READ_ERRORS},
                   summary="Variants, filtered by status, repo, kind")
    def get(self, request):
        filters = validated(request, VariantQuery)
        page = self.paginate_queryset(selectors.variants(filters))
        return self.get_paginated_response(VariantSerializer(selectors.attach(page), many=True).data)

    @extend_schema(request=CreateVariantSerializer,
                   responses={201: CreatedSerializer, 200: CreatedSerializer,
                              **errors(400, 401, 403, 404, 502)},
                   summary="Create a variant from a Hub reference and a choice (as Add from Hub)")
    def post(self, request):
        data = CreateVariantSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        data = data.validated_data
        if data["download"]:  # refused before anything is created, not half-done
            permissions.require(request.user, permissions.DOWNLOAD)
        kind = require_utf8(data["kind"].strip() or AUTO, "kind")
        if kind not in kinds():
            raise InvalidInput(f"kind {kind[:50]!r} is not one of: {', '.join(kinds())}")
        found = references.look_up(data["reference"], data.get("repo_type"), data.get("revision"))
        choice = found.choice(data.get("choice", ""))
        ov = found.overview
        variant, created = services.get_or_create_variant(
            repo_id=ov.repo_id, repo_type=ov.repo_type, revision=ov.revision, include=list(choice.include),
            exclude=list(choice.exclude), name=choice.name, kind=kind,
            files=ov.files if ov.access_error is None else None)
        if created:
            LogEntry.objects.log_actions(request.user.pk, [variant], ADDITION, single_object=True,
                                         change_message=f"Added through the API: {choice.description}")
        job, joined = None, False
        if data["download"]:
            job, joined = services.enqueue(variant, requested_by=request.user, origin=JobOrigin.API)
        variant = selectors.detail(ModelVariant.objects.get(pk=variant.pk))
        out = CreatedSerializer({"created": created, "variant": variant, "job": job, "joined": joined})
        return Response(out.data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class VariantDetail(GenericAPIView):
    serializer_class = VariantDetailSerializer
    permission_classes = [permissions.needs(permissions.VIEW_VARIANTS)]
    queryset = ModelVariant.objects.none()

    @extend_schema(responses={200: VariantDetailSerializer, **errors(401, 403, 404)}, summary="One variant")
    def get(self, request, pk: int):
        variant = get_object_or_404(selectors.variants({}), pk=pk)
        return Response(VariantDetailSerializer(selectors.detail(variant)).data)


class Lookup(GenericAPIView):
    serializer_class = LookupSerializer
    # As Add from Hub: asking the Hub (with the server's HF token) is part of adding variants.
    permission_classes = [permissions.needs(permissions.ADD_VARIANTS)]

    @extend_schema(parameters=[LookupQuery],
                   responses={200: LookupSerializer, **errors(400, 401, 403, 404, 502)},
                   summary="What a Hub reference offers: the choices to create variants from")
    def get(self, request):
        query = validated(request, LookupQuery)
        found = references.look_up(query["reference"], query.get("repo_type"), query.get("revision"))
        ov = found.overview
        existing = found.existing()
        named = found.named.key if found.named else None
        hidden = ov.access_error
        return Response(LookupSerializer({
            "repo_id": ov.repo_id, "repo_type": ov.repo_type, "revision": ov.revision, "commit": ov.commit,
            "gated": str(ov.gated).lower(), "private": ov.private,
            "files_hidden": hidden.message if hidden else None,
            "files_hidden_code": str(hidden.code) if hidden else None,
            "files_hidden_guidance": job_guidance(hidden.code, hidden.context) if hidden else None,
            "choices": [{"key": c.key, "name": c.name, "description": c.description, "size": c.size,
                         "files": list(c.files), "named_by_reference": c.key == named,
                         "variant": existing[c.key].pk if c.key in existing else None}
                        for c in found.choices],
        }).data)

