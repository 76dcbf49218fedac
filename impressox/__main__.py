"""`python -m impressox`: the same as the `impressox` command."""

from impressox.cli.app import main

main()
