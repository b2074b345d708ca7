"""Moving bytes: one file's stream or ranged segments, into a resumable partial."""
