"""The knowledge base: posts and documents chunked, embedded and kept in Chroma.

`indexer` is the handler that feeds it, `documents` adds and removes documents as
events, `search` answers queries, `reindex` moves it to another embedding model.
Chroma is imported only where a collection is opened, so importing this package
(every process does, to register the handler) stays cheap.
"""
