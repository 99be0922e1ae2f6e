"""`dldoctor graph`: catch a growing graph (TF1 ops, tf.function retraces, autograd) before it crashes.

Two halves. The `inject_*` modules are stdlib-only code copied into the user's
script process (they import nothing of dldoctor and touch a framework only once
the script has imported it); the rest runs in the dldoctor process and never
imports a framework: runner (start the script, show its output as it runs, collect
facts), metagraph (read `.meta` files with a protobuf wire reader; a truncated or
corrupt file is reported, never compared), growth (pure analysis: what grows, by
op kind and bytes), diagnosis (pure verdicts, and fixes written for what grows),
chart and report (printing, progress lines, PNG charts), command (the typer app).
"""
