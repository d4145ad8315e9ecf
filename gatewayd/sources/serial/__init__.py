"""Serial instruments (kind "serial"): ASCII line or fixed binary frames over pyserial."""
