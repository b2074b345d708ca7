"""python manage.py download REPO_ID [...]: queue a download, or run it here with --wait."""

from django.core.management.base import CommandError

from downloads import services
from downloads.admin.presenters import job_dict
from downloads.guidance import guidance_for
from downloads.jobs import inline
from downloads.management.progress import ProgressBar
from downloads.models import JobOrigin, JobState, ModelVariant
from downloads.variants import choice_for_reference, repo_files
from engine.catalog import build_choices
from engine.errors import HubError
from engine.selection import DB_INT_MAX, InvalidInput, clean_revision, parse_reference
from modelhub.commands import EXIT_INTERRUPTED, ModelHubCommand, invalid, print_json
from modelhub.sizes import parse_size
from settings_app.models import Setting


class Command(ModelHubCommand):
    help = "Download a repo (or a selection of its files) into the storage folder, verified."

    def add_arguments(self, parser):
        parser.add_argument("repo_id", metavar="REPO",
                            help="org/name (or a legacy id such as gpt2), org/name@REVISION, a Hub link to "
                                 "the repo, a folder (…/tree/REV) or a file (…/blob/REV/FILE: that file, "
                                 "or its whole GGUF quant), or hf.co/org/name:QUANT (one GGUF quant)")
        parser.add_argument("--repo-type", choices=["model", "dataset"], default=None,
                            help="default: what the link says, else model")
        parser.add_argument("--revision", default=None,
                            help="branch, tag or commit (default: what the reference says, else main)")
        parser.add_argument("--include", action="append", default=[], metavar="GLOB",
                            help="only files matching GLOB (repeatable), e.g. '*Q4_K_M*.gguf'")
        parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                            help="leave out files (repeatable)")
        parser.add_argument("--name", default="", help="label of the variant, e.g. Q4_K_M")
        parser.add_argument("--kind", default="auto",
                            help="auto (inferred from the repo; the default), text, embedding, translation, "
                                 "speech, voice, vision, diffusers, adapter, weights, files")
        parser.add_argument("--force", action="store_true", help="download files again even if present")
        parser.add_argument("--limit-rate", metavar="RATE",
                            help="cap this job's speed, e.g. 50MB (per second)")
        parser.add_argument("--wait", action="store_true",
                            help="run the job in this process and wait for it (first for a free slot: "
                                 "max concurrent downloads counts it like a worker's job)")
        parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    def handle(self, *args, **opts):
        as_json = opts["json"]
        try:
            rate = _rate(opts["limit_rate"])
            selection = _selection(opts)
        except (InvalidInput, ValueError) as exc:
            raise invalid(str(exc), as_json=as_json, stdout=self.stdout) from None
        except HubError as exc:  # the repo, revision or access the reference needs: as a failed job says it
            if as_json:
                print_json(self.stdout, {"state": "failed", "error_code": exc.code,
                                         "error_message": exc.message,
                                         "guidance": guidance_for(exc.code, **exc.context)})
            raise CommandError(f"{exc.code}: {exc.message}", returncode=1) from None
        try:
            variant, _ = services.get_or_create_variant(**selection, kind=opts["kind"])
        except (InvalidInput, ValueError) as exc:
            raise invalid(str(exc), as_json=as_json, stdout=self.stdout) from None

        job, joined = services.enqueue(variant, origin=JobOrigin.COMMAND, force=opts["force"],
                                       rate_limit=rate, run_here=opts["wait"])
        if joined and not as_json:
            self.stderr.write(f"Joining active job {job.pk} ({job.state}) for {variant}")
        if opts["wait"]:
            bar = ProgressBar(self.stderr._out)
            try:
                job = inline.run_and_follow(job, reporter=bar, on_wait=self.stderr.write)
            except KeyboardInterrupt:
                bar.close()
                job.refresh_from_db()
                self._report(job, as_json)
                raise CommandError("Interrupted: the job was cancelled and its partial files kept; run the "
                                   "same command again to resume.", returncode=EXIT_INTERRUPTED) from None
            bar.close()
        self._report(job, as_json)
        if opts["wait"] and job.state != JobState.SUCCEEDED:
            raise CommandError(f"job {job.pk} {job.state}: {job.error_code}", returncode=1)

    def _report(self, job, as_json: bool) -> None:
        job.refresh_from_db()
        if as_json:
            print_json(self.stdout, job_dict(job))
            return
        self.stdout.write(f"job {job.pk}: {job.state} — {job.variant}")
        if job.state == JobState.SUCCEEDED:
            self.stdout.write(f"  installed at {job.variant.local_path}")
            self.stdout.write(f"  {(job.verification or {}).get('summary', '')}")
        elif job.error_code:
            self.stdout.write(f"  error: {job.error_code}: {job.error_message}")
            self.stdout.write(f"  what to do: {job.guidance}")
        elif job.state == JobState.QUEUED:
            self.stdout.write("  queued for the workers (python manage.py qcluster)")


def _selection(opts) -> dict:
    """The variant's repo, type, revision and files from the reference and the options; a file link or
    `:QUANT` chooses the files as Add from Hub would. The repo's file list comes along when the repo
    already has variants at that revision, so the same files are the same variant whatever the globs."""
    ref = parse_reference(opts["repo_id"], endpoints=(Setting.load().effective_hub_endpoint,))
    repo_type = opts["repo_type"] or ref.repo_type
    if opts["repo_type"] and ref.repo_type != "model" and ref.repo_type != repo_type:
        raise InvalidInput(f"the link is to a {ref.repo_type} repo, but --repo-type says {repo_type}")
    revision = clean_revision(opts["revision"] or ref.revision or "main")
    if opts["revision"] and ref.revision and revision != ref.revision:
        raise InvalidInput(f"the reference says revision {ref.revision!r}, "
                           f"--revision says {opts['revision']!r}")
    selection = {"repo_id": ref.repo_id, "repo_type": repo_type, "revision": revision,
                 "include": opts["include"], "exclude": opts["exclude"], "name": opts["name"], "files": None}
    if ref.quant or ref.path:
        if opts["include"] or opts["exclude"]:
            raise InvalidInput("the reference already chooses the files (a file link or :QUANT); "
                               "leave out --include and --exclude")
        files = repo_files(ref.repo_id, repo_type, revision)
        choice = choice_for_reference(ref, build_choices(files), files)
        selection.update(include=list(choice.include), exclude=list(choice.exclude),
                         name=opts["name"] or choice.name, files=files)
    elif ModelVariant.objects.filter(repo_id=ref.repo_id, repo_type=repo_type, revision=revision).exists():
        try:
            selection["files"] = repo_files(ref.repo_id, repo_type, revision)
        except HubError:  # the job meets the same refusal and reports it (retrying what is transient)
            pass
    return selection


def _rate(value: str | None) -> int | None:
    """--limit-rate in bytes/s; it is stored on the job, in a 64-bit column."""
    if not value:
        return None
    try:
        rate = parse_size(value)
    except OverflowError:  # hundreds of digits: float('9' * 400) is inf
        rate = DB_INT_MAX + 1
    if rate == 0:
        raise InvalidInput("--limit-rate must be more than 0")
    if rate > DB_INT_MAX:
        raise InvalidInput(f"--limit-rate {value!r} is too large; leave it out for no limit")
    return rate
