"""The Hugging Face cache layout on disk: paths, blob locks, safe deletes, scanning."""
