"""Demo data for development: dragons, projects with members in every role,
published and unpublished treasures. Loaded once; the passwords are printed
when it is."""
from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from sqlalchemy import select

from .. import clock
from ..models import Membership, Project, Treasure, User
from ..services.users import register_user

#: (email, username, password, is_admin). Development data only.
DEMO_USERS = (
    ("smaug@dragonhoard.example", "smaug", "erebor-gold-under-the-mountain", True),
    ("glaurung@dragonhoard.example", "glaurung", "father-of-dragons-in-angband", False),
    ("ancalagon@dragonhoard.example", "ancalagon", "the-black-and-mightiest-wing", False),
    ("scatha@dragonhoard.example", "scatha", "grey-mountains-long-worm-hoard", False),
)

#: (slug, name, description, {username: role})
DEMO_PROJECTS = (
    ("lonely-mountain", "The Lonely Mountain", "Erebor's hoard, shared with care.",
     {"smaug": "owner", "glaurung": "editor", "ancalagon": "viewer"}),
    ("angband", "Angband", "Iron prisons and what lies in them.",
     {"glaurung": "owner", "scatha": "editor", "smaug": "viewer"}),
)

#: (owner, project slug or None, name, value, cool_factor, published)
DEMO_TREASURES = (
    ("smaug", "lonely-mountain", "Arkenstone", 1000000, 10, False),
    ("smaug", "lonely-mountain", "Girion's emerald necklace", 25000, 7, True),
    ("glaurung", "lonely-mountain", "Dwarven mithril coat", 80000, 9, False),
    ("smaug", None, "Dale's bell", 300, 3, True),
    ("smaug", None, "A single gold cup", 120, 2, False),
    ("glaurung", "angband", "Nauglamír", 500000, 10, False),
    ("scatha", "angband", "Iron crown shard", 9000, 6, True),
    ("ancalagon", None, "Scale of a sky-battle", 50, 8, True),
    ("scatha", None, "Grey mountain geode", 700, 4, False),
)

MARKER_EMAIL = DEMO_USERS[0][0]


def load_demo(env, out: TextIO) -> bool:
    """Load the demo data unless it is there already; True when loaded."""
    with env.transaction() as (dbsession, bookkeeping):
        if dbsession.scalar(select(User.id).where(User.email_canonical == MARKER_EMAIL)):
            print("Demo data is already loaded (its passwords were printed then).", file=out)
            return False
        passwords = env.passwords
        users = {}
        for email, username, password, is_admin in DEMO_USERS:
            user = register_user(dbsession, bookkeeping, passwords, email=email, username=username,
                                 password=password, is_admin=is_admin, by="demo")
            users[username] = user
        projects = {}
        now = clock.now()
        for slug, name, description, members in DEMO_PROJECTS:
            project = Project(slug=slug, name=name, description=description, created_at=now)
            dbsession.add(project)
            dbsession.flush()
            for username, role in members.items():
                dbsession.add(Membership(project_id=project.id, user_id=users[username].id, role=role))
            projects[slug] = project
        for index, (owner, slug, name, value, cool, published) in enumerate(DEMO_TREASURES):
            dbsession.add(
                Treasure(
                    owner_id=users[owner].id,
                    project_id=projects[slug].id if slug else None,
                    name=name,
                    description=f"{name}, kept by {owner}.",
                    value=value,
                    cool_factor=cool,
                    is_published=published,
                    plundered_at=now - timedelta(days=400 - index),
                    created_at=now - timedelta(minutes=len(DEMO_TREASURES) - index),
                )
            )
    print("Demo data loaded. Log in at http://127.0.0.1:6543/login as:", file=out)
    for email, _username, password, is_admin in DEMO_USERS:
        role = " (admin)" if is_admin else ""
        print(f"  {email:32} password: {password}{role}", file=out)
    return True
