"""处罚办案: penalty cases (to come) and, first, the discretion benchmark engine (裁量基准)."""
