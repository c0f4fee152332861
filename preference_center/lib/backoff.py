"""The one backoff rule: the push to iMIS, the webhook and the REST client wait this long before their next
attempt."""


def exponential_backoff(attempts: int, *, base: float, cap: float) -> float:
    """Seconds before attempt `attempts + 1`: base x 2^(attempts - 1), at most `cap`."""
    return float(min(cap, base * 2 ** max(0, min(attempts - 1, 30))))
