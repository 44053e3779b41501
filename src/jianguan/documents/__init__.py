"""执法文书: the one renderer of enforcement documents (DOCX and signed PDF), their numbering and settings."""
