"""The one error type for input a user can fix (a bad archive, a missing model, a wrong setting)."""


class CatbreedError(ValueError):
    """Bad user input. The message is one line: what was wrong, what was expected, what was found."""


class Cancelled(RuntimeError):
    """Long work was stopped on request; nothing half-written was left behind."""
