"""Who may do what with a data set or a model: the rules in one place, for every page to ask.

Whatever a browser makes is owned by its identity (access.Pass). Its owner opens, uses,
downloads, changes, shares and deletes it; others only see it when it is shared, and then may
open, use and download it, never change or delete it. The operator (signed in with the admin
password) may do anything, and alone chooses the default model for everyone when an admin
password is set. Things made by the CLI, or before owners were recorded, have no owner: everyone
sees them; changing them is the operator's, or anyone's on a server without an admin password.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ownership:
    owner: str | None = None  # an identity; None: the house's (made by the CLI or before owners)
    shared: bool = False

    def to_json(self) -> dict:
        return {"owner": self.owner, "shared": self.shared}

    @classmethod
    def from_json(cls, data: dict) -> Ownership:
        owner = data.get("owner")
        return cls(owner if isinstance(owner, str) and owner else None, data.get("shared") is True)


@dataclass(frozen=True)
class Visitor:
    """The person behind one page run, as their checked pass and the server's settings make them."""

    identity: str
    admin: bool = False  # signed in with the admin password
    admin_password_set: bool = False

    def owns(self, thing: Ownership) -> bool:
        return thing.owner == self.identity

    def may_open(self, thing: Ownership) -> bool:
        """See it, use it (train on it, classify with it) and download it."""
        return thing.owner is None or thing.shared or self.owns(thing) or self.admin

    def may_change(self, thing: Ownership) -> bool:
        """Change, share, unshare or delete it."""
        return self.owns(thing) or self.admin or (thing.owner is None and not self.admin_password_set)

    def may_act_for_everyone(self) -> bool:
        """Choose the model of everyone who has not chosen one."""
        return self.admin or not self.admin_password_set
