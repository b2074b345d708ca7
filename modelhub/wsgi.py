import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelhub.settings")
application = get_wsgi_application()

from modelhub import quiet_polls  # noqa: E402 (after Django is set up)

quiet_polls.install()  # no access-log line per progress poll under gunicorn
