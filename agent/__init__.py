"""The agent: a LangGraph graph of specialist nodes over the system's own tools."""
