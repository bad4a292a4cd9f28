"""Stand-in for pypa's get-pip.py, which ansible-test fetches from a host outside the package
registries. Same interface (pip install arguments, plus --no-setuptools/--no-wheel): pip comes
from the interpreter's own ensurepip, the requested packages from the configured index."""

import ensurepip
import runpy
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

ensurepip.bootstrap()
sys.argv = ["pip", "install", *(arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY)]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
