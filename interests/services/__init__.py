"""Services: the only code that writes interests (HackSoft style: <entity>_<action>(*, ...))."""

from .discovery import DiscoveryOutcome, interests_apply_discovery
from .ordering import MOVES, form_order, interests_move, interests_regroup, interests_reorder
from .visibility import interests_set_visible

__all__ = [
    "MOVES",
    "DiscoveryOutcome",
    "interests_apply_discovery",
    "form_order",
    "interests_move",
    "interests_regroup",
    "interests_reorder",
    "interests_set_visible",
]
