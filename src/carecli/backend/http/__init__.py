"""The HTTP backend: the contract over a carecli server (``carecli serve``), with a commit journal."""

from .client import HttpBackend
from .journal import Journal

__all__ = ["HttpBackend", "Journal"]
