"""Issue 14, lists: the variant page speaks in relative times too (last verified, its jobs, the upstream
check), each with the exact time on hover."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from downloads.models import ModelVariant
from tests.storage_helpers import download, model_files

pytestmark = pytest.mark.django_db


def test_the_variant_page_gives_relative_times_with_the_exact_one_on_hover(admin_client, configured, hub):
    hub.add_repo("org/tiny", model_files())
    variant = ModelVariant.objects.get(pk=download("org/tiny", name="tiny").variant_id)
    two_hours_ago = timezone.now() - datetime.timedelta(hours=2, minutes=5)
    ModelVariant.objects.filter(pk=variant.pk).update(last_verified_at=two_hours_ago,
                                                      upstream_commit=variant.commit,
                                                      upstream_checked_at=timezone.now())
    url = reverse("admin:downloads_modelvariant_change", args=[variant.pk])
    page = admin_client.get(url).content.decode()
    exact = timezone.localtime(two_hours_ago).strftime("%Y-%m-%d %H:%M:%S")
    assert re.search(rf'<span class="mh-ago" title="{exact} \w+">2 h ago</span>', page)
    assert "up to date (" in page and "checked <span class=\"mh-ago\"" in page and "just now</span>" in page
    jobs = page[page.index('class="mh-jobs"'):]
    assert re.search(r'<td><span class="mh-ago" title="[\d-]+ [\d:]+ \w+">just now</span></td>', jobs)
