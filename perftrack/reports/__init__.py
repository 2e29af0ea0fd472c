"""
Reports: HTML, Markdown, JSON and CSV renderings of a tracker.
"""
