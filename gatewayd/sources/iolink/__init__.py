"""IO-Link devices read through an IO-Link master (Modbus TCP or JSON over HTTP), decoded
from each device's IODD."""
