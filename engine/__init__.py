"""ModelHub's download engine: no Django (tests/engine/test_no_django.py keeps it so)."""
