"""The variant form: one glob per line, cleaned by the same cleaners as the services, errors on the field."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from downloads import services
from downloads.models import ModelVariant

pytestmark = pytest.mark.django_db


def test_variant_form_takes_one_glob_per_line_and_normalises_through_the_service_cleaners(admin_client,
                                                                                          configured):
    response = admin_client.post(reverse("admin:downloads_modelvariant_add"), {
        "repo_id": "https://huggingface.co/org/gguf", "repo_type": "model", "revision": "", "name": "Q4_K_M",
        "kind": "text", "include": "*Q4_K_M*.gguf\n\nREADME.md\n*Q4_K_M*.gguf", "exclude": "",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    variant = ModelVariant.objects.get()
    assert (variant.repo_id, variant.revision) == ("org/gguf", "main")
    assert variant.include == ["*Q4_K_M*.gguf", "README.md"]
    assert LogEntry.objects.filter(object_id=str(variant.pk), action_flag=1).exists()

    change = reverse("admin:downloads_modelvariant_change", args=[variant.pk])
    page = admin_client.get(change).content.decode()
    assert "*Q4_K_M*.gguf\nREADME.md</textarea>" in page  # edited back as one glob per line


@pytest.mark.parametrize("field, value, fragment", [
    ("repo_id", "org/name/extra", "is not a repo id"),  # "not-a-repo" is a legacy id like gpt2
    ("revision", "bad..rev", "is not a valid branch, tag or commit name"),
    ("include", "../escape/*", "must be a relative glob"),
    ("exclude", "a[b", "unbalanced"),
])
def test_variant_form_shows_cleaner_errors_on_the_field(admin_client, configured, field, value, fragment):
    data = {"repo_id": "org/x", "repo_type": "model", "revision": "main", "name": "", "kind": "text",
            "include": "", "exclude": "", field: value}
    response = admin_client.post(reverse("admin:downloads_modelvariant_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert fragment in " ".join(errors[field])
    assert not ModelVariant.objects.exists()


def test_variant_form_refuses_a_duplicate_selection(admin_client, configured):
    services.get_or_create_variant(repo_id="org/x", include=["a.gguf"])
    response = admin_client.post(reverse("admin:downloads_modelvariant_add"), {
        "repo_id": "org/x", "repo_type": "model", "revision": "main", "kind": "text", "include": "a.gguf",
        "exclude": ""})
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors)
    assert ModelVariant.objects.count() == 1
