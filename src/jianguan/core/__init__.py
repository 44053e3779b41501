"""Cross-cutting building blocks: errors, i18n, working days, the workflow engine, crypto, jobs."""
