"""GET /jobs/ (filter by state, kind, variant, active; paginated) and GET /jobs/{id}/ (with the
verification table and the events)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from api import permissions, selectors
from api.pagination import Pagination
from api.query import validated
from api.serializers.common import errors
from api.serializers.jobs import JobDetailSerializer, JobQuery, JobSerializer
from downloads.models import DownloadJob


class JobList(GenericAPIView):
    pagination_class = Pagination
    serializer_class = JobSerializer
    permission_classes = [permissions.needs(permissions.VIEW_JOBS)]
    queryset = DownloadJob.objects.none()

    @extend_schema(parameters=[JobQuery], responses={200: JobSerializer(many=True), **errors(400, 401, 403)},
                   summary="Jobs, newest first, filtered by state, kind, variant")
    def get(self, request):
        page = self.paginate_queryset(selectors.jobs(validated(request, JobQuery)))
        return self.get_paginated_response(JobSerializer(page, many=True).data)


class JobDetail(GenericAPIView):
    serializer_class = JobDetailSerializer
    permission_classes = [permissions.needs(permissions.VIEW_JOBS)]
    queryset = DownloadJob.objects.none()

    @extend_schema(responses={200: JobDetailSerializer, **errors(401, 403, 404)},
                   summary="One job: state, progress, error code and guidance, verification table, events")
    def get(self, request, pk: int):
        job = get_object_or_404(selectors.jobs({}), pk=pk)
        return Response(JobDetailSerializer(job).data)
