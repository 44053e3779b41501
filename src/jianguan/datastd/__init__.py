"""统一数据标准: the data-standard pages (字典: value domains, regions, industries) over ``reference``."""
