"""`python -m dldoctor.server` starts the language server, as `dldoctor server` does."""

from dldoctor.server import server_command

if __name__ == "__main__":
    server_command()
