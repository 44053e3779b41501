"""In-app notifications, and the scheduled-job plumbing that produces most of them."""
