"""A job's life: every state transition (lifecycle), the runner, in-process runs, liveness."""
