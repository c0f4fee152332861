"""Services: the only code that writes our models (HackSoft style: <entity>_<action>(*, ...))."""
