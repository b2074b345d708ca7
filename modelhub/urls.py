from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from modelhub.health import healthz

admin.site.site_header = "ModelHub"
admin.site.site_title = "ModelHub"
admin.site.index_title = "Models, downloads and storage"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    # Before admin/: the admin's catch-all would answer these with a 404.
    path("admin/storage/", include("downloads.storage_urls")),
    path("admin/", admin.site.urls),
]
