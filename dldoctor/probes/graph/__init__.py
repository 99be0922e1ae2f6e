"""`dldoctor graph`: catch a growing graph (TF1 ops, tf.function retraces, autograd) before it crashes.

Two halves. The `inject_*` modules are stdlib-only code copied into the user's
script process (they import nothing of dldoctor and touch a framework only once
the script has imported it); the rest runs in the dldoctor process and never
imports a framework: runner (start the script, collect facts), metagraph (read
`.meta` files with a protobuf wire reader), growth (pure analysis), diagnosis
(pure verdicts), chart and report (printing), command (the typer app).
"""
