"""Every hand-written and pre-compiled statement of the fast path, by concern:
authentication, the item contexts and lists, and the last-used touches."""
