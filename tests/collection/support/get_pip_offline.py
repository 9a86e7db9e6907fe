"""Stands in for the get-pip.py bootstrap that ansible-test downloads from a host this machine
cannot reach: installs pip from Python's bundled ensurepip wheel, then runs `pip install` with
the arguments ansible-test passes (the package versions it asks for come from PyPI as usual).
The sanity tests themselves are ansible-test's own."""

import ensurepip
import os
import subprocess
import sys

IGNORED = {"--no-setuptools", "--no-wheel"}

environment = dict(os.environ)  # ensurepip turns pip's configuration off in os.environ; the install needs it
ensurepip.bootstrap(upgrade=True, default_pip=True)
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *[a for a in sys.argv[1:] if a not in IGNORED]],
                         env=environment))
