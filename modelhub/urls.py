from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from modelhub import readme
from modelhub.health import healthz

# INSTALLED_APPS has SimpleAdminConfig: the admin modules are loaded here, with the URLs (by the web
# process, `check` and anything that reverses a URL), not by every management command's start-up.
admin.autodiscover()

admin.site.site_header = "ModelHub"
admin.site.site_title = "ModelHub"
admin.site.index_title = "Models, downloads and storage"
# There is no public site: the header's link opens the README as a page (modelhub.readme), labelled Docs.
admin.site.site_url = "/admin/docs/"

FAVICON = f"/{settings.STATIC_URL.strip('/')}/downloads/brand/modelhub.svg"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without a <link rel=icon> (the API docs, /hub): the same mark.
    path("favicon.ico", RedirectView.as_view(url=FAVICON, permanent=False)),
    # The Hub-compatible read endpoint (HF_ENDPOINT=http://<host>/hub): a catch-all of its own under hub/.
    path("hub/", include("serving.urls")),
    path("api/v1/", include("api.urls")),
    path("metrics", include("metrics.urls")),
    # Before admin/: the admin's catch-all would answer these with a 404.
    path("admin/storage/", include("downloads.admin.storage_urls")),
    path("admin/docs/", admin.site.admin_view(readme.readme_view), name="modelhub-docs"),
    path("admin/docs/<str:name>", admin.site.admin_view(readme.image_view), name="modelhub-docs-image"),
    path("admin/", admin.site.urls),
]
