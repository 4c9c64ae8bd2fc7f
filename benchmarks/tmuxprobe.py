"""A small tmux driver for benchmarks: run a program in a private tmux server at a fixed size, read its
screen, send keys, and time how long until the screen shows something.

Polling goes through one tmux control-mode client (``tmux -C``), so a poll costs no fork of a tmux
client (that would steal CPU from the measured program on a 2-core machine).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid

perf = time.perf_counter


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


class Tmux:
    def __init__(self, width: int = 120, height: int = 40) -> None:
        tag = uuid.uuid4().hex[:8]
        self.sock = f"carecli-bench-{os.getpid()}-{tag}"
        self.base = ["tmux", "-L", self.sock, "-f", "/dev/null"]
        self.width, self.height = width, height
        subprocess.run(self.base + ["new-session", "-d", "-s", "keeper", "-x", str(width), "-y", str(height),
                                    "sleep 100000"], check=True)
        subprocess.run(self.base + ["set-option", "-g", "remain-on-exit", "on"], check=True)
        subprocess.run(self.base + ["set-option", "-g", "status", "off"], check=True)
        subprocess.run(self.base + ["set-option", "-g", "default-terminal", "xterm-256color"], check=True)
        self.ctl = subprocess.Popen(self.base + ["-C", "attach", "-t", "keeper"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True, bufsize=1)
        self._n = 0
        # Attaching answers with a block of its own; read it so that every later answer is our own.
        assert self.ctl.stdout
        while not self.ctl.stdout.readline().startswith(("%end", "%error")):
            pass

    def cmd(self, command: str) -> list[str]:
        """Run one tmux command through the control client; its output lines."""
        assert self.ctl.stdin and self.ctl.stdout
        self.ctl.stdin.write(command + "\n")
        self.ctl.stdin.flush()
        out: list[str] = []
        inside = False
        while True:
            line = self.ctl.stdout.readline()
            if not line:
                raise RuntimeError("tmux control client ended")
            line = line.rstrip("\n")
            if line.startswith("%begin"):
                inside = True
                out = []
                continue
            if line.startswith("%end") or line.startswith("%error"):
                if inside:
                    if line.startswith("%error"):
                        raise RuntimeError(f"tmux: {command}: {out}")
                    return out
                continue
            if inside:
                out.append(line)

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> str:
        self._n += 1
        name = f"run{self._n}"
        envs = " ".join(f"-e {_q(f'{k}={v}')}" for k, v in (env or {}).items())
        self.cmd(f"new-session -d -s {name} -x {self.width} -y {self.height} {envs} "
                 + " ".join(_q(a) for a in argv))
        return name

    def screen(self, name: str, escapes: bool = False) -> str:
        """The pane's text; ``escapes``: with its colours and attributes (a moved highlight shows)."""
        return "\n".join(self.cmd(f"capture-pane -p {'-e ' if escapes else ''}-t ={name}:"))

    def pid(self, name: str) -> int:
        return int(self.cmd(f"list-panes -t ={name}: -F '#{{pane_pid}}'")[0])

    def keys(self, name: str, *keys: str, literal: bool = False) -> None:
        flag = "-l " if literal else ""
        self.cmd(f"send-keys -t ={name}: {flag}" + " ".join(_q(k) for k in keys))

    def wait_for(self, name: str, marker: str, timeout: float = 30.0, interval: float = 0.002) -> float:  # float-ok
        """Seconds until ``marker`` is on screen (raises on timeout)."""
        t0 = perf()
        while perf() - t0 < timeout:
            if marker in self.screen(name):
                return perf() - t0
            time.sleep(interval)
        raise TimeoutError(f"{marker!r} did not appear in {timeout}s; screen:\n{self.screen(name)}")

    def wait_change(self, name: str, before: str, timeout: float = 10.0, interval: float = 0.001,  # float-ok
                    escapes: bool = False) -> float:  # float-ok
        t0 = perf()
        while perf() - t0 < timeout:
            if self.screen(name, escapes) != before:
                return perf() - t0
            time.sleep(interval)
        raise TimeoutError("the screen did not change")

    def kill(self, name: str) -> None:
        try:
            self.cmd(f"kill-session -t ={name}")
        except RuntimeError:
            pass

    def close(self) -> None:
        try:
            self.ctl.terminate()
        finally:
            subprocess.run(self.base + ["kill-server"], capture_output=True)


def rss_mib(pid: int) -> float:  # float-ok: a measurement
    """Resident memory of a process and its descendants, in MiB."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as f:
                pids.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return total / 1024
