from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from modelhub.health import healthz

admin.site.site_header = "ModelHub"
admin.site.site_title = "ModelHub"
admin.site.index_title = "Models, downloads and storage"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
