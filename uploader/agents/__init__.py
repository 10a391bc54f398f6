"""What agent-uploader knows about the agents' transcripts: their line formats (session
metadata, timestamps, compaction markers), how their lines read as a conversation, titles,
and where each agent keeps its files.

May import: core.
"""
