"""Variants saved before input had to be UTF-8 may hold lone surrogates (non-UTF-8 bytes from a shell)
in their globs, name or kind; every page showing them failed. Each such character becomes '?', which
as a glob still matches the one character it stood for."""

from django.db import IntegrityError, migrations, transaction


def _clean(value):
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate becomes '?'
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def forwards(apps, schema_editor):
    ModelVariant = apps.get_model("downloads", "ModelVariant")
    for variant in ModelVariant.objects.all().only("pk", "include", "exclude", "name", "kind"):
        fields = {f: _clean(getattr(variant, f)) for f in ("include", "exclude", "name", "kind")}
        if any(fields[f] != getattr(variant, f) for f in fields):
            try:
                with transaction.atomic():
                    ModelVariant.objects.filter(pk=variant.pk).update(**fields)
            except IntegrityError:  # the cleaned globs equal another variant's: keep the globs as they are
                ModelVariant.objects.filter(pk=variant.pk).update(name=fields["name"], kind=fields["kind"])


class Migration(migrations.Migration):
    dependencies = [("downloads", "0006_error_codes_for_hostile_servers")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
