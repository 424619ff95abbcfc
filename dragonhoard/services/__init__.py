"""What a user can do, shared by the views and the command line.

Services take a database session, the security log (``events``, a
``security.bookkeeping.Bookkeeping``) and plain values, write, record the
events of what they wrote, and raise the domain's errors (``errors.py``):
they know nothing of HTTP.
"""
