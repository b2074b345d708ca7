"""Every variant gets a readable name: those created without one (by a command or an import) showed as
"-" in the list. The same rule as downloads.variants.readable_name, frozen here as of this migration."""

from django.db import migrations

from engine.catalog import quant_of


def name_for(include, exclude):
    if not include and not exclude:
        return "all files"
    quants = {quant_of(p.replace("*", " ").replace("?", " ")) for p in include}
    if len(quants) == 1 and None not in quants:
        return quants.pop()
    if not include:
        return ("all except " + ", ".join(exclude))[:100]
    return (include[0] + (f" (+{len(include) - 1} more)" if len(include) > 1 else ""))[:100]


def fill_names(apps, schema_editor):
    Variant = apps.get_model("downloads", "ModelVariant")
    for variant in Variant.objects.filter(name="").iterator():
        variant.name = name_for(variant.include or [], variant.exclude or [])
        variant.save(update_fields=["name"])


class Migration(migrations.Migration):

    dependencies = [
        ('downloads', '0012_previous_storage'),
    ]

    operations = [
        migrations.RunPython(fill_names, migrations.RunPython.noop),
    ]
