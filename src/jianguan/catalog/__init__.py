"""统一事项目录: supervision items, check points, checklists, the indicator system (issue 5)."""
