"""A deliverer in its own process that stops (sleeps) right after sending its N-th message and before
recording it as sent — the window a crash hurts most. The test SIGKILLs it there.

    python -m tests.delivery.worker STORE OUTBOX N [SMTP_PORT]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from carecli.backend.sqlite import SqliteStore
from carecli.delivery import FileSender, SmtpSender, deliver_pass


def main() -> None:
    store, outbox, pause_at = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    files = FileSender(outbox)
    sender = files if len(sys.argv) < 5 else SmtpSender("127.0.0.1", int(sys.argv[4]), files, starttls=False,
                                                        timeout=10)
    count = 0

    def on_sent(claim, target) -> None:
        nonlocal count
        count += 1
        if count == pause_at:
            print(f"PAUSED {claim.row_id}", flush=True)
            time.sleep(3600)

    with SqliteStore.open(store) as s:
        deliver_pass(s, sender, batch=2, on_sent=on_sent)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
