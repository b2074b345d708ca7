"""The one place that talks to the Hub about metadata, and what its answers may be."""
