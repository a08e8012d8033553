"""Writes a complaint to stderr and exits with status 3 before answering anything."""
import sys

sys.stderr.write("config file /etc/nowhere.conf not found\n")
sys.exit(3)
