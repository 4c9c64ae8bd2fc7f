"""The errors of an operator's files: a policy or a message template that cannot be used.

Without pydantic, so that starting the app can catch them without importing the models that raise
them; :mod:`carecli.engine.policy` and :mod:`carecli.engine.notifications` re-export them.
"""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy file that cannot be used. The message names the file, the key and the expectation."""


class TemplateError(ValueError):
    """A template that cannot be used; the message names where it came from and what is wrong."""
