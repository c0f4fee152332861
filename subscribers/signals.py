from django.dispatch import Signal

# Sent once the transaction that recorded a member's changes has committed (form, one-click, admin, API).
# Arguments: `changes`, the PreferenceChange rows. preferences_save writes them with bulk_create, which
# sends no post_save: listeners (the sync's push, the webhook) hook in here.
preferences_changed = Signal()
