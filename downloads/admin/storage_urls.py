"""URLs of the Storage page, included in modelhub/urls.py before `admin/` so the admin's catch-all
does not swallow them; `admin.site.admin_view` gives them the admin's login and staff checks."""

from django.contrib import admin
from django.urls import path

from downloads.admin import storage

urlpatterns = [
    path("", admin.site.admin_view(storage.storage_index), name="modelhub-storage"),
    path("import/", admin.site.admin_view(storage.storage_import), name="modelhub-storage-import"),
    path("delete/", admin.site.admin_view(storage.delete_files), name="modelhub-storage-delete"),
    path("cleanup/", admin.site.admin_view(storage.cleanup), name="modelhub-storage-cleanup"),
]
