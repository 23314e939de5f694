"""Nodes of the VidDiff graphs, one concern per module."""
