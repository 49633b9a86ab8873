#!/usr/bin/env python3
"""A local SMTP server for the test suite: stores every message it receives as a file.

    python3 tests/smtp-sink.py PORT DIRECTORY

Each message becomes DIRECTORY/<time>-<n>.eml (written to a temporary name, then renamed, so a
reader never sees half a message). Uses aiosmtpd (Debian: python3-aiosmtpd).
"""
import itertools
import os
import sys
import time

from aiosmtpd.controller import Controller

counter = itertools.count()


class StoreHandler:
    def __init__(self, directory):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}-{next(counter)}"
        partial = os.path.join(self.directory, name + ".part")
        with open(partial, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(partial, os.path.join(self.directory, name + ".eml"))
        return "250 Message accepted for delivery"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(StoreHandler(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"smtp-sink listening on 127.0.0.1:{port}, storing in {directory}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
