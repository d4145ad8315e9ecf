"""Siemens S7-300/400/1200/1500 PLCs over S7comm (ISO-on-TCP): DB, M, I and Q areas."""
