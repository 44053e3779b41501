"""统一业务协同中心: complaints and tips from the public, their routing and handling; joint tasks and
mutual recognition come next (issue 8)."""
