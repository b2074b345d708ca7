"""python manage.py models_status [--json]: every variant with its status, size on disk and path."""


from downloads.admin.presenters import variant_dict
from downloads.models import ModelVariant
from downloads.storage.overview import variant_size_on_disk
from modelhub.commands import ModelHubCommand, print_json
from modelhub.sizes import format_size
from settings_app.models import Setting


class Command(ModelHubCommand):
    help = "List every variant with status, size on disk and path."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        storage = Setting.load().effective_storage_dir
        rows = [variant_dict(v, size_on_disk=variant_size_on_disk(v, storage))
                for v in ModelVariant.objects.all()]
        if opts["json"]:
            print_json(self.stdout, rows)
            return
        if not rows:
            self.stdout.write("No variants yet: python manage.py download ORG/NAME --wait")
        for r in rows:
            label = f" [{r['name']}]" if r["name"] else ""
            self.stdout.write(f"{r['id']:>4}  {r['status']:<15} {format_size(r['size_on_disk']):>10}  "
                              f"{r['repo_id']}@{r['revision']}{label}  {r['path'] or ''}")
            if r["problem"]:  # drift a verification found, or the storage check's finding
                self.stdout.write(f"      {r['problem']}")
