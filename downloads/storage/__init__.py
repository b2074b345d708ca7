"""The storage folder as the app sees it: overview, cleanup, delete, health, import."""
