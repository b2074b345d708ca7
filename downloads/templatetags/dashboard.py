"""The home page's dashboard (downloads.admin.dashboard), and the app list under it with the task
queue's internals left to superusers."""

from django import template

from downloads.admin.dashboard import dashboard
from downloads.admin.display import relative_time

register = template.Library()
INTERNAL_APPS = {"django_q"}  # django-q2's tasks and schedules: for whoever runs the workers
LAST_APPS = ("auth",)  # users and groups: set up once, below what people come for


@register.inclusion_tag("admin/downloads/_dashboard.html", takes_context=True)
def modelhub_dashboard(context):
    request = context["request"]
    return {**dashboard(request), "request": request, "csrf_token": context.get("csrf_token"),
            "perms": context.get("perms")}


@register.filter
def everyday_apps(app_list, user):
    """The apps of the index in the order people need them; the task queue for superusers only."""
    apps = [a for a in app_list if a["app_label"] not in INTERNAL_APPS or user.is_superuser]
    return sorted(apps, key=lambda a: (a["app_label"] in LAST_APPS or a["app_label"] in INTERNAL_APPS))


@register.filter
def ago(moment) -> str:
    return relative_time(moment)
