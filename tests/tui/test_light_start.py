"""The first screen's import path stays light: the app and the search screen import neither the
engine's order model, commands, plans, settlement, returns, events, placing, policy nor templates,
nor the contract module that carries them, nor pydantic, nor the screens opened later (order,
dialogs, inbox, returns, new order, account).

Importing is most of what a launch costs before its first paint; these modules come in when a
screen or a call needs them. Checked in a fresh interpreter, so that nothing imported by other tests
counts.
"""

from __future__ import annotations

import json
import subprocess
import sys

DEFERRED = [
    "carecli.backend.contract", "carecli.backend.http", "carecli.backend.ledger",
    "carecli.backend.sqlite.events", "carecli.backend.sqlite.outbox", "carecli.backend.sqlite.placing",
    "carecli.backend.sqlite.returns", "carecli.backend.sqlite.rows", "carecli.backend.sqlite.load",
    "carecli.engine.plan", "carecli.engine.settlement", "carecli.engine.commands", "carecli.engine.returns",
    "carecli.engine.events", "carecli.engine.placing", "carecli.engine.audit", "carecli.engine.amend",
    "carecli.engine.model", "carecli.engine.policy", "carecli.engine.notifications", "carecli.backend.sqlite.users",
    "carecli.backend.templates", "pydantic", "pydantic_core",
    "carecli.screens.order", "carecli.screens.dialogs", "carecli.screens.inbox", "carecli.screens.returns",
    "carecli.screens.new_order", "carecli.screens.customer", "carecli.screens.account", "carecli.screens.returns_tables",
    "carecli.screens.help", "carecli.widgets.waterfall",
]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_the_search_screen_path_imports_none_of_the_deferred_modules():
    mods = _modules_after("import carecli.app, carecli.screens.search, carecli.themes, carecli.config")
    assert "carecli.screens.search" in mods and "carecli.widgets.results" in mods  # it did import them
    loaded = sorted(m for m in mods for d in DEFERRED if m == d or m.startswith(d + "."))
    assert loaded == [], f"the first screen's path imports {loaded}"


def test_opening_a_store_and_searching_it_imports_none_of_them(demo_db):
    """What a launch does before its first results: open the store, read a page, check the connection.
    Then the first call that needs the engine (an order) loads it, in the same fresh interpreter."""
    code = (
        "import carecli.tui, carecli.app, carecli.screens.search\n"
        "from carecli.backend.sqlite import SqliteStore\n"
        f"store = SqliteStore.open({str(demo_db)!r}, role='supervisor')\n"
        "page = store.search_orders('', limit=20)\n"
        "assert len(page.items) == 20, page\n"
        "assert store.ping().online and store.recover() == []  # the app's check on start\n"
        "first = sorted(sys.modules)\n"
        "view = store.get_order(page.items[0].ref)\n"
        "assert view.order.ref == page.items[0].ref and 'carecli.engine.plan' in sys.modules\n"
        "print(json.dumps(first))\n"
        "raise SystemExit(0)")
    out = subprocess.run([sys.executable, "-c", f"import sys, json\n{code}"], capture_output=True, text=True,
                         check=True)
    mods = set(json.loads(out.stdout))
    loaded = sorted(m for m in mods for d in DEFERRED if m == d or m.startswith(d + "."))
    assert "carecli.backend.sqlite.store" in mods
    assert loaded == [], f"opening the store and searching it imports {loaded}"


def test_the_contract_names_still_work():
    """The types moved to small modules are the contract's own, under the old names."""
    mods = _modules_after(
        "from carecli.backend import SearchPage, BackendError, DemoGateway\n"
        "from carecli.backend import contract, errors, search_types\n"
        "assert contract.SearchPage is SearchPage is search_types.SearchPage\n"
        "assert contract.OrderSummary is search_types.OrderSummary\n"
        "assert contract.BackendError is BackendError is errors.BackendError\n"
        "assert contract.ERRORS is errors.ERRORS and contract.ERRORS['duplicate_customer']\n"
        "assert issubclass(contract.DuplicateCustomer, BackendError)\n"
        "assert contract.Connection is __import__('carecli.backend.connection').backend.connection.Connection")
    assert "carecli.backend.contract" in mods


def test_the_launch_through_the_command_line_imports_none_of_them(demo_db, tmp_path):
    """``carecli`` as typed: settings, the store, the app and its first page of results (the app runs
    headless here, for the time it takes to show its first results). The modules are taken when the
    first results are shown or when the app starts reading the operator's policy and templates after
    its first frame, whichever comes first; that reading then loads the engine (and pydantic). The
    garbage collector is off while the app starts and on again, with the start frozen, after."""
    code = (
        "import asyncio, os\n"
        "from carecli import cli\n"
        "from carecli.app import CareApp\n"
        "seen = []\n"
        "check = CareApp._check_files\n"
        "def checking(self):\n"
        "    seen.append(sorted(sys.modules))\n"
        "    check(self)\n"
        "CareApp._check_files = checking\n"
        "import gc\n"
        "collector = []\n"
        "def run(self):\n"
        "    collector.append(gc.isenabled())  # paused by tui.run for the start\n"
        "    async def first_results():\n"
        "        async with self.run_test(size=(120, 40)) as pilot:\n"
        "            for _ in range(200):\n"
        "                await pilot.pause(0.05)\n"
        "                if 'Enter opens' in str(self.screen.query_one('#status').render()):\n"
        "                    seen.append(sorted(sys.modules))\n"
        "                    break\n"
        "            else:\n"
        "                raise SystemExit('no first results')\n"
        "            for _ in range(200):  # the files are read a moment after the first results\n"
        "                if len(seen) == 2 and not any(w.is_running for w in self.workers):\n"
        "                    break\n"
        "                await pilot.pause(0.05)\n"
        "    asyncio.run(first_results())\n"
        "    collector.append(gc.isenabled() and gc.get_freeze_count() > 1000)  # on again, the start frozen\n"
        "CareApp.run = run\n"
        "assert cli.main([]) == 0\n"
        "assert len(seen) == 2, 'the files were not checked'\n"
        "assert collector == [False, True], collector\n"
        "import json\n"
        "print(json.dumps([seen[0], sorted(sys.modules)]))\n")
    env = {"CARECLI_STORE": str(demo_db), "CARECLI_ROLE": "supervisor", "CARECLI_ACTOR": "kim",
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", f"import sys\n{code}"],
                         capture_output=True, text=True, check=True, env=env)
    first, last = (set(m) for m in json.loads(out.stdout.splitlines()[-1]))
    assert "carecli.tui" in first and "carecli.screens.search" in first
    loaded = sorted(m for m in first for d in DEFERRED if m == d or m.startswith(d + "."))
    assert loaded == [], f"the launch imports {loaded}"
    # `carecli` alone builds no argument parser, and the themes are read without importlib.resources;
    # json and hashlib come with the first audit record read or payment taken
    assert not {"argparse", "importlib.resources", "zipfile", "json", "hashlib"} & first
    assert {"carecli.engine.policy", "carecli.backend.templates", "pydantic"} <= last  # read after
