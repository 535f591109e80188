"""A program on a pseudo-terminal, for the tests that type at one
(slopnctl's shell, bash's completion): send keys, wait until the screen
shows a pattern. A test's script imports it: sys.path gets this directory."""
import os
import pty
import re
import select
import sys
import time


class Term:
    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp(argv[0], argv)
        self.screen = b""

    def expect(self, pattern, timeout=5):
        """Until the screen since the last send matches; else the test fails
        with what the screen showed."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if re.search(pattern.encode(), self.screen):
                return
            if not self._read(0.1):
                break
        sys.stdout.write(self.screen.decode(errors="replace"))
        sys.exit("FAIL: the terminal never showed /%s/" % pattern)

    def drain(self, secs):
        """What else the screen shows within secs."""
        deadline = time.time() + secs
        while time.time() < deadline and self._read(0.05):
            pass

    def _read(self, wait):
        """What came within wait onto the screen; False once the program
        has gone (the terminal closed)."""
        r, _, _ = select.select([self.fd], [], [], wait)
        if r:
            try:
                self.screen += os.read(self.fd, 4096)
            except OSError:
                return False
        return True

    def send(self, keys):
        self.screen = b""
        os.write(self.fd, keys.encode())

    def wait(self):
        """The program's exit: whether it exited (not killed)."""
        _, status = os.waitpid(self.pid, 0)
        return os.WIFEXITED(status)
