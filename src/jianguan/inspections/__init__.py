"""统一执法检查系统: plans, double-random draws, inspections."""
