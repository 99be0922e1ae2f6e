"""Runtime probes: facts about the machine and about checkpoints, then verdicts.

Probes that need torch or tensorflow import them in subprocesses (env) or only
when their command runs (ckpt): never on the lint path.
"""
