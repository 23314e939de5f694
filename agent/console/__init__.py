"""What people see in a terminal, shared by the command line and the chat: the live view of a
running comparison (``live_view``), the final table of a result (``result_table``) and
library wording turned into command-line wording (``wording``).

It sits beside ``agent.cli`` and ``agent.chat`` and imports neither, so both can use it
without importing each other.
"""
