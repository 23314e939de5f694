"""The chat agent (``viddiff chat`` and the served ``viddiff_chat`` graph): the agent itself
(``agent``), its comparison memory (``memory``), how it is set up from the environment
(``setup``), what the terminal shows (``view``), and its LangChain tools: ``compare_tool``
(one whole comparison), ``stored_results`` (finished comparisons as the model reads them),
``video_tools`` (find a moment, measure a pose metric, list actions), ``stage_tool`` (localize
stages) and ``toolset`` (the set the agent gets)."""
