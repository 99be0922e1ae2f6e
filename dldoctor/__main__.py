"""`python -m dldoctor` runs the same CLI as the `dldoctor` console script."""

from dldoctor.entry import main

if __name__ == "__main__":
    main()
