"""The analyses over the database: RFM segments and their validation, category affinity, mention themes
(embedding, clustering, labels, sentiment, the two-level tree), links between themes and segments, briefs,
and the read model the TUI uses. They read and write SQLite through insight.core and never import ingest/."""
