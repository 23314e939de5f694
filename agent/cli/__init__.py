"""The ``viddiff`` command line: ``main`` (the parser and exit codes), one ``cmd_*`` module per
subcommand, the option groups they share (``options``), where a command's jobs run
(``pools``) and how its coroutine runs (``async_run``). What it shows on the terminal is in
:mod:`viddiff.agent.console`, shared with the chat."""
