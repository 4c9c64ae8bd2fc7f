"""Shared demo data for the demo tests: generated once per session (about a second)."""

from __future__ import annotations

import pytest

from carecli.demo import generate, reference
from carecli.engine.policy import default_policy

SAMPLE_ORDERS = 6_000


@pytest.fixture(scope="session")
def policy():
    return default_policy()


@pytest.fixture(scope="session")
def ref():
    return reference()


@pytest.fixture(scope="session")
def locations(ref):
    return {loc.id: loc for loc in ref.locations}


@pytest.fixture(scope="session")
def catalog(ref):
    return {v.sku: v for v in ref.variants}


@pytest.fixture(scope="session")
def sample():
    """(DemoCustomer, [Order]) pairs: the scenarios and a few thousand random orders, seed 7."""
    return list(generate(SAMPLE_ORDERS))


@pytest.fixture(scope="session")
def orders(sample):
    return [o for _, os_ in sample for o in os_]


@pytest.fixture(scope="session")
def by_ref(orders):
    return {o.ref: o for o in orders}
