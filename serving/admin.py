"""API tokens (create: shown once; revoke) and the pull log with bytes served per variant and per user."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Sum
from django.template.response import TemplateResponse
from django.utils.html import format_html

from modelhub.sizes import format_size
from serving import audit, tokens
from serving.models import PULL_PERMISSION, ApiToken, PullLog

ACT_FOR_OTHERS = "auth.change_user"  # a token for someone else lets you pull as them


class ApiTokenAddForm(forms.ModelForm):
    acting_user = None  # set per request by ApiTokenAdmin.get_form

    class Meta:
        model = ApiToken
        fields = ["user", "name"]

    def clean_user(self):
        user = self.cleaned_data["user"]
        if (self.acting_user is not None and user != self.acting_user
                and not self.acting_user.has_perm(ACT_FOR_OTHERS)):
            raise forms.ValidationError("You may only create tokens for yourself: a token for another user "
                                        "lets its holder pull as them (needs 'Can change user').")
        return user


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix_shown", "user", "name", "created_at", "last_used_at", "state", "served")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "user")
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    actions = ["revoke_selected"]
    readonly_fields = ("prefix_shown", "user", "name", "created_at", "created_by", "last_used_at",
                       "revoked_at", "revoked_by")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(bytes_served=Sum("pulls__bytes_served"))

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        form = super().get_form(request, obj, change, **kwargs)
        form.acting_user = request.user  # a fresh class per request
        return form

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk}

    def save_model(self, request, obj, form, change):
        if change:
            return  # a token never changes; revoke it and create another
        request.modelhub_new_token = tokens.issue(obj, by=request.user)

    def response_add(self, request, obj, post_url_continue=None):
        """The plain token, once, on this page: not in a message (those can live in a cookie) or a URL."""
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "token": obj,
                   "plain": request.modelhub_new_token, "title": "API token created",
                   "can_pull": obj.user.has_perm(PULL_PERMISSION)}
        response = TemplateResponse(request, "admin/serving/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def has_delete_permission(self, request, obj=None):
        return False  # revoked tokens stay, so the pull log keeps saying whose they were

    @admin.display(description="Token", ordering="prefix")
    def prefix_shown(self, obj):
        return format_html("<code>{}…</code>", obj.prefix)

    @admin.display(description="State", ordering="revoked_at")
    def state(self, obj):
        if obj.revoked_at:
            return format_html('<span title="by {}">revoked {}</span>', obj.revoked_by or "-",
                               obj.revoked_at.strftime("%Y-%m-%d %H:%M"))
        return "active"

    @admin.display(description="Bytes served", ordering="bytes_served")
    def served(self, obj):
        return format_size(obj.bytes_served or 0)

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_selected(self, request, queryset):
        done = [row for row in queryset if tokens.revoke(row, by=request.user)]
        for row in done:
            self.log_change(request, row, "Revoked the API token.")
        self.message_user(request, f"Revoked {len(done)} token(s).", messages.SUCCESS)


@admin.register(PullLog)
class PullLogAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "repo_id", "path", "revision", "short_commit", "status", "size",
                    "range_start", "client")
    list_filter = ("status", "repo_type", "user")
    search_fields = ("repo_id", "path", "user__username")
    date_hierarchy = "at"
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Commit", ordering="commit")
    def short_commit(self, obj):
        return obj.commit[:10]

    @admin.display(description="Bytes", ordering="bytes_served")
    def size(self, obj):
        return format_size(obj.bytes_served)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        if "cl" in context:  # totals of what the filters select
            rows = context["cl"].queryset
            for by in ("variant", "user"):
                context[f"by_{by}"] = [{**r, "size": format_size(r["bytes"])} for r in audit.totals(rows, by)]
        return response
