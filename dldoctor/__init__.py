"""dldoctor: a troubleshooting doctor for deep-learning projects."""

__version__ = "0.1.0"
