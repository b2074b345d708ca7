"""Webhooks: signed JSON POSTs to the URLs in Settings when a job ends or a variant's status changes."""
