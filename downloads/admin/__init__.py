"""The admin as the control room: variants (what to have) and jobs (each attempt), with live progress.

Registration happens on import (urls.py's admin.autodiscover): variants.py and jobs.py hold the two
ModelAdmins; actions.py the thin actions (they call the services); views.py the custom views
(progress JSON, buttons, job page context); add_from_hub.py and storage.py the pages of their own.
"""

from downloads.admin import jobs, variants  # noqa: F401 - registers the ModelAdmins
