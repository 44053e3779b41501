"""统一执法主体库: agencies (执法部门), officers, credentials, enforcement domains."""
