"""Is what is on disk what the Hub published: hashes, format checks, completeness."""
