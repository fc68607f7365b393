#!/usr/bin/env python3
"""`mariana chat` in a real terminal (a pseudo-terminal, as a person would run it).

Checks what only a terminal shows: the help line and "> " prompt, the reasoning dimmed
with SGR 2 and the style reset after it, Ctrl-C (the terminal's own ^C, delivered as
SIGINT by the line discipline) stopping a long reply with "[stopped]" while the session
goes on to answer the next message, Ctrl-C at the prompt asking again, and /quit leaving
with status 0. Every wait has a deadline, so a hang fails instead of blocking CI.

Usage: cli_chat_tty_test.py MARIANA MODEL_DIR   (MODEL_DIR holds a checkpoint and tokenizer)
"""
import os
import pty
import select
import signal
import sys
import time

DIM, RESET = b"\x1b[2m", b"\x1b[0m"


class Terminal:
    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execv(argv[0], argv)
        self.pending = b""  # output read but not consumed yet

    def read_until(self, wanted, timeout):
        """Consumes output up to and including `wanted`, which must come within `timeout` s."""
        deadline = time.monotonic() + timeout
        while wanted not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {wanted!r} within {timeout} s; got {self.pending[-400:]!r}")
            if select.select([self.fd], [], [], left)[0]:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # EIO once the program has exited
                    chunk = b""
                if not chunk:
                    raise EOFError(f"the program ended before {wanted!r}; got {self.pending[-400:]!r}")
                self.pending += chunk
        end = self.pending.index(wanted) + len(wanted)
        text, self.pending = self.pending[:end], self.pending[end:]
        return text

    def type(self, keys):
        os.write(self.fd, keys)

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            try:  # keep the pty drained so the program never blocks writing
                if select.select([self.fd], [], [], 0.05)[0]:
                    os.read(self.fd, 4096)
            except OSError:
                pass
        os.kill(self.pid, signal.SIGKILL)
        raise TimeoutError("the program did not exit after /quit")


def main():
    mariana, model = sys.argv[1], sys.argv[2]
    checks, failures = [], []

    def check(name, condition, detail=""):
        print(("ok   " if condition else "FAIL ") + name + ("" if condition else f": {detail}"))
        checks.append(name)
        if not condition:
            failures.append(name)

    # Long replies (up to 100,000 tokens) so that Ctrl-C lands mid-reply.
    term = Terminal([mariana, "chat", "--model", model, "-n", "100000", "--context", "200000",
                     "--temperature", "0", "--threads", "1"])
    try:
        banner = term.read_until(b"> ", 60)
        check("help line and prompt", b"/reset" in banner and b"Ctrl-C" in banner, banner)

        term.type(b"Tell me a long story\r")
        first = term.read_until(DIM, 60)  # the reply has begun, as reasoning
        check("reasoning starts dimmed", first.endswith(DIM), first)
        term.type(b"\x03")
        stopped = term.read_until(b"[stopped]", 30)
        check("the dim style is reset before [stopped]", RESET in stopped, stopped[-200:])
        after_stop = term.read_until(b"> ", 30)
        check("Ctrl-C stopped the reply and the prompt came back", DIM not in after_stop, after_stop)

        term.type(b"\x03")  # at the prompt: a fresh prompt, the program stays
        again = term.read_until(b"> ", 30)
        check("Ctrl-C at the prompt asks again", DIM not in again and b"[stopped]" not in again, again)

        term.type(b"And then?\r")
        second = term.read_until(DIM, 60)
        term.type(b"\x03")
        term.read_until(b"[stopped]", 30)
        term.read_until(b"> ", 30)
        check("the session answers the next message", DIM in second, second)

        term.type(b"/quit\r")
        status = term.wait(30)
        check("/quit leaves with status 0", status == 0, f"status {status}")
    except (TimeoutError, EOFError) as e:
        check("the terminal session", False, str(e))
        try:
            os.kill(term.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    print(f"{len(checks) - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
