"""dldoctor's rules, one file per rule (installed as `dldoctor.rules`).

Each file defines one `dldoctor.lint.rule.Rule` subclass; see that module for
the format. Files are named after the rule: `dl101_binary_read_in_text_mode.py`.
"""
