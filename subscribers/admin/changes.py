"""Admin of the sync: the changes list (outbox and history), sync runs, the dashboard."""
