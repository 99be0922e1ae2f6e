"""The static half of dldoctor: discover files, parse once, run every rule, report.

Nothing in this package may import torch or tensorflow: linting a project must
not pay seconds of framework import time, nor need the frameworks installed.
"""
