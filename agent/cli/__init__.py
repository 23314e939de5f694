"""The ``viddiff`` command line: ``main`` (the parser and exit codes), one ``cmd_*`` module per
subcommand, the option groups they share (``options``), the live view of a running comparison
(``live_view``) and the final table (``result_table``)."""
