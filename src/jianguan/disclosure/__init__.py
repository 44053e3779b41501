"""一公开: publication records of inspection results (the public portal and appeals come later)."""
