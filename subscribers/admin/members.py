"""Admin of members: Subscriber with preferences and history inline, link actions."""
