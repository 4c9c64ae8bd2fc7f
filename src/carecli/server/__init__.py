"""``carecli serve``: the backend contract over HTTP (needs the ``server`` extra)."""
