"""The foundation every layer stands on: the database (one schema, its migrations), the clock, customer
identity, windows and scopes, redaction. It imports nothing else of insight's, ingest's or the TUI's."""
